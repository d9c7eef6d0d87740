import type { StaleRunOptions } from '../stale/stale-run-options.interface';
import type { EntitySyncConfig } from './entity-sync-config.interface';
import type { BatchSyncStats } from './sync-outcome.interface';

/** What `SyncService.syncStale` hands its work to (the stale feature, under ETLIFY_STALE_SYNCER). */
export interface StaleSyncer {
  syncStale(
    configs: EntitySyncConfig[],
    options: StaleRunOptions,
  ): Promise<BatchSyncStats>;
}
