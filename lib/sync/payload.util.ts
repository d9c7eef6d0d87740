import type { CrmPayload } from '../interfaces/crm-payload.interface';

/** Rejects what a CRM cannot store, naming the property: nested objects, mixed arrays, invalid Dates, NaN. */
export function assertValidPayload(
  payload: unknown,
  serializer: string,
): asserts payload is CrmPayload {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new TypeError(
      `${serializer}.toCrmPayload() must return a flat object of CRM properties`,
    );
  }
  for (const [key, value] of Object.entries(payload)) {
    if (
      value === null ||
      value === undefined ||
      typeof value === 'string' ||
      typeof value === 'boolean'
    ) {
      continue;
    }
    if (typeof value === 'number' && Number.isFinite(value)) continue;
    // Dates and string lists are converted by the adapter (lib/schema/value-conversion.util.ts).
    if (value instanceof Date && !Number.isNaN(value.getTime())) continue;
    if (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      continue;
    const kind =
      value instanceof Date
        ? 'an invalid Date'
        : typeof value === 'number'
          ? String(value)
          : Array.isArray(value)
            ? 'an array of non-strings'
            : `a ${typeof value}`;
    throw new TypeError(
      `${serializer}.toCrmPayload(): property "${key}" is ${kind}; CRM values are string, number, boolean, Date, string[] or null`,
    );
  }
}
