import { CrmAuthError, CrmValidationError } from '../../errors/crm.error';
import type { CrmPayload } from '../../interfaces/crm-payload.interface';
import type {
  CrmPropertyDefinition,
  CrmPropertyGroup,
  CrmPropertyType,
} from '../../schema/crm-property.interface';
import { toCheckedProperties } from '../../schema/payload-properties.util';
import { HUBSPOT_MAX_STRING_LENGTH } from '../../schema/payload-validator.util';
import {
  PropertySchemaCache,
  type PropertySchema,
} from '../../schema/property-schema.cache';
import type { HubspotHttpClient } from './hubspot-http.client';
import type { HubspotPaths } from './hubspot-paths.util';

/** Property groups stay on the v3 layout, which every portal serves until 2027. */
const LEGACY_PROPERTIES_PATH = '/crm/v3/properties';

/** A property as HubSpot's properties API answers it (the fields read here). */
interface HubspotPropertyJson {
  name: string;
  type?: string;
  fieldType?: string;
  label?: string;
  description?: string;
  groupName?: string;
  options?: Array<{ value: string; label?: string; hidden?: boolean }>;
  calculated?: boolean;
  hasUniqueValue?: boolean;
  modificationMetadata?: { readOnlyValue?: boolean };
}

const TYPES: readonly CrmPropertyType[] = [
  'string',
  'number',
  'date',
  'datetime',
  'bool',
  'enumeration',
];

/** Errors whose message says HubSpot refused a property: the cached schema may be behind. */
const PROPERTY_REFUSAL =
  /Property values were not valid|PROPERTY_DOESNT_EXIST|READ_ONLY_VALUE|INVALID_OPTION|does not exist/;

/** Rules a newer schema may lift (a property or an option created since the last read). */
const STALE_RULES = new Set(['UNKNOWN_PROPERTY', 'INVALID_OPTION']);

export interface HubspotPropertiesOptions {
  /** Check payloads against the schema before sending. */
  validate: boolean;
  ttlMs: number;
  minRefreshMs: number;
}

/**
 * HubSpot's properties API for the adapter: definitions per object type (cached, refreshed on a
 * TTL and when HubSpot refuses a property), payloads converted and checked before sending, and
 * the writes `sync-properties` makes (properties and property groups).
 */
export class HubspotPropertiesApi {
  readonly schemas: PropertySchemaCache;

  constructor(
    private readonly client: HubspotHttpClient,
    private readonly options: HubspotPropertiesOptions,
    private readonly warn: (message: string) => void,
    private readonly paths: HubspotPaths,
  ) {
    this.schemas = new PropertySchemaCache((type) => this.load(type), {
      ttlMs: options.ttlMs,
      minRefreshMs: options.minRefreshMs,
    });
  }

  async read(objectType: string): Promise<CrmPropertyDefinition[]> {
    const response = await this.client.request<{
      results?: HubspotPropertyJson[];
    }>({
      method: 'GET',
      path: this.paths.properties(objectType),
    });
    return (response.data?.results ?? []).map(toDefinition);
  }

  async create(
    objectType: string,
    definition: CrmPropertyDefinition,
  ): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: this.paths.properties(objectType),
      body: {
        name: definition.name,
        label: definition.label ?? definition.name,
        type: definition.type,
        fieldType: definition.fieldType ?? defaultFieldType(definition.type),
        groupName: definition.groupName,
        description: definition.description,
        hasUniqueValue: definition.hasUniqueValue,
        ...(definition.hidden ? { hidden: true, formField: false } : {}),
        options: definition.options?.map((o, i) => ({
          value: o.value,
          label: o.label ?? o.value,
          displayOrder: i,
          hidden: o.hidden ?? false,
        })),
      },
    });
    this.schemas.invalidate(objectType);
  }

  async readGroups(objectType: string): Promise<CrmPropertyGroup[]> {
    const response = await this.client.request<{
      results?: Array<{ name: string; label?: string }>;
    }>({
      method: 'GET',
      path: `${LEGACY_PROPERTIES_PATH}/${encodeURIComponent(objectType)}/groups`,
    });
    return (response.data?.results ?? []).map((g) => ({
      name: g.name,
      label: g.label ?? g.name,
    }));
  }

  async createGroup(
    objectType: string,
    group: CrmPropertyGroup,
  ): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: `${LEGACY_PROPERTIES_PATH}/${encodeURIComponent(objectType)}/groups`,
      body: { name: group.name, label: group.label },
    });
  }

  /** The schema used to check payloads; null when checks are off or it cannot be read. */
  async schemaFor(objectType: string): Promise<PropertySchema | null> {
    return this.options.validate ? this.schemas.get(objectType) : null;
  }

  /**
   * Converts and checks many payloads with one schema read; a payload refused for a property
   * or option the cached schema may not know yet is checked again after one refresh.
   */
  async checkMany<K>(
    objectType: string,
    payloads: Array<{ key: K; payload: CrmPayload }>,
  ): Promise<Map<K, Record<string, string> | CrmValidationError>> {
    let schema = await this.schemaFor(objectType);
    const out = new Map<K, Record<string, string> | CrmValidationError>();
    const check = (payload: CrmPayload) => {
      try {
        return toCheckedProperties(
          objectType,
          payload,
          schema?.properties ?? null,
        );
      } catch (error) {
        if (error instanceof CrmValidationError) return error;
        throw error;
      }
    };
    for (const { key, payload } of payloads) out.set(key, check(payload));
    const stale = payloads.filter(({ key }) => {
      const result = out.get(key);
      return (
        result instanceof CrmValidationError &&
        (result.problems ?? []).some((p) => STALE_RULES.has(p.rule))
      );
    });
    if (schema && stale.length) {
      const fresher = await this.schemas.refresh(objectType);
      if (fresher && fresher !== schema) {
        schema = fresher;
        for (const { key, payload } of stale) out.set(key, check(payload));
      }
    }
    return out;
  }

  /** One payload (the single-record path); throws its CrmValidationError. */
  async checkOne(
    objectType: string,
    payload: CrmPayload,
  ): Promise<Record<string, string>> {
    const result = (
      await this.checkMany(objectType, [{ key: 0, payload }])
    ).get(0)!;
    if (result instanceof CrmValidationError) throw result;
    return result;
  }

  /** HubSpot refused a property we let through: read the schema again next time. */
  noteRefusal(objectType: string, error: unknown): void {
    if (
      error instanceof CrmValidationError &&
      !error.rule &&
      PROPERTY_REFUSAL.test(error.message)
    ) {
      this.schemas.invalidate(objectType);
    }
  }

  private async load(
    objectType: string,
  ): Promise<CrmPropertyDefinition[] | null> {
    try {
      return await this.read(objectType);
    } catch (error) {
      this.warn(
        error instanceof CrmAuthError
          ? `cannot read the ${objectType} properties (${error.message}); payloads are sent unchecked. Grant the crm.schemas.${objectType}.read scope to check them before sending`
          : `cannot read the ${objectType} properties (${(error as Error).message}); payloads are sent unchecked until the next read`,
      );
      return null;
    }
  }
}

function toDefinition(json: HubspotPropertyJson): CrmPropertyDefinition {
  const type = (TYPES as readonly string[]).includes(json.type ?? '')
    ? (json.type as CrmPropertyType)
    : 'string';
  return {
    name: json.name,
    type,
    fieldType: json.fieldType,
    label: json.label,
    description: json.description,
    groupName: json.groupName,
    options: json.options?.map((o) => ({
      value: o.value,
      label: o.label,
      hidden: o.hidden,
    })),
    readOnly: json.modificationMetadata?.readOnlyValue ?? false,
    calculated: json.calculated ?? false,
    hasUniqueValue: json.hasUniqueValue ?? false,
    maxLength: type === 'string' ? HUBSPOT_MAX_STRING_LENGTH : undefined,
  };
}

/** HubSpot needs a fieldType; these are the ones the UI offers by default per type. */
export function defaultFieldType(type: CrmPropertyType): string {
  switch (type) {
    case 'number':
      return 'number';
    case 'date':
    case 'datetime':
      return 'date';
    case 'bool':
      return 'booleancheckbox';
    case 'enumeration':
      return 'select';
    default:
      return 'text';
  }
}
