import type { LoggerService } from '@nestjs/common';

/** HubSpot API versions: the legacy `v3` paths or a date version (`/crm/objects/2026-03/…`). */
export type HubspotApiVersion =
  'v3' | '2025-09' | '2026-03' | '2026-09' | (string & {});

/** Options of `new HubspotAdapter({...})`. Only `accessToken` is required. */
export interface HubspotAdapterOptions {
  /**
   * Private app token (scopes: crm.objects.<type>.read/write; crm.schemas.<type>.read to use the
   * key property, .write to provision it). Kept out of reach: never logged, inspected or serialized.
   */
  accessToken: string;
  /** API root. Default `https://api.hubapi.com`; tests point it at a `HubspotSandbox`. */
  baseUrl?: string;
  /**
   * API version of the CRM object paths. Default `'2026-09'`, HubSpot's current version (supported
   * until about March 2028; batch errors travel inside 200/201 bodies, which the adapter parses).
   * `'v3'` paths become unsupported in 2027.
   */
  apiVersion?: HubspotApiVersion;
  /**
   * Name of the library's own unique property (`hasUniqueValue`, type string) holding a stable key
   * per record, so a first write is an upsert that is safe to repeat. Provision it with
   * `etlify provision --apply`. Default `etlify_key`; `false` turns its use off.
   */
  keyProperty?: string | false;
  /**
   * How long to wait before reading back a create whose answer was lost (HubSpot's search lags
   * writes by up to tens of seconds). Default 30,000 ms.
   */
  settleDelayMs?: number;
  /** Per-request timeout in ms. Default 30,000. */
  timeoutMs?: number;
  /** Retries of 5xx / 423 / timeouts / resets on calls safe to repeat (429 waits do not count). Default 4. */
  maxRetries?: number;
  /** First backoff delay; doubles per retry, with jitter. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Longest backoff delay. Default 30,000 ms. */
  retryMaxDelayMs?: number;
  /** Least wait after a 423 (HubSpot's locks last about 2 s). Default 2,000 ms. */
  lockedDelayMs?: number;
  /** 429 waits per call before giving up with a retryable `CrmRateLimitError`. Default 10. */
  maxRateLimitWaits?: number;
  /**
   * Longest rate-limit / 477 wait taken inside a call; a longer one is handed back to the caller
   * (the queue re-schedules the record). Default 60,000 ms.
   */
  maxInlineWaitMs?: number;
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
  /** Where the adapter logs (re-matches, merges, retries). Default Nest's `Logger`. */
  logger?: LoggerService;
}
