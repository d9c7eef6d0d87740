import {
  CrmValidationError,
  type CrmPropertyProblem,
} from '../errors/crm.error';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type { CrmPropertyDefinition } from './crm-property.interface';
import { validateProperties } from './payload-validator.util';
import { toCrmString, ValueConversionError } from './value-conversion.util';

/**
 * A payload as the CRM's string properties, converted (see `toCrmString`) and, when the CRM's
 * schema is known, checked against it. Throws a `CrmValidationError` naming the property and the
 * rule, so the record fails on its own before any call is made.
 */
export function toCheckedProperties(
  objectType: string,
  payload: CrmPayload,
  schema: ReadonlyMap<string, CrmPropertyDefinition> | null,
): Record<string, string> {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new CrmValidationError(
      `The ${objectType} payload must be an object of property values`,
    );
  }
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    try {
      const text = toCrmString(name, value, schema?.get(name));
      if (text !== undefined) properties[name] = text;
    } catch (error) {
      if (!(error instanceof ValueConversionError)) throw error;
      throw rejection(objectType, [
        { property: name, rule: 'UNSUPPORTED_VALUE', message: error.message },
      ]);
    }
  }
  if (!schema) return properties;
  const problems = validateProperties(objectType, properties, schema);
  if (problems.length) throw rejection(objectType, problems);
  return properties;
}

/** One error for a payload's problems, the first named in the message with its rule. */
function rejection(
  objectType: string,
  problems: CrmPropertyProblem[],
): CrmValidationError {
  const [first, ...rest] = problems;
  const more = rest.length
    ? ` (and ${rest.length} more: ${rest.map((p) => `${p.property} ${p.rule}`).join(', ')})`
    : '';
  return new CrmValidationError(
    `Rejected before sending: ${objectType} property "${first.property}" breaks ${first.rule}: ${first.message}${more}`,
    { problems },
  );
}
