import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type { QueueJobView } from './queue-inspector.interface';

/** Where a record stands for one CRM, most telling first (see SyncService.explain). */
export type ExplainState =
  | 'not_found'
  | 'delete_pending'
  | 'dead_lettered'
  | 'discarded'
  | 'skipped'
  | 'buffered'
  | 'queued'
  | 'error'
  | 'never_synced'
  | 'stale'
  | 'not_modified'
  | 'synced'
  | 'disabled';

export interface ExplainOptions {
  crm?: string;
  /** Read the record from the CRM and compare it with the payload (one CRM call). Default false. */
  remote?: boolean;
}

/** Why a synced record is out of date. */
export interface StaleReason {
  kind: 'own_change' | 'dependency' | 'serializer_version' | 'payload_differs';
  /** The relation, for `dependency`. */
  dependency?: string;
  changedAt?: Date;
}

/** A `syncDependencies` parent the record waits for. */
export interface WaitingOn {
  relation: string;
  entity: string;
  id: string;
}

/** One property that differs between the payload and the CRM's record. */
export interface PropertyDiff {
  property: string;
  local: CrmPayload[string];
  remote: CrmPayload[string] | undefined;
}

export interface SyncExplanation {
  crm: string;
  entity: string;
  id: string;
  state: ExplainState;
  /** The answer for people, in one sentence. */
  sentence: string;
  crmId: string | null;
  lastSyncedAt: Date | null;
  /** The raw `crm_synchronisations.state`, or null without a state row. */
  syncState: string | null;
  errorCount: number;
  maxSyncErrors: number;
  lastError: string | null;
  errorCategory: string | null;
  correlationId: string | null;
  discardReason: string | null;
  discardedAt: Date | null;
  /** Why the record differs from what the CRM has (empty when it does not). */
  staleReasons: StaleReason[];
  waitingOn: WaitingOn[];
  /** Jobs of this record in the queue now. */
  jobs: QueueJobView[];
  /** The payload the serializer produces now (no CRM call), when the record exists. */
  payload?: CrmPayload;
  /** The serializer failed: its message. */
  payloadError?: string;
  /** With `remote: true`. */
  remote?: {
    found: boolean;
    crmId?: string;
    diff: PropertyDiff[];
  };
}
