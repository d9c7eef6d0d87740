/** A record dead-lettered after `maxSyncErrors` consecutive errors. */
export interface DeadLetter {
  crm: string;
  entity: string;
  id: string;
  crmId: string | null;
  errorCount: number;
  lastError: string | null;
  /** `CrmError.category` of the last error, or `LOCAL` (serializer, payload). */
  category: string | null;
  correlationId: string | null;
  lastSyncedAt: Date | null;
  /** When the last error was recorded. */
  failedAt: Date;
}

/** One page of a list; pass `next` as `after` to get the following page. */
export interface Page<T> {
  items: T[];
  /** Cursor of the next page, or null on the last one. */
  next: string | null;
  /** How many match the filter in all. */
  total: number;
}

export interface DeadLetterQuery {
  crm?: string;
  /** Entity classes (or names). */
  entities?: Array<Function | string>;
  /** Only this error category (e.g. `VALIDATION`, `AUTHENTICATION`, `LOCAL`). */
  category?: string;
  /** Page size; default 50, at most 1000. */
  limit?: number;
  /** Cursor from the previous page's `next`. */
  after?: string;
}
