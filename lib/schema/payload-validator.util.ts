import type { CrmPropertyProblem } from '../errors/crm.error';
import type { CrmPropertyDefinition } from './crm-property.interface';
import { MULTI_VALUE_SEPARATOR } from './value-conversion.util';

/** The rules a payload is checked against before it is sent. */
export type CrmValidationRule =
  | 'UNKNOWN_PROPERTY'
  | 'READ_ONLY'
  | 'CALCULATED'
  | 'INVALID_OPTION'
  | 'MULTI_VALUE_NOT_SEMICOLON_JOINED'
  | 'NOT_A_NUMBER'
  | 'NOT_A_BOOLEAN'
  | 'NOT_A_DATE'
  | 'DATE_NOT_AT_UTC_MIDNIGHT'
  | 'NOT_A_DATETIME'
  | 'TOO_LONG'
  /** Not a CRM value at all (an object, NaN, an invalid Date): found without a schema. */
  | 'UNSUPPORTED_VALUE';

/** HubSpot stores at most 65,536 characters in a text property. */
export const HUBSPOT_MAX_STRING_LENGTH = 65_536;

const DECIMAL = /^-?\d+(\.\d+)?$/;
const EPOCH_MS = /^-?\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The problems of converted (string) property values against the CRM's property definitions.
 * `""` clears a value and is accepted for every writable property.
 */
export function validateProperties(
  objectType: string,
  properties: Record<string, string>,
  schema: ReadonlyMap<string, CrmPropertyDefinition>,
): CrmPropertyProblem[] {
  const problems: CrmPropertyProblem[] = [];
  const add = (property: string, rule: CrmValidationRule, message: string) =>
    problems.push({ property, rule, message });
  for (const [name, value] of Object.entries(properties)) {
    const def = schema.get(name);
    if (!def) {
      add(
        name,
        'UNKNOWN_PROPERTY',
        `${objectType} has no property "${name}"; create it (etlify sync-properties --apply) or remove it from the serializer`,
      );
      continue;
    }
    if (def.calculated) {
      add(
        name,
        'CALCULATED',
        `"${name}" is calculated by the CRM and cannot be written`,
      );
      continue;
    }
    if (def.readOnly) {
      add(name, 'READ_ONLY', `"${name}" is read-only and cannot be written`);
      continue;
    }
    if (value === '') continue;
    const problem = checkValue(def, value);
    if (problem) add(name, problem[0], problem[1]);
  }
  return problems;
}

function checkValue(
  def: CrmPropertyDefinition,
  value: string,
): [CrmValidationRule, string] | undefined {
  const name = def.name;
  switch (def.type) {
    case 'number':
      return DECIMAL.test(value)
        ? undefined
        : [
            'NOT_A_NUMBER',
            `"${name}" is a number property; ${quote(value)} is not a decimal number`,
          ];
    case 'bool':
      return value === 'true' || value === 'false'
        ? undefined
        : [
            'NOT_A_BOOLEAN',
            `"${name}" is a boolean property; ${quote(value)} is neither "true" nor "false"`,
          ];
    case 'date':
      return checkDate(name, value);
    case 'datetime':
      return EPOCH_MS.test(value) ||
        ISO_DATE.test(value) ||
        (ISO_DATETIME.test(value) && !Number.isNaN(Date.parse(value)))
        ? undefined
        : [
            'NOT_A_DATETIME',
            `"${name}" is a datetime property; ${quote(value)} is neither epoch milliseconds nor ISO 8601`,
          ];
    case 'enumeration':
      return checkOptions(def, value);
    default: {
      const max = def.maxLength ?? HUBSPOT_MAX_STRING_LENGTH;
      return value.length > max
        ? [
            'TOO_LONG',
            `"${name}" holds at most ${max} characters; the value has ${value.length}`,
          ]
        : undefined;
    }
  }
}

function checkDate(
  name: string,
  value: string,
): [CrmValidationRule, string] | undefined {
  let ms: number;
  if (EPOCH_MS.test(value)) ms = Number(value);
  else if (ISO_DATE.test(value)) ms = Date.parse(`${value}T00:00:00Z`);
  else if (ISO_DATETIME.test(value)) ms = Date.parse(value);
  else ms = NaN;
  if (Number.isNaN(ms)) {
    return [
      'NOT_A_DATE',
      `"${name}" is a date property; ${quote(value)} is neither YYYY-MM-DD nor epoch milliseconds`,
    ];
  }
  if (ms % 86_400_000 !== 0) {
    return [
      'DATE_NOT_AT_UTC_MIDNIGHT',
      `"${name}" is a date property; ${quote(value)} is not at midnight UTC (send YYYY-MM-DD, or a Date at 00:00:00.000Z)`,
    ];
  }
  return undefined;
}

function checkOptions(
  def: CrmPropertyDefinition,
  value: string,
): [CrmValidationRule, string] | undefined {
  const allowed = new Set((def.options ?? []).map((o) => o.value));
  const multi = def.fieldType === 'checkbox';
  const parts = multi ? value.split(MULTI_VALUE_SEPARATOR) : [value];
  const bad = parts.filter((p) => !allowed.has(p));
  if (bad.length === 0) return undefined;
  if (multi) {
    // "a,b" or "a; b": the values exist, only the joining is wrong.
    const loose = value.split(/\s*[;,|]\s*/).filter(Boolean);
    if (loose.length > 1 && loose.every((p) => allowed.has(p))) {
      return [
        'MULTI_VALUE_NOT_SEMICOLON_JOINED',
        `"${def.name}" is a multi-select; join its values with ";" and no spaces (got ${quote(value)})`,
      ];
    }
  }
  const shown = [...allowed].slice(0, 20).join(', ');
  return [
    'INVALID_OPTION',
    `"${def.name}" has no option ${bad.map(quote).join(', ')}; options are ${shown}${allowed.size > 20 ? ', …' : ''}`,
  ];
}

function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}
