import type { SyncStaleOptions } from '../sync/sync.service';

/** Where a running syncStale is, reported after every page. */
export interface StaleProgress {
  crm: string;
  entity: string;
  /** Records handled so far in this run, every entity together. */
  processed: number;
  /** Stale records counted before the run (only with `countFirst`). */
  total?: number;
}

/** syncStale options as the sweeper and the CLI use them (all public now). */
export type StaleRunOptions = SyncStaleOptions;
