import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { STALE_SWEEP_TABLE } from '../etlify.constants';

/**
 * One row per (CRM, entity type): where the last incremental sweep stopped (its high-water mark),
 * the serializer version it ran with and when the last full scan ended. One extra row serves as
 * the sweeper's lease when no Redis queue is configured.
 */
@Entity({ name: STALE_SWEEP_TABLE })
export class EtlifyStaleSweep {
  /** `<crm>:<resource type>`, or the lock key. */
  @PrimaryColumn({ name: 'sweep_key', type: 'varchar', length: 200 })
  sweepKey!: string;

  /** Records changed after this instant are the candidates of the next incremental sweep. */
  @Column({ name: 'high_water_mark', type: Date, precision: 3, nullable: true })
  highWaterMark!: Date | null;

  @Column({ name: 'serializer_version', type: 'integer', nullable: true })
  serializerVersion!: number | null;

  @Column({ name: 'full_scan_at', type: Date, precision: 3, nullable: true })
  fullScanAt!: Date | null;

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
