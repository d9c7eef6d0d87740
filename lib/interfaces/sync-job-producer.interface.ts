import type { EntitySyncConfig } from './entity-sync-config.interface';

/** What SyncService needs from the queue: enqueue syncs by id (jobs carry identifiers only). */
export interface SyncJobProducer {
  enqueueMany(config: EntitySyncConfig, resourceIds: string[]): Promise<void>;
}
