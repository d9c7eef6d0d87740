import type {
  RateBucket,
  RateObservation,
} from '../../interfaces/rate-governor.interface';
import {
  HUBSPOT_HEADERS,
  HUBSPOT_MIGRATION_STATUS,
  HUBSPOT_MIGRATION_WAIT_MS,
  HUBSPOT_POLICY,
  HUBSPOT_SECONDLY_WAIT_MS,
  HUBSPOT_TEN_SECOND_WINDOW_MS,
} from './hubspot.constants';

export function header(
  headers: Record<string, unknown>,
  name: string,
): string | undefined {
  const value = headers[name];
  return value === undefined || value === null ? undefined : String(value);
}

export function numberHeader(
  headers: Record<string, unknown>,
  name: string,
): number | undefined {
  const raw = header(headers, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Retry-After in seconds or as an HTTP date, in ms. */
export function parseRetryAfter(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Retry-After wins; otherwise a 429 waits by its policy (DAILY is settled by the caller from the
 * portal's reset time), a 477 waits a minute, and other statuses use the retry backoff.
 */
export function retryAfterMsOf(
  status: number,
  body: { policyName?: string },
  headers: Record<string, unknown>,
): number | undefined {
  const retryAfter = parseRetryAfter(
    header(headers, HUBSPOT_HEADERS.retryAfter),
  );
  if (retryAfter !== undefined) return retryAfter;
  if (status === HUBSPOT_MIGRATION_STATUS) return HUBSPOT_MIGRATION_WAIT_MS;
  if (status !== 429) return undefined;
  switch (body.policyName) {
    case HUBSPOT_POLICY.daily:
      return undefined;
    case HUBSPOT_POLICY.secondly:
      return HUBSPOT_SECONDLY_WAIT_MS;
    default:
      return (
        numberHeader(headers, HUBSPOT_HEADERS.intervalMs) ??
        HUBSPOT_TEN_SECOND_WINDOW_MS
      );
  }
}

export function observationOf(
  headers: Record<string, unknown>,
  bucket: RateBucket,
): RateObservation | undefined {
  const o: RateObservation = {
    bucket,
    max: numberHeader(headers, HUBSPOT_HEADERS.max),
    remaining: numberHeader(headers, HUBSPOT_HEADERS.remaining),
    intervalMs: numberHeader(headers, HUBSPOT_HEADERS.intervalMs),
    daily: numberHeader(headers, HUBSPOT_HEADERS.daily),
    dailyRemaining: numberHeader(headers, HUBSPOT_HEADERS.dailyRemaining),
  };
  return o.remaining === undefined && o.dailyRemaining === undefined
    ? undefined
    : o;
}
