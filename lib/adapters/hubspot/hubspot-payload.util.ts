import { CrmValidationError } from '../../errors/crm.error';
import type { CrmPayload } from '../../interfaces/crm-payload.interface';
import { HUBSPOT_CONTACT_EMAIL, HUBSPOT_CONTACTS } from './hubspot.constants';

export type HubspotProperties = Record<string, string>;

/**
 * HubSpot takes every property value as a string; `null` clears the value (sent as `""`).
 * Anything else (a Date, an object) is a serializer mistake and fails this record only.
 */
export function toHubspotProperties(
  objectType: string,
  payload: CrmPayload,
): HubspotProperties {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new CrmValidationError(
      `The ${objectType} payload must be an object of property values`,
    );
  }
  const properties: HubspotProperties = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    if (value === null) properties[name] = '';
    else if (typeof value === 'string') properties[name] = value;
    else if (typeof value === 'boolean') properties[name] = String(value);
    else if (typeof value === 'number' && Number.isFinite(value))
      properties[name] = String(value);
    else {
      const kind = (value as unknown) instanceof Date ? 'Date' : typeof value;
      throw new CrmValidationError(
        `Property "${name}" of the ${objectType} payload is a ${kind}; CRM payloads take strings, numbers, booleans or null (serialize dates explicitly)`,
      );
    }
  }
  return properties;
}

/** The trimmed value of the id property, or undefined when blank. */
export function idValueOf(
  properties: HubspotProperties,
  idProperty: string | undefined,
): string | undefined {
  if (!idProperty) return undefined;
  const value = properties[idProperty]?.trim();
  return value ? value : undefined;
}

/** How HubSpot compares values of a unique property (emails ignore case). */
export function identityKey(
  objectType: string,
  idProperty: string,
  value: string,
): string {
  return objectType === HUBSPOT_CONTACTS && idProperty === HUBSPOT_CONTACT_EMAIL
    ? value.trim().toLowerCase()
    : value;
}

export function blankIdPropertyError(
  objectType: string,
  idProperty: string,
): CrmValidationError {
  return new CrmValidationError(
    `Property "${idProperty}" is blank; HubSpot needs it to match the ${objectType} record`,
  );
}
