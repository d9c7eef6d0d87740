import type { EntitySyncConfig } from './entity-sync-config.interface';

/**
 * What the rest of the library needs from the queue: enqueue syncs and deletes by id.
 * Jobs carry identifiers only (never payloads or tokens); the payload is recomputed when the job runs.
 */
export interface SyncJobProducer {
  /** One sync job per record; a record already waiting in the queue is not queued twice. */
  enqueueMany(
    config: EntitySyncConfig,
    resourceIds: string[],
    options?: { delayMs?: number },
  ): Promise<void>;
  /** Delete jobs; the processor reads the CRM id from the state row, which outlives the entity row. */
  enqueueDeletes(config: EntitySyncConfig, resourceIds: string[]): Promise<void>;
}
