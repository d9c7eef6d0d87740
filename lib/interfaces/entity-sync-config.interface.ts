import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { AssociationSpec } from '../associations/association-spec.interface';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import type { EtlifiedEntityOptions } from './etlified-entity-options.interface';
import type { EtlifySerializer } from './serializer.interface';

/** One @EtlifiedEntity declaration, resolved at boot against the DataSource and DI. */
export interface EntitySyncConfig<T = any> {
  target: Function;
  /** Value stored in `crm_synchronisations.resource_type` (the entity's class name). */
  resourceType: string;
  crm: string;
  options: EtlifiedEntityOptions<T>;
  serializer: EtlifySerializer<T>;
  /** Serializer `version`, or null when it declares none. */
  serializerVersion: number | null;
  metadata: EntityMetadata;
  primaryColumn: ColumnMetadata;
  /** The record's update timestamp (`@UpdateDateColumn` or `updatedAtColumn`), when there is one. */
  updatedAtColumn?: ColumnMetadata;
  /** `associations`, grouped per relation and checked at boot. */
  associations?: AssociationSpec[];
}
