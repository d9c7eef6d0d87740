import {
  CrmAmbiguousWriteError,
  CrmMigrationInProgressError,
  CrmRateLimitError,
  CrmTransportError,
  CrmValidationError,
} from '../../errors/crm.error';
import { HubspotRetryPolicy } from './hubspot-retry.policy';

const policy = new HubspotRetryPolicy({
  maxRetries: 3,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 1_000,
  lockedDelayMs: 2_000,
  maxRateLimitWaits: 2,
});
const fresh = { retries: 0, rateLimitWaits: 0 };

describe('HubspotRetryPolicy', () => {
  it('waits out TEN_SECONDLY and SECONDLY 429s as rate-limit waits, not retries', () => {
    const ten = new CrmRateLimitError('429', {
      policy: 'TEN_SECONDLY_ROLLING',
      retryAfterMs: 10_000,
    });
    expect(policy.decide(ten, { retries: 3, rateLimitWaits: 0 })).toEqual({
      retry: true,
      delayMs: 10_000,
      rateLimit: true,
    });
    const secondly = new CrmRateLimitError('429', {
      policy: 'SECONDLY',
      retryAfterMs: 1_000,
    });
    expect(policy.decide(secondly, fresh)).toMatchObject({ delayMs: 1_000 });
    expect(policy.decide(ten, { retries: 0, rateLimitWaits: 2 })).toEqual({
      retry: false,
    });
  });

  it('never retries DAILY or a 4xx', () => {
    const daily = new CrmRateLimitError('429', {
      policy: 'DAILY',
      retryAfterMs: 5_000,
    });
    expect(daily.retryable).toBe(false);
    expect(policy.decide(daily, fresh)).toEqual({ retry: false });
    expect(policy.decide(new CrmValidationError('400'), fresh)).toEqual({
      retry: false,
    });
  });

  it('backs off 5xx exponentially with jitter, bounded by maxRetries', () => {
    const error = new CrmTransportError('503', { status: 503 });
    for (let retries = 0; retries < 3; retries++) {
      const decision = policy.decide(error, { retries, rateLimitWaits: 0 });
      const exp = Math.min(1_000, 100 * 2 ** retries);
      expect(decision.retry).toBe(true);
      if (decision.retry) {
        expect(decision.delayMs).toBeGreaterThanOrEqual(exp / 2);
        expect(decision.delayMs).toBeLessThanOrEqual(exp);
      }
    }
    expect(policy.decide(error, { retries: 3, rateLimitWaits: 0 })).toEqual({
      retry: false,
    });
  });

  it('waits at least the lock time after a 423 and honours Retry-After', () => {
    const locked = new CrmTransportError('423', {
      status: 423,
      category: 'LOCKED',
    });
    expect(policy.decide(locked, fresh)).toMatchObject({ delayMs: 2_000 });
    const withRetryAfter = new CrmTransportError('503', {
      status: 503,
      retryAfterMs: 7_000,
    });
    expect(policy.decide(withRetryAfter, fresh)).toMatchObject({
      delayMs: 7_000,
    });
  });
});

describe('HubspotRetryPolicy: creates and long waits', () => {
  const policy = new HubspotRetryPolicy({
    maxRetries: 4,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 1_000,
    lockedDelayMs: 2_000,
    maxRateLimitWaits: 10,
    maxInlineWaitMs: 60_000,
  });
  const fresh = () => ({ retries: 0, rateLimitWaits: 0 });

  it('never repeats a create whose answer was lost', () => {
    expect(
      policy.decide(
        new CrmAmbiguousWriteError('lost', { retryable: true }),
        fresh(),
      ),
    ).toEqual({ retry: false });
  });

  it('waits out a short 477 like a rate limit, hands a long one back', () => {
    expect(
      policy.decide(
        new CrmMigrationInProgressError('477', { retryAfterMs: 5_000 }),
        fresh(),
      ),
    ).toEqual({ retry: true, delayMs: 5_000, rateLimit: true });
    expect(
      policy.decide(
        new CrmMigrationInProgressError('477', { retryAfterMs: 3_600_000 }),
        fresh(),
      ),
    ).toEqual({ retry: false });
  });
});
