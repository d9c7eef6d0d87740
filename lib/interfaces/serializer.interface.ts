import type {
  CrmPropertyGroup,
  EtlifyPropertySchemas,
} from '../schema/crm-property.interface';
import type { CrmPayload } from './crm-payload.interface';

/**
 * Turns an entity into the CRM payload. Serializers are classes: resolved from DI when they are
 * providers, constructed once otherwise.
 */
export interface EtlifySerializer<T = any> {
  /** Bump to mark every record of this entity stale (targeted backfill after a mapping change). */
  readonly version?: number;
  /**
   * The CRM properties this serializer writes, with their types: `etlify sync-properties`
   * creates the missing ones from it, and `nulls` sets a property's null handling.
   */
  readonly crmProperties?: EtlifyPropertySchemas;
  /** Group `sync-properties` creates properties in. Default `{ name: 'etlify', label: 'Etlify' }`. */
  readonly crmPropertyGroup?: CrmPropertyGroup;
  toCrmPayload(
    entity: T,
    context?: SerializeContext,
  ): CrmPayload | Promise<CrmPayload>;
}

/** What the sync knows when it calls a serializer. */
export interface SerializeContext {
  /** Name of the CRM this payload is for. */
  crm: string;
  /**
   * CRM id (in this CRM) of a record named by `syncDependencies`, resolved before the call;
   * null when it has none yet or is not one of them. Use `SyncService.crmIdOf` for any other record.
   */
  crmIdOf(related: object | null | undefined): string | null;
}
