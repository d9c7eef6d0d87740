import {
  CrmAmbiguousWriteError,
  CrmError,
  CrmRateLimitError,
} from '../../errors/crm.error';
import { HUBSPOT_POLICY } from './hubspot.constants';

export interface HubspotRetrySettings {
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  lockedDelayMs: number;
  maxRateLimitWaits: number;
  /** Longer rate-limit / 477 waits are handed back to the caller instead of slept here. */
  maxInlineWaitMs?: number;
}

/** Retries and rate-limit waits already spent on one call. */
export interface RetryState {
  retries: number;
  rateLimitWaits: number;
}

export type RetryDecision =
  { retry: false } | { retry: true; delayMs: number; rateLimit: boolean };

/**
 * When to try a failed call again: 5xx, 423, timeouts and resets back off exponentially with
 * jitter up to `maxRetries`; a 429 or 477 waits for its window (Retry-After first) and never
 * spends that budget, unless the wait is longer than `maxInlineWaitMs`; DAILY, every other 4xx and
 * an ambiguous create (it may have been applied) are final.
 */
export class HubspotRetryPolicy {
  constructor(private readonly settings: HubspotRetrySettings) {}

  decide(error: CrmError, state: RetryState): RetryDecision {
    if (error instanceof CrmAmbiguousWriteError) return { retry: false };
    if (error instanceof CrmRateLimitError) {
      if (
        error.policy === HUBSPOT_POLICY.daily ||
        !error.retryable ||
        state.rateLimitWaits >= this.settings.maxRateLimitWaits ||
        (error.retryAfterMs ?? 0) >
          (this.settings.maxInlineWaitMs ?? Number.POSITIVE_INFINITY)
      ) {
        return { retry: false };
      }
      return { retry: true, delayMs: error.retryAfterMs ?? 0, rateLimit: true };
    }
    if (!error.retryable || state.retries >= this.settings.maxRetries) {
      return { retry: false };
    }
    const backoff = this.backoffMs(state.retries);
    const floor = error.category === 'LOCKED' ? this.settings.lockedDelayMs : 0;
    return {
      retry: true,
      delayMs: error.retryAfterMs ?? Math.max(floor, backoff),
      rateLimit: false,
    };
  }

  /** Equal jitter: half the exponential delay fixed, half random. */
  backoffMs(retries: number): number {
    const exp = Math.min(
      this.settings.retryMaxDelayMs,
      this.settings.retryBaseDelayMs * 2 ** retries,
    );
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }
}
