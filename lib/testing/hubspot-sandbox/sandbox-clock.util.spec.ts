import { PortalClock } from './sandbox-clock.util';

describe('PortalClock', () => {
  const clock = (tz: string, offset?: number) =>
    new PortalClock(tz, offset, () => 0);

  it('resets at midnight in the portal zone, DST included', () => {
    const la = clock('America/Los_Angeles');
    // 2026-01-15 20:00 UTC is 12:00 PST (UTC-8): the reset is 08:00 UTC the next day.
    const winter = Date.UTC(2026, 0, 15, 20);
    expect(la.offsetMs(winter)).toBe(-8 * 3_600_000);
    expect(new Date(la.nextMidnight(winter)).toISOString()).toBe(
      '2026-01-16T08:00:00.000Z',
    );
    // In July it is PDT (UTC-7).
    const summer = Date.UTC(2026, 6, 15, 20);
    expect(new Date(la.nextMidnight(summer)).toISOString()).toBe(
      '2026-07-16T07:00:00.000Z',
    );
    expect(la.offsetLabel(summer)).toBe('-07:00');
    // 00:30 UTC is still the previous portal day.
    expect(la.dayOf(Date.UTC(2026, 0, 16, 0, 30))).toBe(
      la.dayOf(Date.UTC(2026, 0, 15, 12)),
    );
  });

  it('supports a fixed offset and refuses unknown zones', () => {
    const fixed = clock('Etc/GMT+5', -300);
    expect(
      new Date(fixed.nextMidnight(Date.UTC(2026, 2, 1, 3))).toISOString(),
    ).toBe('2026-03-01T05:00:00.000Z');
    expect(() => clock('Mars/Olympus')).toThrow(/not an IANA time zone/);
    expect(() => clock('UTC', 2_000)).toThrow(/utcOffsetMinutes/);
  });
});
