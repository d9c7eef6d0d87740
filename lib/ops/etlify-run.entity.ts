import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { RUN_HISTORY_TABLE } from './ops.constants';

/** One stale sweep or CLI run: when, what it did, how many CRM calls and errors. */
@Entity({ name: RUN_HISTORY_TABLE })
@Index('IDX_etlify_runs_started', ['startedAt'])
export class EtlifyRun {
  @PrimaryGeneratedColumn()
  id!: number;

  /** `sweep`, or `cli:<command>` (e.g. `cli:sync-stale`). */
  @Column({ name: 'kind', type: 'varchar', length: 64 })
  kind!: string;

  @Column({ name: 'started_at', type: Date, precision: 3 })
  startedAt!: Date;

  @Column({ name: 'finished_at', type: Date, precision: 3 })
  finishedAt!: Date;

  /** `ok`, `errors` (some records failed) or `failed` (the run itself threw). */
  @Column({ name: 'status', type: 'varchar', length: 16 })
  status!: string;

  @Column({ name: 'total', type: 'integer', default: 0 })
  total!: number;

  @Column({ name: 'synced', type: 'integer', default: 0 })
  synced!: number;

  @Column({ name: 'not_modified', type: 'integer', default: 0 })
  notModified!: number;

  @Column({ name: 'skipped', type: 'integer', default: 0 })
  skipped!: number;

  @Column({ name: 'enqueued', type: 'integer', default: 0 })
  enqueued!: number;

  @Column({ name: 'errors', type: 'integer', default: 0 })
  errors!: number;

  @Column({ name: 'crm_calls', type: 'integer', default: 0 })
  crmCalls!: number;

  /** Per-entity figures, or the error of a failed run (JSON text). */
  @Column({ name: 'details', type: 'text', nullable: true })
  details!: string | null;
}
