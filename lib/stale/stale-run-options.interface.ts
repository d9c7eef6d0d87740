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

/** syncStale options beyond the public ones: used by the sweeper and the CLI. */
export interface StaleRunOptions extends SyncStaleOptions {
  /** Scan every row even when an incremental sweep would do (the backstop). */
  fullScan?: boolean;
  /** Count the stale records first so progress can show an ETA (one more query per entity). */
  countFirst?: boolean;
  onProgress?: (progress: StaleProgress) => void;
}
