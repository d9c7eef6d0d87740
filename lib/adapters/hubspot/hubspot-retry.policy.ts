import { CrmError, CrmRateLimitError } from '../../errors/crm.error';
import { HUBSPOT_POLICY } from './hubspot.constants';

export interface HubspotRetrySettings {
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  lockedDelayMs: number;
  maxRateLimitWaits: number;
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
 * jitter up to `maxRetries`; a 429 waits for its window (Retry-After first) and never spends that
 * budget; DAILY and every other 4xx are final.
 */
export class HubspotRetryPolicy {
  constructor(private readonly settings: HubspotRetrySettings) {}

  decide(error: CrmError, state: RetryState): RetryDecision {
    if (error instanceof CrmRateLimitError) {
      if (
        error.policy === HUBSPOT_POLICY.daily ||
        !error.retryable ||
        state.rateLimitWaits >= this.settings.maxRateLimitWaits
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
