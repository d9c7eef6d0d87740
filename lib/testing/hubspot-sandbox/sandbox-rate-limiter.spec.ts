import { SandboxRateLimiter } from './sandbox-rate-limiter';

describe('SandboxRateLimiter', () => {
  const day = Date.UTC(2026, 0, 1);
  const limiter = () =>
    new SandboxRateLimiter({
      tenSecondLimit: 3,
      dailyLimit: 5,
      searchPerSecond: 2,
    });

  it('rolls the 10 s window and does not charge refused calls', () => {
    const l = limiter();
    for (const t of [0, 1_000, 2_000])
      expect(l.check('t', false, day + t).policy).toBeUndefined();
    const refused = l.check('t', false, day + 5_000);
    expect(refused).toMatchObject({
      policy: 'TEN_SECONDLY_ROLLING',
      retryAfterSeconds: 5,
    });
    expect(refused.headers['X-HubSpot-RateLimit-Remaining']).toBe('0');
    expect(l.check('t', false, day + 9_999).policy).toBe(
      'TEN_SECONDLY_ROLLING',
    );
    const next = l.check('t', false, day + 10_000);
    expect(next.policy).toBeUndefined();
    expect(next.headers['X-HubSpot-RateLimit-Daily-Remaining']).toBe('1');
  });

  it('keeps search in its own per-second bucket, without headers', () => {
    const l = limiter();
    expect(l.check('t', true, day)).toEqual({ headers: {} });
    expect(l.check('t', true, day + 10).policy).toBeUndefined();
    expect(l.check('t', true, day + 20).policy).toBe('SECONDLY');
    expect(
      l.check('t', false, day + 30).headers['X-HubSpot-RateLimit-Remaining'],
    ).toBe('2');
    expect(l.check('t', true, day + 1_001).policy).toBeUndefined();
  });

  it('enforces the daily quota until the next UTC day, per token', () => {
    const l = new SandboxRateLimiter({
      tenSecondLimit: 100,
      dailyLimit: 2,
      searchPerSecond: 5,
    });
    l.check('t', false, day);
    l.check('t', true, day + 1);
    const refused = l.check('t', false, day + 2);
    expect(refused.policy).toBe('DAILY');
    expect(refused.retryAfterSeconds).toBe(86_400);
    expect(l.check('other', false, day + 3).policy).toBeUndefined();
    expect(l.check('t', false, day + 86_400_000).policy).toBeUndefined();
  });
});
