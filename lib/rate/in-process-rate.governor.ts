import type {
  RateBucket,
  RateGovernor,
  RateGovernorSnapshot,
  RateObservation,
} from '../interfaces/rate-governor.interface';
import {
  DEFAULT_SEARCH_PER_SECOND,
  SEARCH_INTERVAL_MS,
} from './rate.constants';
import { RollingWindow } from './rolling-window.util';
import type { RateGovernorOptions } from './rate-governor-options.interface';
import {
  assertRateOptions,
  dailyQuotaError,
  msUntilUtcMidnight,
  safetyMarginMs,
  utcDay,
  withJitter,
} from './rate-governor.util';
import { sleep } from '../util/sleep.util';

/** A rolling window with the limit currently in force (the CRM's headers may correct it). */
class SlidingWindow extends RollingWindow {
  constructor(
    public limit: number,
    windowMs: number,
  ) {
    super(windowMs);
  }

  waitMs(now: number): number {
    return this.msUntilRoom(this.limit, now);
  }
}

/**
 * A call budget for one process: a rolling window for regular calls, a per-second window for
 * search and an optional daily quota, corrected by what the CRM reports (`observe`).
 * Use `RedisRateGovernor` when several processes share one CRM account.
 */
export class InProcessRateGovernor implements RateGovernor {
  private readonly windows: Record<RateBucket, SlidingWindow>;
  private readonly blockedUntil: Record<RateBucket, number> = {
    standard: 0,
    search: 0,
  };
  private dailyBlockedUntil = 0;
  private day = '';
  private dayCount = 0;
  private dailyRemaining?: number;
  private callsMade = 0;

  constructor(private readonly options: RateGovernorOptions) {
    assertRateOptions(options);
    const margin = safetyMarginMs(options);
    this.windows = {
      standard: new SlidingWindow(
        options.maxRequests,
        options.intervalMs + margin,
      ),
      search: new SlidingWindow(
        options.searchPerSecond ?? DEFAULT_SEARCH_PER_SECOND,
        SEARCH_INTERVAL_MS + Math.min(margin, SEARCH_INTERVAL_MS / 5),
      ),
    };
  }

  async acquire(bucket: RateBucket = 'standard'): Promise<void> {
    for (;;) {
      const wait = this.tryAcquire(bucket, Date.now());
      if (wait === 0) return;
      await sleep(withJitter(wait));
    }
  }

  observe(o: RateObservation): void {
    const now = Date.now();
    const window = this.windows[o.bucket];
    if (o.dailyRemaining !== undefined) this.dailyRemaining = o.dailyRemaining;
    if (o.policy === 'DAILY' || o.dailyRemaining === 0) {
      this.dailyBlockedUntil =
        now + (o.retryAfterMs ?? msUntilUtcMidnight(now));
      return;
    }
    if (o.retryAfterMs !== undefined && o.retryAfterMs > 0) {
      this.blockedUntil[o.bucket] = Math.max(
        this.blockedUntil[o.bucket],
        now + o.retryAfterMs,
      );
    }
    if (this.options.learnLimitFromHeaders && o.max && o.max > 0) {
      window.limit = o.max;
    }
    if (o.remaining !== undefined) {
      // The CRM saw more calls than we granted (another client on the token): count them too.
      const crmUsed = window.limit - o.remaining;
      const ours = window.used(now);
      if (crmUsed > ours) window.add(now, crmUsed - ours);
    }
  }

  snapshot(): RateGovernorSnapshot {
    return { callsMade: this.callsMade, dailyRemaining: this.dailyRemaining };
  }

  /** 0 when the call is granted (and counted), else ms to wait; throws when the day is spent. */
  private tryAcquire(bucket: RateBucket, now: number): number {
    if (this.dailyBlockedUntil > now) {
      throw dailyQuotaError(this.dailyBlockedUntil - now);
    }
    const today = utcDay(now);
    if (today !== this.day) {
      this.day = today;
      this.dayCount = 0;
    }
    if (
      this.options.dailyLimit !== undefined &&
      this.dayCount >= this.options.dailyLimit
    ) {
      throw dailyQuotaError(msUntilUtcMidnight(now));
    }
    const blocked = this.blockedUntil[bucket] - now;
    if (blocked > 0) return blocked;
    const wait = this.windows[bucket].waitMs(now);
    if (wait > 0) return wait;
    this.windows[bucket].add(now);
    this.dayCount++;
    this.callsMade++;
    return 0;
  }
}
