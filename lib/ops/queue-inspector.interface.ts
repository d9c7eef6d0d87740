import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';

/** One job of a record in the queue, whatever the queue library. */
export interface QueueJobView {
  id: string;
  /** `sync` or `delete`. */
  name: string;
  /** `waiting`, `delayed`, `active`, `failed`, … as the queue reports it. */
  state: string;
  enqueuedAt: Date;
  attemptsMade: number;
  /** Delayed jobs: when they become due. */
  runAt?: Date;
  failedReason?: string;
}

/** How far behind the queue is. */
export interface QueueBacklog {
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
  /** Enqueue time of the oldest job waiting or running, or null when there is none. */
  oldestJobAt: Date | null;
}

/** Read-only view of the sync queue for explain, status and health. */
export interface SyncQueueInspector {
  readonly name: string;
  jobsOf(config: EntitySyncConfig, resourceId: string): Promise<QueueJobView[]>;
  backlog(): Promise<QueueBacklog>;
  /** Round trip to Redis within `timeoutMs`; resolves to false instead of throwing. */
  ping(timeoutMs: number): Promise<boolean>;
}
