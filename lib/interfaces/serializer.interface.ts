import type { CrmPayload } from './crm-payload.interface';

/**
 * Turns an entity into the CRM payload. Serializers are classes: resolved from DI when they are
 * providers, constructed once otherwise.
 */
export interface EtlifySerializer<T = any> {
  /** Bump to mark every record of this entity stale (targeted backfill after a mapping change). */
  readonly version?: number;
  toCrmPayload(entity: T): CrmPayload | Promise<CrmPayload>;
}
