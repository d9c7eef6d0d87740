import {
  msUntilOffsetMidnight,
  resetFromUsage,
} from './hubspot-daily-reset.util';

describe("the portal's daily reset", () => {
  it("is resetsAt − collectedAt of the usage answer, whatever this machine's clock says", () => {
    const body = {
      results: [
        {
          name: 'api-calls-daily',
          usageLimit: 625000,
          currentUsage: 625000,
          collectedAt: '2031-03-04T07:59:20.000Z',
          resetsAt: '2031-03-04T08:00:00.000Z',
        },
      ],
    };
    expect(resetFromUsage(body)).toBe(40_000);
    expect(resetFromUsage([body.results[0]])).toBe(40_000);
    expect(resetFromUsage({})).toBeUndefined();
    expect(resetFromUsage({ results: [{ resetsAt: 'soon' }] })).toBeUndefined();
  });

  it("falls back to midnight at the portal's UTC offset (west of UTC is later than UTC midnight)", () => {
    const now = Date.parse('2031-03-04T07:00:00.000Z');
    // Los Angeles (UTC−8): 23:00 local, one hour to its midnight; UTC midnight is 17 h away.
    expect(msUntilOffsetMidnight(now, -8 * 3_600_000)).toBe(3_600_000);
  });
});
