/** Which budget a call draws from: HubSpot counts search apart from the 10-second window. */
export type RateBucket = 'standard' | 'search';

/** What a CRM response said about the remaining budget (e.g. X-HubSpot-RateLimit-* headers). */
export interface RateObservation {
  bucket: RateBucket;
  /** Calls left in the current interval, when the CRM said so. */
  remaining?: number;
  max?: number;
  intervalMs?: number;
  dailyRemaining?: number;
  daily?: number;
  /** The CRM rejected the call: wait this long before the next one in this bucket. */
  retryAfterMs?: number;
  /** HubSpot policy of a 429: TEN_SECONDLY_ROLLING, SECONDLY or DAILY. */
  policy?: string;
}

/**
 * A budget of CRM calls. `acquire` resolves when one call may be made now; it rejects with a
 * `CrmRateLimitError` (not retryable) when the daily quota is spent.
 */
export interface RateGovernor {
  acquire(bucket?: RateBucket): Promise<void>;
  observe(observation: RateObservation): Promise<void> | void;
  /** Current view of the budget, for summaries (calls made, quota left). */
  snapshot?(): Promise<RateGovernorSnapshot> | RateGovernorSnapshot;
  close?(): Promise<void> | void;
}

export interface RateGovernorSnapshot {
  callsMade: number;
  dailyRemaining?: number;
}
