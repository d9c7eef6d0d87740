import type { BatchSyncStats } from '../interfaces/sync-outcome.interface';

/** Which record an event is about. */
export interface EtlifyRecordEvent {
  crm: string;
  /** Entity class name (the `resource_type` of the sync state). */
  entity: string;
  /** Primary key, as text. */
  id: string;
}

/** `etlify.synced`: the CRM accepted the record. */
export interface EtlifySyncedEvent extends EtlifyRecordEvent {
  crmId: string;
  /** True when the record had no CRM id before this sync. */
  created: boolean;
  at: Date;
}

/** `etlify.not_modified`: the payload's digest matched the last one sent; no CRM call. */
export interface EtlifyNotModifiedEvent extends EtlifyRecordEvent {
  crmId: string | null;
}

/** `etlify.failed` (and, with the same shape, `etlify.dead_lettered`). */
export interface EtlifyFailedEvent extends EtlifyRecordEvent {
  /** The error message (credentials redacted). */
  error: string;
  /** `CrmError.category` (`VALIDATION`, `RATE_LIMIT`, …), or `LOCAL` for serializer and payload errors. */
  category: string;
  /** HTTP status the CRM answered, when there was one. */
  status?: number;
  /** The CRM's id for the failed request (HubSpot's `X-HubSpot-Correlation-Id`): quote it to support. */
  correlationId?: string;
  /** Consecutive counted errors of the record after this one. */
  errorCount: number;
  /** Whether this failure counted toward `maxSyncErrors` (rate limits do not). */
  counted: boolean;
  /** True when the record is now dead-lettered. */
  deadLettered: boolean;
  crmId: string | null;
  at: Date;
}

export type EtlifyDeadLetteredEvent = EtlifyFailedEvent;

/** `etlify.rate_limited`: the CRM refused a call for budget reasons; the record is retried later. */
export interface EtlifyRateLimitedEvent extends EtlifyRecordEvent {
  retryAfterMs?: number;
  /** HubSpot's policy name (TEN_SECONDLY_ROLLING, SECONDLY, DAILY) when known. */
  policy?: string;
  correlationId?: string;
  at: Date;
}

/** `etlify.deleted`: a record's CRM copy was deleted (or was already gone). */
export interface EtlifyDeletedEvent extends EtlifyRecordEvent {
  crmId: string;
  /** False when the CRM no longer had the record. */
  existed: boolean;
  at: Date;
}

/** `etlify.sweep_finished`: one stale sweep (cron or `sweeper.runOnce`) ended. */
export interface EtlifySweepFinishedEvent {
  startedAt: Date;
  finishedAt: Date;
  stats: BatchSyncStats;
}

/** Event name → payload, for typed listeners. */
export interface EtlifyEventMap {
  'etlify.synced': EtlifySyncedEvent;
  'etlify.not_modified': EtlifyNotModifiedEvent;
  'etlify.failed': EtlifyFailedEvent;
  'etlify.dead_lettered': EtlifyDeadLetteredEvent;
  'etlify.rate_limited': EtlifyRateLimitedEvent;
  'etlify.deleted': EtlifyDeletedEvent;
  'etlify.sweep_finished': EtlifySweepFinishedEvent;
}
