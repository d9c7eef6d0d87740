export const HUBSPOT_DEFAULT_BASE_URL = 'https://api.hubapi.com';
/** Default API version: HubSpot's current date version (reasons in the README). */
export const HUBSPOT_DEFAULT_API_VERSION = '2026-09';
/** `v3` (legacy) or a date version `YYYY-03` / `YYYY-09`. */
export const HUBSPOT_API_VERSION_PATTERN = /^(v3|20\d\d-(03|09))$/;

export const HUBSPOT_ACCOUNT_PATHS = {
  dailyUsage: '/account-info/v3/api-usage/daily/private-apps',
  details: '/account-info/v3/details',
} as const;

/** The library's own unique property holding a stable key per record. */
export const HUBSPOT_DEFAULT_KEY_PROPERTY = 'etlify_key';
/** HubSpot property names: lower case letters, digits and underscores, starting with a letter. */
export const HUBSPOT_PROPERTY_NAME_PATTERN = /^[a-z][a-z0-9_]{0,99}$/;

/** HubSpot refuses batches of more than 100 inputs. */
export const HUBSPOT_MAX_BATCH_INPUTS = 100;
export const HUBSPOT_CONTACTS = 'contacts';
export const HUBSPOT_CONTACT_EMAIL = 'email';
/** Not usable as an upsert key even though it is unique. */
export const HUBSPOT_OBJECT_ID_PROPERTY = 'hs_object_id';
/** The ids a merged record absorbed (`;`-joined); they keep answering with the merged record. */
export const HUBSPOT_MERGED_IDS_PROPERTY = 'hs_merged_object_ids';

export const HUBSPOT_HEADERS = {
  max: 'x-hubspot-ratelimit-max',
  remaining: 'x-hubspot-ratelimit-remaining',
  intervalMs: 'x-hubspot-ratelimit-interval-milliseconds',
  daily: 'x-hubspot-ratelimit-daily',
  dailyRemaining: 'x-hubspot-ratelimit-daily-remaining',
  correlationId: 'x-hubspot-correlation-id',
  retryAfter: 'retry-after',
} as const;

export const HUBSPOT_POLICY = {
  tenSecondly: 'TEN_SECONDLY_ROLLING',
  secondly: 'SECONDLY',
  daily: 'DAILY',
} as const;

/** HubSpot's "Migration in progress": the portal moves between data centres; wait it out. */
export const HUBSPOT_MIGRATION_STATUS = 477;

/** HubSpot's `category` values the adapter reacts to. */
export const HUBSPOT_CATEGORY = {
  notFound: 'OBJECT_NOT_FOUND',
  conflict: 'CONFLICT',
} as const;

/** The only place HubSpot names the record a create collided with. */
export const HUBSPOT_EXISTING_ID_PATTERN = /Existing ID:\s*(\d+)/;

/** Default windows when a 429 carries no Retry-After. */
export const HUBSPOT_TEN_SECOND_WINDOW_MS = 10_000;
export const HUBSPOT_SECONDLY_WAIT_MS = 1_000;
/** Wait after a 477 that names no Retry-After. */
export const HUBSPOT_MIGRATION_WAIT_MS = 60_000;

export const HUBSPOT_DEFAULTS = {
  timeoutMs: 30_000,
  maxRetries: 4,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 30_000,
  lockedDelayMs: 2_000,
  maxRateLimitWaits: 10,
  concurrency: 4,
  maxSockets: 32,
  settleDelayMs: 30_000,
  maxInlineWaitMs: 60_000,
  /** HubSpot Free/Starter, the safe guess when the CRM has no `rateLimit` option. */
  rateLimit: { maxRequests: 100, intervalMs: 10_000 },
} as const;

/** Property schema cache: trusted for 5 min; never read again within 10 s, whatever asks. */
export const HUBSPOT_SCHEMA_DEFAULTS = {
  ttlMs: 5 * 60_000,
  minRefreshMs: 10_000,
} as const;
