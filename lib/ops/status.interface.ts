import type { QueueBacklog } from './queue-inspector.interface';

/** One entity in one CRM: its state rows by state, dead letters and the oldest stale record. */
export interface EntityStatus {
  entity: string;
  /** State rows per `crm_synchronisations.state` (pending, synced, skipped, error, dead, buffered, discarded). */
  states: Record<string, number>;
  deadLetters: number;
  /** Since when the oldest stale record waits (null: none stale; undefined: not computed). */
  oldestStaleAt?: Date | null;
  oldestStaleAgeMs?: number | null;
}

export interface CrmStatus {
  name: string;
  enabled: boolean;
  /** Daily quota left, when the rate governor knows it. */
  dailyQuotaLeft: number | null;
  entities: EntityStatus[];
}

/** A finished run as `status` shows it. */
export interface RunSummary {
  kind: string;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
  status: string;
  total: number;
  synced: number;
  notModified: number;
  skipped: number;
  enqueued: number;
  errors: number;
  crmCalls: number;
}

export interface EtlifyStatus {
  at: Date;
  crms: CrmStatus[];
  deadLetters: number;
  /** Oldest stale age over every entity (when computed). */
  oldestStaleAgeMs?: number | null;
  queue:
    | (QueueBacklog & {
        name: string;
        reachable: boolean;
        oldestJobAgeMs: number | null;
      })
    | null;
  lastSweep: RunSummary | null;
  runs: RunSummary[];
}

export interface StatusOptions {
  /** Compute each entity's oldest stale record (one query per entity). Default true. */
  stale?: boolean;
  /** How many recent runs to include. Default 5. */
  runs?: number;
}
