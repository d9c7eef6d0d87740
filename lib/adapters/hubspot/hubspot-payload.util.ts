import { CrmValidationError } from '../../errors/crm.error';
import { toCheckedProperties } from '../../schema/payload-properties.util';
import type { CrmPayload } from '../../interfaces/crm-payload.interface';
import { HUBSPOT_CONTACT_EMAIL, HUBSPOT_CONTACTS } from './hubspot.constants';

export type HubspotProperties = Record<string, string>;

/**
 * HubSpot takes every property value as a string: converted without a schema (see
 * `toCrmString`, the one place values are converted); the adapter itself checks against the schema.
 */
export function toHubspotProperties(
  objectType: string,
  payload: CrmPayload,
): HubspotProperties {
  return toCheckedProperties(objectType, payload, null);
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
