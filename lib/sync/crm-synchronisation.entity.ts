import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { SYNC_STATE_TABLE } from '../etlify.constants';

/** Lifecycle of a record's sync for one CRM. */
export type CrmSyncState =
  | 'pending'
  | 'synced'
  | 'skipped'
  | 'error'
  | 'dead'
  | 'buffered'
  /** A dead letter an operator gave up on (`discardDeadLetter`); synced again once the record changes. */
  | 'discarded'
  /**
   * A tombstone: the record was deleted locally and its CRM record is to be deleted. The row keeps
   * the CRM id until the CRM delete succeeds; no sync pushes the record meanwhile.
   */
  | 'deleting';

/** State of a tombstone (see CrmSyncState). */
export const TOMBSTONE = 'deleting' satisfies CrmSyncState;

/**
 * One row per (CRM, entity type, record): the CRM id and the digest of the last payload sent.
 * Column types are chosen to behave the same on PostgreSQL, MySQL/MariaDB and SQLite.
 */
@Entity({ name: SYNC_STATE_TABLE })
@Index(
  'UQ_crm_synchronisations_record',
  ['crmName', 'resourceType', 'resourceId'],
  {
    unique: true,
  },
)
/** The incremental stale sweep reads state rows changed since its high-water mark. */
@Index('IDX_crm_synchronisations_updated', [
  'crmName',
  'resourceType',
  'updatedAt',
])
@Index('IDX_crm_synchronisations_synced', [
  'crmName',
  'resourceType',
  'lastSyncedAt',
])
export class CrmSynchronisation {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'crm_name', type: 'varchar', length: 64 })
  crmName!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 128 })
  resourceType!: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 64 })
  resourceId!: string;

  @Column({ name: 'crm_id', type: 'varchar', length: 64, nullable: true })
  crmId!: string | null;

  @Column({ name: 'last_digest', type: 'varchar', length: 128, nullable: true })
  lastDigest!: string | null;

  @Column({ name: 'last_synced_at', type: Date, precision: 3, nullable: true })
  lastSyncedAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'error_count', type: 'integer', default: 0 })
  errorCount!: number;

  /** `pending` | `synced` | `skipped` | `error` | `dead` | `buffered` | `discarded` | `deleting`. */
  @Column({ name: 'state', type: 'varchar', length: 16, default: 'pending' })
  state!: CrmSyncState;

  /** Serializer `version` the stored digest was computed with. */
  @Column({ name: 'serializer_version', type: 'integer', nullable: true })
  serializerVersion!: number | null;

  /** Short lease held while a CRM call is in flight (no DB lock is held across HTTP). */
  @Column({ name: 'lease_token', type: 'varchar', length: 64, nullable: true })
  leaseToken!: string | null;

  @Column({
    name: 'lease_expires_at',
    type: Date,
    precision: 3,
    nullable: true,
  })
  leaseExpiresAt!: Date | null;

  // Operations: what `explain` and the dead-letter list show about the last failure and a discard.

  /** `CrmError.category` of the last failure, or `LOCAL` for serializer and payload errors. */
  @Column({
    name: 'last_error_category',
    type: 'varchar',
    length: 32,
    nullable: true,
  })
  lastErrorCategory!: string | null;

  /** The CRM's id for the last failed request (HubSpot's correlation id). */
  @Column({
    name: 'last_correlation_id',
    type: 'varchar',
    length: 128,
    nullable: true,
  })
  lastCorrelationId!: string | null;

  @Column({ name: 'discard_reason', type: 'text', nullable: true })
  discardReason!: string | null;

  @Column({ name: 'discarded_at', type: Date, precision: 3, nullable: true })
  discardedAt!: Date | null;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
