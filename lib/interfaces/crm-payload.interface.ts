/**
 * A CRM property value as a serializer returns it. Dates, booleans, numbers and string lists are
 * converted to the CRM's string forms in one place by the adapter (see "Type conversion" in the
 * README): a `Date` becomes `YYYY-MM-DD` for a HubSpot `date` property and ISO 8601 otherwise,
 * a list becomes `a;b;c`. `null` clears the value unless the property's null handling is `omit`.
 */
export type CrmPayloadValue =
  string | number | boolean | Date | readonly string[] | null;
export type CrmPayload = Record<string, CrmPayloadValue>;
