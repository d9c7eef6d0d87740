import { CrmRateLimitError } from '../errors/crm.error';
import {
  DEFAULT_RATE_SAFETY_MARGIN_MS,
  ONE_DAY_MS,
  RATE_SAFETY_MARGIN_RATIO,
  RATE_WAIT_JITTER_MS,
} from './rate.constants';
import type { RateGovernorOptions } from './rate-governor-options.interface';

/** Ms until the next UTC midnight (HubSpot resets at the portal's midnight, which we cannot know). */
export function msUntilUtcMidnight(now: number): number {
  return (Math.floor(now / ONE_DAY_MS) + 1) * ONE_DAY_MS - now;
}

/** `YYYY-MM-DD` of `now` in UTC: names the daily counter. */
export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

export function safetyMarginMs(options: RateGovernorOptions): number {
  return (
    options.safetyMarginMs ??
    Math.min(
      DEFAULT_RATE_SAFETY_MARGIN_MS,
      Math.round(options.intervalMs * RATE_SAFETY_MARGIN_RATIO),
    )
  );
}

export function withJitter(ms: number): number {
  return ms + Math.floor(Math.random() * RATE_WAIT_JITTER_MS);
}

export function dailyQuotaError(retryAfterMs: number): CrmRateLimitError {
  return new CrmRateLimitError(
    `Daily CRM API quota spent; calls resume in ${Math.ceil(retryAfterMs / 60_000)} min`,
    { policy: 'DAILY', retryable: false, retryAfterMs },
  );
}

/** Rejects options that would make a governor spin or never grant a call. */
export function assertRateOptions(options: RateGovernorOptions): void {
  for (const key of ['maxRequests', 'intervalMs'] as const) {
    const value = options[key];
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(
        `rateLimit.${key} must be a positive number, got ${String(value)}`,
      );
    }
  }
}
