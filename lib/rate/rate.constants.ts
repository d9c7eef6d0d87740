/** HubSpot counts search per second, apart from the 10-second window. */
export const DEFAULT_SEARCH_PER_SECOND = 5;
export const SEARCH_INTERVAL_MS = 1_000;
export const ONE_DAY_MS = 86_400_000;

/**
 * Extra time a call stays in our window after it was granted: the CRM stamps the call when it
 * arrives, a little after we granted it, so a window exactly as long as the CRM's would let the
 * next call in a few ms too early and earn a 429.
 */
export const DEFAULT_RATE_SAFETY_MARGIN_MS = 500;
/** Margin as a share of the interval, for short intervals (the smaller of the two applies). */
export const RATE_SAFETY_MARGIN_RATIO = 0.05;
/** Random spread added to waits so processes woken together do not race for one slot. */
export const RATE_WAIT_JITTER_MS = 15;

/** Redis key prefix of the shared governors (`<prefix>:{<crm>}:…`, one hash slot per CRM). */
export const DEFAULT_RATE_KEY_PREFIX = 'etlify:rate';
