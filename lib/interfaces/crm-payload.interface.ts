/** A flat map of CRM property values. Dates must be serialized explicitly (ISO string or epoch ms). */
export type CrmPayloadValue = string | number | boolean | null;
export type CrmPayload = Record<string, CrmPayloadValue>;
