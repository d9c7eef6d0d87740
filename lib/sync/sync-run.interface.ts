import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import type { SyncContext } from './dependency-gate.service';

/**
 * Work a sync leaves for whoever ran it: records to sync next (parents a record waits for, or
 * dependants a parent's sync released). Inline runs do it at once; queued runs enqueue it.
 */
export interface SyncFollowUp {
  config: EntitySyncConfig;
  resourceIds: string[];
}

export interface SyncRunResult {
  /** One per entity, in the order given. */
  outcomes: SyncOutcome[];
  followUps: SyncFollowUp[];
}

export interface SyncRunOptions {
  /** `inline` (default): follow-ups are synced now. `return`: they are handed back to the caller. */
  followUps?: 'inline' | 'return';
  context?: SyncContext;
}
