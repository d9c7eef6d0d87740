import { createHash } from 'node:crypto';
import type { CrmPayload } from '../interfaces/crm-payload.interface';

/**
 * JSON with object keys sorted at every depth and `undefined` members dropped, so two payloads
 * that mean the same thing serialize the same way. `null` is kept; `1` and `"1"` stay distinct.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}

function canonicalize(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value))
    return value.map((item) => canonicalize(item) ?? null);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) out[key] = canonicalize(member);
  }
  return out;
}

/** Default digest: SHA-256 (hex) of the canonical JSON. */
export function sha256Digest(payload: CrmPayload): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}
