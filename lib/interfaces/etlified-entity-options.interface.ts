import type { Type } from '@nestjs/common';
import type { EtlifyEntityHooks } from './etlify-entity-hooks.interface';
import type { EtlifyAssociationOptions } from '../associations/association-options.interface';
import type { NullHandling } from '../schema/crm-property.interface';
import type { EtlifySerializer } from './serializer.interface';

export interface EtlifiedEntityOptions<T = any> {
  /** Name of a CRM declared in `EtlifyModule.forRoot({ crms })`. */
  crm: string;
  /** Serializer class; resolved from DI when it is a provider, else constructed once. */
  serializer: Type<EtlifySerializer<T>>;
  /** CRM object type: `contacts`, `companies`, or a custom object name. */
  crmObjectType: string;
  /** CRM property used to find the record the first time (e.g. `email`). */
  idProperty?: string;
  /** `false` => the record is `skipped` (no CRM call). */
  syncIf?: (entity: T) => boolean;
  /** Relations whose changes make this record stale. */
  dependencies?: string[];
  /** Relations that must exist in the CRM first. */
  syncDependencies?: string[];
  /** Column holding the record's last update time, when it is not an `@UpdateDateColumn`. */
  updatedAtColumn?: string;
  /** What a soft delete does in the CRM: `delete` (default) or `ignore`. */
  onSoftRemove?: 'delete' | 'ignore';
  /**
   * Property of a column that receives the record's CRM id after each sync. Written without
   * touching the update timestamp and without TypeORM listeners, so it triggers no other sync.
   */
  crmIdColumn?: string;
  /** `afterSync` / `onError` callbacks (an injectable class implementing EtlifyEntityHooks). */
  hooks?: Type<EtlifyEntityHooks<T>>;
  /**
   * CRM associations from the records of relations (see "Associations" in the README). A
   * many-to-one association relation is a `syncDependencies` entry too.
   */
  associations?: EtlifyAssociationOptions[];
  /**
   * What a `null` in the payload does: `clear` (default) sends "" and clears the CRM value;
   * `omit` leaves it as it is. A property's `nulls` in the serializer's `crmProperties` wins.
   */
  nulls?: NullHandling;
  /**
   * How long `toCrmPayload` may take for one record, in ms; past it the record fails with
   * `SerializerTimeoutError` and the others go on. Default: the module's `serializerTimeoutMs` (10000).
   */
  serializerTimeoutMs?: number;
}
