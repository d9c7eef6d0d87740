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
}

export interface DeleteOutcome {
  crm: string;
  status: 'deleted' | 'noop' | 'disabled' | 'not_found';
}

export interface BatchSyncStats {
  total: number;
  perEntity: Record<string, number>;
  errors: number;
}
