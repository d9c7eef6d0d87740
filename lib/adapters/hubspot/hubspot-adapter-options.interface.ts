import type { LoggerService } from '@nestjs/common';

/** Options of `new HubspotAdapter({...})`. Only `accessToken` is required. */
export interface HubspotAdapterOptions {
  /** Private app token (scopes: crm.objects.contacts.read/write, companies, schemas). Never logged. */
  accessToken: string;
  /** API root. Default `https://api.hubapi.com`; tests point it at a `HubspotSandbox`. */
  baseUrl?: string;
  /** Per-request timeout in ms. Default 30,000. */
  timeoutMs?: number;
  /** Retries of 5xx / 423 / timeouts / resets (429 waits do not count). Default 4. */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Longest backoff delay. Default 30,000 ms. */
  retryMaxDelayMs?: number;
  /** Least wait after a 423 (HubSpot's locks last about 2 s). Default 2,000 ms. */
  lockedDelayMs?: number;
  /** 429 waits per call before giving up with a retryable `CrmRateLimitError`. Default 10. */
  maxRateLimitWaits?: number;
  /** Batch calls in flight at once within one `batchUpsert`. Default 4. */
  concurrency?: number;
  /** Keep-alive sockets per host. Default 32. */
  maxSockets?: number;
  /**
   * Check each payload against the object type's property definitions before sending (unknown,
   * read-only, bad option, wrong type, date not at midnight, too long). Default true.
   */
  validatePayloads?: boolean;
  /** How long the property definitions read for those checks are trusted. Default 300,000 ms. */
  schemaTtlMs?: number;
  /** Where the adapter logs (re-matches, recreated records, retries). Default Nest's `Logger`. */
  logger?: LoggerService;
}
