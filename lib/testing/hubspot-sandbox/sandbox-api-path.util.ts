/** The APIs the sandbox serves, whatever version prefix they are called with. */
export type SandboxApi =
  'objects' | 'properties' | 'associations' | 'account-info';

export interface ParsedApiPath {
  api: SandboxApi;
  /** `v3` / `v4` (legacy) or a date version such as `2026-03`. */
  version: string;
  /** Decoded segments after the API and version. */
  rest: string[];
}

const DATE_VERSION = /^\d{4}-\d{2}$/;

/**
 * Splits `/crm/v3/objects/contacts/…`, `/crm/objects/2026-03/contacts/…`,
 * `/crm/v4/associations/…`, `/crm/associations/2026-03/…`, `/crm/v3/properties/…`,
 * `/crm/properties/2026-03/…` and `/account-info/{v3|date}/…`; undefined for anything else.
 */
export function parseApiPath(path: string): ParsedApiPath | undefined {
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (parts[0] === 'account-info' && parts.length >= 2) {
    return { api: 'account-info', version: parts[1], rest: parts.slice(2) };
  }
  if (parts[0] !== 'crm' || parts.length < 3) return undefined;
  const legacy: Record<string, SandboxApi> = {
    v3: 'objects',
    v4: 'associations',
  };
  // Legacy form: /crm/v3/objects/…, /crm/v3/properties/…, /crm/v4/associations/…
  if (parts[1] in legacy) {
    const api = parts[2];
    if (
      (parts[1] === 'v3' && (api === 'objects' || api === 'properties')) ||
      (parts[1] === 'v4' && api === 'associations')
    ) {
      return { api, version: parts[1], rest: parts.slice(3) };
    }
    return undefined;
  }
  // Date form: /crm/objects/2026-03/…, /crm/properties/2026-03/…, /crm/associations/2026-03/…
  const api = parts[1];
  if (
    (api === 'objects' || api === 'properties' || api === 'associations') &&
    DATE_VERSION.test(parts[2])
  ) {
    return { api, version: parts[2], rest: parts.slice(3) };
  }
  return undefined;
}

/** From 2026-09 on, batch writes report per-input errors inside a 200/201 body, never a 207. */
export function errorsInBody(version: string): boolean {
  return DATE_VERSION.test(version) && version >= '2026-09';
}
