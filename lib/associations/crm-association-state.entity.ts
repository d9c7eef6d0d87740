import {
  Column,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ASSOCIATION_STATE_TABLE } from './association.constants';

/**
 * What the library last made true in the CRM for one association of one record: the CRM ids it
 * is associated with, the types, and the record's own CRM id at the time. An unchanged set costs
 * no call; a difference becomes one create and/or one archive (batched across records).
 */
@Entity({ name: ASSOCIATION_STATE_TABLE })
@Index(
  'UQ_crm_association_states_record',
  ['crmName', 'resourceType', 'resourceId', 'association'],
  { unique: true },
)
/** Records waiting for a target to get its CRM id are found by this index when targets sync. */
@Index('IDX_crm_association_states_pending', [
  'crmName',
  'resourceType',
  'association',
  'pending',
])
export class CrmAssociationState {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ name: 'crm_name', type: 'varchar', length: 64 })
  crmName!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 128 })
  resourceType!: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 64 })
  resourceId!: string;

  /** The relation the association is declared on. */
  @Column({ name: 'association', type: 'varchar', length: 128 })
  association!: string;

  /** The record's CRM id when the set was pushed (a merge changes it: the set is pushed again). */
  @Column({ name: 'from_crm_id', type: 'varchar', length: 64, nullable: true })
  fromCrmId!: string | null;

  /** JSON array of the target CRM ids, sorted: the association set as the CRM has it. */
  @Column({ name: 'to_crm_ids', type: 'text', nullable: true })
  toCrmIds!: string | null;

  /** The association types pushed (`category:typeId,…`); a new declaration pushes again. */
  @Column({ name: 'types', type: 'varchar', length: 255, nullable: true })
  types!: string | null;

  /** Targets without a CRM id yet (associated once they have one). */
  @Column({ name: 'pending', type: 'integer', default: 0 })
  pending!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Short lease while the set is being pushed, so two pushes of one record never interleave. */
  @Column({ name: 'lease_token', type: 'varchar', length: 64, nullable: true })
  leaseToken!: string | null;

  @Column({
    name: 'lease_expires_at',
    type: Date,
    precision: 3,
    nullable: true,
  })
  leaseExpiresAt!: Date | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
