import { RollingWindow } from '../../rate/rolling-window.util';
import type { SandboxRatePolicy } from './sandbox-options.interface';

export interface RateLimits {
  tenSecondLimit: number;
  dailyLimit: number;
  searchPerSecond: number;
}

/** Where days start and end: the portal's midnight (see PortalClock). */
export interface RateCalendar {
  dayOf(at: number): number;
  nextMidnight(at: number): number;
}

/** What `GET /account-info/v3/api-usage/daily/private-apps` reports for a token. */
export interface DailyUsage {
  usageLimit: number;
  currentUsage: number;
  resetsAt: number;
}

export interface RateDecision {
  /** Set when the call is refused. */
  policy?: SandboxRatePolicy;
  /** Seconds until a refused call could pass. */
  retryAfterSeconds?: number;
  /** Headers HubSpot sends on non-search calls. */
  headers: Record<string, string>;
}

const TEN_SECONDS = 10_000;
const ONE_SECOND = 1_000;

interface TokenBudget {
  tenSecond: RollingWindow;
  search: RollingWindow;
  day: number;
  dayCount: number;
}

/**
 * HubSpot's per-token limits: a rolling 10 s bucket, a daily quota (reset at the portal's midnight,
 * not UTC's) and a
 * separate per-second search bucket. Refused calls consume nothing, so a client that backs off
 * correctly always gets through after the window slides.
 */
export class SandboxRateLimiter {
  private readonly budgets = new Map<string, TokenBudget>();

  constructor(
    private readonly limits: RateLimits,
    private readonly calendar: RateCalendar = UTC_CALENDAR,
  ) {}

  /**
   * Charges one call, or refuses it. `exemptFromDaily` calls (account-info, how a client learns
   * when the quota resets) neither count toward nor stop at the daily quota, but use the 10 s bucket.
   */
  check(
    token: string,
    isSearch: boolean,
    now: number,
    exemptFromDaily = false,
  ): RateDecision {
    const budget = this.budget(token, now);
    const usedDaily = budget.dayCount;
    if (usedDaily >= this.limits.dailyLimit && !exemptFromDaily) {
      const midnight = this.calendar.nextMidnight(now);
      return {
        policy: 'DAILY',
        retryAfterSeconds: Math.ceil((midnight - now) / 1000),
        headers: isSearch ? {} : this.headers(budget, now),
      };
    }
    if (isSearch) {
      if (budget.search.used(now) >= this.limits.searchPerSecond) {
        return {
          policy: 'SECONDLY',
          retryAfterSeconds: Math.max(
            1,
            Math.ceil(budget.search.msUntilFree(now) / 1000),
          ),
          headers: {},
        };
      }
      budget.search.add(now);
      budget.dayCount++;
      return { headers: {} };
    }
    if (budget.tenSecond.used(now) >= this.limits.tenSecondLimit) {
      return {
        policy: 'TEN_SECONDLY_ROLLING',
        retryAfterSeconds: Math.max(
          1,
          Math.ceil(budget.tenSecond.msUntilFree(now) / 1000),
        ),
        headers: this.headers(budget, now),
      };
    }
    budget.tenSecond.add(now);
    if (!exemptFromDaily) budget.dayCount++;
    return { headers: this.headers(budget, now) };
  }

  /** Headers the token would see now, without charging a call (for scripted faults). */
  peekHeaders(token: string, now: number): Record<string, string> {
    return this.headers(this.budget(token, now), now);
  }

  /** The token's daily usage and the instant its quota resets. */
  usage(token: string, now: number): DailyUsage {
    return {
      usageLimit: this.limits.dailyLimit,
      currentUsage: this.budget(token, now).dayCount,
      resetsAt: this.calendar.nextMidnight(now),
    };
  }

  reset(): void {
    this.budgets.clear();
  }

  private budget(token: string, now: number): TokenBudget {
    const day = this.calendar.dayOf(now);
    let budget = this.budgets.get(token);
    if (!budget) {
      budget = {
        tenSecond: new RollingWindow(TEN_SECONDS),
        search: new RollingWindow(ONE_SECOND),
        day,
        dayCount: 0,
      };
      this.budgets.set(token, budget);
    }
    if (budget.day !== day) {
      budget.day = day;
      budget.dayCount = 0;
    }
    return budget;
  }

  private headers(budget: TokenBudget, now: number): Record<string, string> {
    const used = budget.tenSecond.used(now);
    return {
      'X-HubSpot-RateLimit-Max': String(this.limits.tenSecondLimit),
      'X-HubSpot-RateLimit-Remaining': String(
        Math.max(0, this.limits.tenSecondLimit - used),
      ),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(TEN_SECONDS),
      'X-HubSpot-RateLimit-Daily': String(this.limits.dailyLimit),
      'X-HubSpot-RateLimit-Daily-Remaining': String(
        Math.max(0, this.limits.dailyLimit - budget.dayCount),
      ),
    };
  }
}

const UTC_CALENDAR: RateCalendar = {
  dayOf: (at) => Math.floor(at / 86_400_000),
  nextMidnight: (at) => (Math.floor(at / 86_400_000) + 1) * 86_400_000,
};

export function rateLimitMessage(policy: SandboxRatePolicy): string {
  const name =
    policy === 'TEN_SECONDLY_ROLLING'
      ? 'ten_secondly_rolling'
      : policy === 'SECONDLY'
        ? 'secondly'
        : 'daily';
  return `You have reached your ${name} limit.`;
}
