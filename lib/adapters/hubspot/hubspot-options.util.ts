import { EtlifyConfigurationError } from '../../errors/etlify-configuration.error';
import type { HubspotAdapterOptions } from './hubspot-adapter-options.interface';
import {
  HUBSPOT_API_VERSION_PATTERN,
  HUBSPOT_DEFAULT_API_VERSION,
  HUBSPOT_DEFAULT_BASE_URL,
  HUBSPOT_DEFAULT_KEY_PROPERTY,
  HUBSPOT_DEFAULTS,
  HUBSPOT_PROPERTY_NAME_PATTERN,
} from './hubspot.constants';

/** Every option with its default, checked once (the token is handed on separately). */
export interface ResolvedHubspotOptions {
  baseUrl: string;
  apiVersion: string;
  keyProperty: string | undefined;
  settleDelayMs: number;
  timeoutMs: number;
  maxRetries: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  lockedDelayMs: number;
  maxRateLimitWaits: number;
  maxInlineWaitMs: number;
  concurrency: number;
  maxSockets: number;
}

const WHERE = 'HubspotAdapter';

/** Validates the options at construction (boot); each message names the option and the fix. */
export function resolveHubspotOptions(
  options: HubspotAdapterOptions,
): ResolvedHubspotOptions {
  if (!options || typeof options !== 'object') {
    throw new EtlifyConfigurationError(
      `${WHERE}: options are required; use new HubspotAdapter({ accessToken: process.env.HUBSPOT_TOKEN })`,
    );
  }
  if (
    typeof options.accessToken !== 'string' ||
    options.accessToken.trim() === ''
  ) {
    throw new EtlifyConfigurationError(
      `${WHERE}: accessToken is required (a HubSpot private app token); pass accessToken: process.env.HUBSPOT_TOKEN and check that the variable is set`,
    );
  }
  return {
    baseUrl: baseUrlOf(options.baseUrl),
    apiVersion: apiVersionOf(options.apiVersion),
    keyProperty: keyPropertyOf(options.keyProperty),
    settleDelayMs: count('settleDelayMs', options.settleDelayMs, 0),
    timeoutMs: count('timeoutMs', options.timeoutMs, 1),
    maxRetries: count('maxRetries', options.maxRetries, 0),
    retryBaseDelayMs: count('retryBaseDelayMs', options.retryBaseDelayMs, 0),
    retryMaxDelayMs: count('retryMaxDelayMs', options.retryMaxDelayMs, 0),
    lockedDelayMs: count('lockedDelayMs', options.lockedDelayMs, 0),
    maxRateLimitWaits: count('maxRateLimitWaits', options.maxRateLimitWaits, 0),
    maxInlineWaitMs: count('maxInlineWaitMs', options.maxInlineWaitMs, 0),
    concurrency: count('concurrency', options.concurrency, 1),
    maxSockets: count('maxSockets', options.maxSockets, 1),
  };
}

type Numeric = Exclude<
  {
    [
      K in keyof ResolvedHubspotOptions
    ]: ResolvedHubspotOptions[K] extends number ? K : never;
  }[keyof ResolvedHubspotOptions],
  undefined
>;

function count(name: Numeric, value: unknown, min: number): number {
  if (value === undefined) return HUBSPOT_DEFAULTS[name];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new EtlifyConfigurationError(
      `${WHERE}: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}; remove it to use the default ${HUBSPOT_DEFAULTS[name]}`,
    );
  }
  return value;
}

function baseUrlOf(value: unknown): string {
  if (value === undefined) return HUBSPOT_DEFAULT_BASE_URL;
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new EtlifyConfigurationError(
      `${WHERE}: baseUrl must be an http(s) URL such as ${HUBSPOT_DEFAULT_BASE_URL}, got ${JSON.stringify(value)}; remove it to call HubSpot itself`,
    );
  }
  if (url.username || url.password || url.search) {
    throw new EtlifyConfigurationError(
      `${WHERE}: baseUrl must not carry credentials or a query string; pass the token as accessToken and baseUrl as a plain root such as ${HUBSPOT_DEFAULT_BASE_URL}`,
    );
  }
  return String(value).replace(/\/+$/, '');
}

function apiVersionOf(value: unknown): string {
  if (value === undefined) return HUBSPOT_DEFAULT_API_VERSION;
  if (typeof value !== 'string' || !HUBSPOT_API_VERSION_PATTERN.test(value)) {
    throw new EtlifyConfigurationError(
      `${WHERE}: apiVersion must be 'v3' or a HubSpot date version such as '2026-03' or '2026-09', got ${JSON.stringify(value)}; remove it to use '${HUBSPOT_DEFAULT_API_VERSION}'`,
    );
  }
  return value;
}

function keyPropertyOf(value: unknown): string | undefined {
  if (value === false) return undefined;
  if (value === undefined) return HUBSPOT_DEFAULT_KEY_PROPERTY;
  if (typeof value !== 'string' || !HUBSPOT_PROPERTY_NAME_PATTERN.test(value)) {
    throw new EtlifyConfigurationError(
      `${WHERE}: keyProperty must be a HubSpot property name (lower case letters, digits, underscores, starting with a letter), got ${JSON.stringify(value)}; remove it to use '${HUBSPOT_DEFAULT_KEY_PROPERTY}', or pass false to go without it`,
    );
  }
  return value;
}
