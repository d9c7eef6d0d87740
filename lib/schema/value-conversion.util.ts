import type { CrmPayloadValue } from '../interfaces/crm-payload.interface';
import type { CrmPropertyDefinition } from './crm-property.interface';

/** HubSpot's separator of multi-select (checkbox) values. */
export const MULTI_VALUE_SEPARATOR = ';';

/** Why a value could not be turned into a string at all (a serializer mistake). */
export class ValueConversionError extends Error {}

/**
 * The one place where payload values become the strings HubSpot stores:
 * - `null` → `""` (clears the value; `omit` null handling removed it earlier);
 * - `boolean` → `"true"` / `"false"`;
 * - `number` → plain decimal notation, never exponent form (HubSpot rejects `1e+21`);
 * - `Date` → `YYYY-MM-DD` for a `date` property (which must be at UTC midnight: checked by the
 *   validator, never rounded), ISO 8601 with milliseconds otherwise;
 * - a string list → values joined with `;` (multi-select);
 * - strings pass through untouched.
 */
export function toCrmString(
  name: string,
  value: CrmPayloadValue | undefined,
  definition?: CrmPropertyDefinition,
): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new ValueConversionError(
        `Property "${name}" is ${String(value)}; numbers must be finite`,
      );
    }
    return plainNumber(value);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new ValueConversionError(`Property "${name}" is an invalid Date`);
    }
    const iso = value.toISOString();
    return definition?.type === 'date' && value.getTime() % 86_400_000 === 0
      ? iso.slice(0, 10)
      : iso;
  }
  if (Array.isArray(value)) {
    if (value.some((v) => typeof v !== 'string')) {
      throw new ValueConversionError(
        `Property "${name}" is a list with non-string items; lists hold the option values of a multi-select`,
      );
    }
    return value.join(MULTI_VALUE_SEPARATOR);
  }
  const kind = typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  throw new ValueConversionError(
    `Property "${name}" is ${kind}; CRM values are string, number, boolean, Date, string[] or null`,
  );
}

/** Decimal notation without exponent, from JavaScript's shortest round-trip digits. */
export function plainNumber(value: number): string {
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/i.exec(text);
  if (!match) return text;
  const [, sign, whole, fraction = '', exp] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length)
    return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
