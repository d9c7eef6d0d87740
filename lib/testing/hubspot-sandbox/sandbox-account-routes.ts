import { routeNotFound } from './sandbox-errors';
import type { ParsedApiPath } from './sandbox-api-path.util';
import type { PortalClock } from './sandbox-clock.util';
import type { DailyUsage } from './sandbox-rate-limiter';
import type { RouteResponse } from './sandbox-routes';

/** The portal id the sandbox reports; any stable number does. */
export const SANDBOX_PORTAL_ID = 24_681_357;

/**
 * `GET /account-info/v3/details` and `GET /account-info/v3/api-usage/daily/private-apps`
 * (and their date-versioned twins): how a client learns the portal's time zone and when the
 * daily quota resets.
 */
export function handleAccountInfo(
  method: string,
  path: string,
  parsed: ParsedApiPath,
  clock: PortalClock,
  usage: DailyUsage,
  now: number,
): RouteResponse {
  const rest = parsed.rest.join('/');
  if (method !== 'GET') throw routeNotFound(method, path);
  if (rest === 'details') {
    return {
      status: 200,
      body: {
        portalId: SANDBOX_PORTAL_ID,
        accountType: 'STANDARD',
        timeZone: clock.timeZone,
        companyCurrency: 'USD',
        additionalCurrencies: [],
        utcOffset: clock.offsetLabel(now),
        utcOffsetMilliseconds: clock.offsetMs(now),
        uiDomain: 'app.hubspot.com',
        dataHostingLocation: 'na1',
      },
    };
  }
  if (rest === 'api-usage/daily/private-apps') {
    return {
      status: 200,
      body: {
        results: [
          {
            name: 'private-apps-api-calls-daily',
            usageLimit: usage.usageLimit,
            currentUsage: usage.currentUsage,
            collectedAt: new Date(now).toISOString(),
            fetchStatus: 'SUCCESS',
            resetsAt: new Date(usage.resetsAt).toISOString(),
          },
        ],
      },
    };
  }
  throw routeNotFound(method, path);
}
