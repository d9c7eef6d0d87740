import type { PropertyProblem } from './sandbox-errors';
import { hasKnownTld } from './sandbox-tlds';

export type SandboxPropertyType =
  'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';

export interface SandboxPropertyOption {
  label: string;
  value: string;
  displayOrder?: number;
  hidden?: boolean;
  description?: string;
}

/** What callers give to define a property (HTTP body or `createProperty`). */
export interface SandboxPropertyInput {
  name: string;
  type: SandboxPropertyType;
  label?: string;
  fieldType?: string;
  groupName?: string;
  description?: string;
  options?: SandboxPropertyOption[];
  hasUniqueValue?: boolean;
  /** Shorthand for `modificationMetadata.readOnlyValue`. */
  readOnly?: boolean;
  modificationMetadata?: {
    readOnlyValue?: boolean;
    readOnlyDefinition?: boolean;
    archivable?: boolean;
  };
  displayOrder?: number;
}

/** A property as `GET /crm/v3/properties/{objectType}` answers it. */
export interface SandboxPropertyDefinition {
  name: string;
  label: string;
  type: SandboxPropertyType;
  fieldType: string;
  description: string;
  groupName: string;
  options: Array<Required<Omit<SandboxPropertyOption, 'description'>>>;
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined: boolean;
  modificationMetadata: {
    archivable: boolean;
    readOnlyDefinition: boolean;
    readOnlyValue: boolean;
  };
  formField: boolean;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

export const PROPERTY_TYPES: readonly SandboxPropertyType[] = [
  'string',
  'number',
  'date',
  'datetime',
  'enumeration',
  'bool',
];

const DEFAULT_FIELD_TYPE: Record<SandboxPropertyType, string> = {
  string: 'text',
  number: 'number',
  date: 'date',
  datetime: 'date',
  enumeration: 'select',
  bool: 'booleancheckbox',
};

export function toPropertyDefinition(
  input: SandboxPropertyInput,
  hubspotDefined: boolean,
  now: string,
): SandboxPropertyDefinition {
  const readOnly =
    input.modificationMetadata?.readOnlyValue ?? input.readOnly ?? false;
  const options =
    input.type === 'bool' && !input.options?.length
      ? [
          { label: 'Yes', value: 'true' },
          { label: 'No', value: 'false' },
        ]
      : (input.options ?? []);
  return {
    name: input.name,
    label: input.label ?? input.name,
    type: input.type,
    fieldType: input.fieldType ?? DEFAULT_FIELD_TYPE[input.type],
    description: input.description ?? '',
    groupName: input.groupName ?? 'information',
    options: options.map((o, i) => ({
      label: o.label,
      value: o.value,
      displayOrder: o.displayOrder ?? i,
      hidden: o.hidden ?? false,
    })),
    displayOrder: input.displayOrder ?? -1,
    calculated: false,
    externalOptions: false,
    hasUniqueValue: input.hasUniqueValue ?? false,
    hidden: false,
    hubspotDefined,
    modificationMetadata: {
      archivable: !hubspotDefined,
      readOnlyDefinition:
        input.modificationMetadata?.readOnlyDefinition ?? hubspotDefined,
      readOnlyValue: readOnly,
    },
    formField: !readOnly,
    createdAt: now,
    updatedAt: now,
    archived: false,
  };
}

/** Names of the timestamp properties HubSpot keeps per object type. */
export interface SystemPropertyNames {
  created: string;
  modified: string;
}

export function systemPropertyNames(objectType: string): SystemPropertyNames {
  if (objectType === 'contacts') {
    return { created: 'createdate', modified: 'lastmodifieddate' };
  }
  if (objectType === 'companies' || objectType === 'deals') {
    return { created: 'createdate', modified: 'hs_lastmodifieddate' };
  }
  return { created: 'hs_createdate', modified: 'hs_lastmodifieddate' };
}

/** Properties returned by reads that name no `properties`, as HubSpot does. */
export function defaultReturnedProperties(objectType: string): string[] {
  const sys = systemPropertyNames(objectType);
  const base = ['hs_object_id', sys.created, sys.modified];
  switch (objectType) {
    case 'contacts':
      return [...base, 'email', 'firstname', 'lastname'];
    case 'companies':
      return [...base, 'name', 'domain'];
    case 'deals':
      return [
        ...base,
        'dealname',
        'amount',
        'closedate',
        'dealstage',
        'pipeline',
      ];
    default:
      return base;
  }
}

const ro = (name: string, type: SandboxPropertyType): SandboxPropertyInput => ({
  name,
  type,
  readOnly: true,
  fieldType: type === 'number' ? 'number' : 'text',
});
const str = (name: string, fieldType = 'text'): SandboxPropertyInput => ({
  name,
  type: 'string',
  fieldType,
});
const num = (name: string): SandboxPropertyInput => ({ name, type: 'number' });
const enumeration = (name: string, values: string[]): SandboxPropertyInput => ({
  name,
  type: 'enumeration',
  fieldType: 'select',
  options: values.map((value) => ({ label: value, value })),
});

const LIFECYCLE_STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];

/** Read-only properties every object type has. */
export function systemProperties(objectType: string): SandboxPropertyInput[] {
  const sys = systemPropertyNames(objectType);
  return [
    ro('hs_object_id', 'number'),
    ro(sys.created, 'datetime'),
    ro(sys.modified, 'datetime'),
    ro('hs_merged_object_ids', 'enumeration'),
  ];
}

/**
 * A representative subset of HubSpot's default properties. Types outside this table
 * (custom objects, tickets, …) start without any: see `ObjectTypeStore.strict`.
 */
export const DEFAULT_PROPERTIES: Record<string, SandboxPropertyInput[]> = {
  contacts: [
    str('email'),
    str('firstname'),
    str('lastname'),
    str('phone', 'phonenumber'),
    str('mobilephone', 'phonenumber'),
    str('company'),
    str('website'),
    str('jobtitle'),
    str('address'),
    str('city'),
    str('state'),
    str('zip'),
    str('country'),
    str('message', 'textarea'),
    // Writable here so tests can give a contact secondary emails (`;`-separated).
    str('hs_additional_emails', 'textarea'),
    enumeration('lifecyclestage', LIFECYCLE_STAGES),
    enumeration('hs_lead_status', [
      'NEW',
      'OPEN',
      'IN_PROGRESS',
      'OPEN_DEAL',
      'UNQUALIFIED',
      'ATTEMPTED_TO_CONTACT',
      'CONNECTED',
      'BAD_TIMING',
    ]),
    { name: 'date_of_birth', type: 'date' },
    num('annualrevenue'),
    ro('hs_email_domain', 'string'),
    ro('notes_last_updated', 'datetime'),
  ],
  companies: [
    str('name'),
    str('domain'),
    enumeration('industry', [
      'ACCOUNTING',
      'BANKING',
      'COMPUTER_SOFTWARE',
      'CONSUMER_SERVICES',
      'E_LEARNING',
      'FINANCIAL_SERVICES',
      'HOSPITAL_HEALTH_CARE',
      'INFORMATION_TECHNOLOGY_AND_SERVICES',
      'INSURANCE',
      'INTERNET',
      'INVESTMENT_MANAGEMENT',
      'MANAGEMENT_CONSULTING',
      'MARKETING_AND_ADVERTISING',
      'REAL_ESTATE',
      'RETAIL',
      'TELECOMMUNICATIONS',
      'VENTURE_CAPITAL_PRIVATE_EQUITY',
    ]),
    str('city'),
    str('state'),
    str('zip'),
    str('country'),
    str('address'),
    str('phone', 'phonenumber'),
    str('website'),
    str('description', 'textarea'),
    str('founded_year'),
    num('numberofemployees'),
    num('annualrevenue'),
    enumeration('type', ['PROSPECT', 'PARTNER', 'RESELLER', 'VENDOR', 'OTHER']),
    enumeration('lifecyclestage', LIFECYCLE_STAGES),
  ],
  deals: [
    str('dealname'),
    num('amount'),
    { name: 'closedate', type: 'datetime' },
    enumeration('dealstage', [
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ]),
    enumeration('pipeline', ['default']),
    str('description', 'textarea'),
  ],
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Epoch ms of an epoch-ms string or an ISO date/datetime; NaN when neither. */
export function parseTimestamp(raw: string): number {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (ISO_DATE.test(raw)) return Date.parse(`${raw}T00:00:00Z`);
  if (/^\d{4}-\d{2}-\d{2}T/.test(raw)) return Date.parse(raw);
  return NaN;
}

const EMAIL = /^[^\s@;]+@[^\s@;]+\.[^\s@;]+$/;
/** Plain decimal notation only: HubSpot refuses hex (`0x1F`) and exponents (`1e5`). */
const DECIMAL = /^-?\d+(\.\d+)?$/;

function validEmail(raw: string): boolean {
  return EMAIL.test(raw) && hasKnownTld(raw.slice(raw.lastIndexOf('@') + 1));
}

/**
 * Turns a written value into the stored string, or reports why HubSpot would refuse it.
 * Returns '' to clear. `def` is undefined for types that accept any property.
 */
export function normalizeValue(
  objectType: string,
  name: string,
  value: unknown,
  def: SandboxPropertyDefinition | undefined,
): { value: string } | { problem: PropertyProblem } {
  if (value === null || value === undefined || value === '') {
    return { value: '' };
  }
  if (typeof value === 'object') {
    return problem(
      name,
      'INVALID_VALUE',
      `${JSON.stringify(value)} is not a valid value for ${name}`,
    );
  }
  const raw = String(value);
  if (objectType === 'contacts' && name === 'email') {
    return validEmail(raw.trim())
      ? { value: raw.trim().toLowerCase() }
      : problem(name, 'INVALID_EMAIL', `Email address ${raw} is invalid`);
  }
  if (objectType === 'contacts' && name === 'hs_additional_emails') {
    const emails = raw
      .split(';')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    const bad = emails.find((e) => !validEmail(e));
    return bad
      ? problem(name, 'INVALID_EMAIL', `Email address ${bad} is invalid`)
      : { value: emails.map((e) => e.toLowerCase()).join(';') };
  }
  if (!def) return { value: raw };
  switch (def.type) {
    case 'number':
      return DECIMAL.test(raw.trim())
        ? { value: raw.trim() }
        : problem(name, 'INVALID_LONG', `${raw} was not a valid number.`);
    case 'bool': {
      const lower = raw.toLowerCase();
      return lower === 'true' || lower === 'false'
        ? { value: lower }
        : problem(
            name,
            'INVALID_OPTION',
            `${raw} was not one of the allowed options: [true, false]`,
          );
    }
    case 'enumeration': {
      const allowed = new Set(def.options.map((o) => o.value));
      const parts = def.fieldType === 'checkbox' ? raw.split(';') : [raw];
      const bad = parts.find((p) => !allowed.has(p));
      return bad === undefined
        ? { value: raw }
        : problem(
            name,
            'INVALID_OPTION',
            `${bad} was not one of the allowed options: [${[...allowed].join(', ')}]`,
          );
    }
    case 'date': {
      const ms = parseTimestamp(raw);
      if (Number.isNaN(ms)) {
        return problem(name, 'INVALID_DATE', `${raw} is not a valid date`);
      }
      const d = new Date(ms);
      if (ms % 86_400_000 !== 0) {
        return problem(
          name,
          'INVALID_DATE',
          `${raw} is at ${d.getUTCHours()}:${d.getUTCMinutes()}:${d.getUTCSeconds()}.${d.getUTCMilliseconds()} UTC, not midnight!`,
        );
      }
      return { value: d.toISOString().slice(0, 10) };
    }
    case 'datetime': {
      const ms = parseTimestamp(raw);
      return Number.isNaN(ms)
        ? problem(name, 'INVALID_DATETIME', `${raw} is not a valid datetime`)
        : { value: new Date(ms).toISOString() };
    }
    default:
      return { value: raw };
  }
}

function problem(
  name: string,
  code: string,
  message: string,
): { problem: PropertyProblem } {
  return { problem: { name, code, message } };
}
