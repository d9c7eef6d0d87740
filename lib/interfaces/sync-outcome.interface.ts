export type SyncStatus =
  | 'synced'
  | 'not_modified'
  | 'skipped'
  | 'buffered'
  | 'disabled'
  | 'enqueued'
  | 'error';

export interface SyncOutcome {
  crm: string;
  status: SyncStatus;
  crmId?: string;
  error?: string;
  /** On `error`: the CRM asked us to wait this long before trying again (rate limits). */
  retryAfterMs?: number;
  /**
   * On `error`: whether the failure counted toward the dead letter (`false` for rate limits, a
   * concurrent sync holding the record, or a CRM answer that says "try again").
   */
  counted?: boolean;
  /** On `error`: the record is dead-lettered now (`retryDeadLetters()` brings it back). */
  deadLettered?: boolean;
}

export interface DeleteOutcome {
  crm: string;
  status: 'deleted' | 'noop' | 'disabled' | 'not_found';
}

export interface BatchSyncStats {
  total: number;
  perEntity: Record<string, number>;
  errors: number;
  /** Records pushed to the CRM (syncStale inline). */
  synced?: number;
  /** Of `synced`: records the CRM did not have an id for yet. */
  created?: number;
  /** Of `synced`: records updated by their stored CRM id. */
  updated?: number;
  /** Digest unchanged: no CRM call. */
  notModified?: number;
  /** `syncIf` said no. */
  skipped?: number;
  /** Jobs queued (syncStale async). */
  enqueued?: number;
  /** The CRM is disabled. */
  disabled?: number;
  /** Dry run: records that would be created / updated in the CRM. */
  wouldCreate?: number;
  wouldUpdate?: number;
  /** CRM calls the run made (from the rate governor when there is one, else counted per batch). */
  crmCalls?: number;
  /** Daily CRM quota left after the run, when the rate governor knows it. */
  dailyQuotaLeft?: number;
  /** Per CRM and entity, how the records were found (`full` or `incremental` scan) and what happened. */
  details?: StaleSweepEntityStats[];
}

/** syncStale: the figures of one entity for one CRM. */
export interface StaleSweepEntityStats {
  crm: string;
  entity: string;
  scan: 'full' | 'incremental';
  found: number;
  synced: number;
  created: number;
  updated: number;
  notModified: number;
  skipped: number;
  errors: number;
  enqueued: number;
  disabled: number;
  wouldCreate: number;
  wouldUpdate: number;
}
