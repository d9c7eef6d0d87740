/** Value types a CRM property can have (HubSpot's `type`). */
export type CrmPropertyType =
  'string' | 'number' | 'date' | 'datetime' | 'bool' | 'enumeration';

export interface CrmPropertyOption {
  value: string;
  label?: string;
  hidden?: boolean;
}

/** A property as the CRM defines it (read from its properties API). */
export interface CrmPropertyDefinition {
  name: string;
  type: CrmPropertyType;
  /** How the CRM shows it: `text`, `textarea`, `select`, `checkbox` (multi-select), `booleancheckbox`… */
  fieldType?: string;
  label?: string;
  description?: string;
  groupName?: string;
  options?: CrmPropertyOption[];
  /** Values cannot be written through the API (HubSpot: `modificationMetadata.readOnlyValue`). */
  readOnly?: boolean;
  /** Computed by the CRM (HubSpot: `calculated`); never writable. */
  calculated?: boolean;
  hasUniqueValue?: boolean;
  /** Hidden from HubSpot's forms and record sidebar (the library's own key property). */
  hidden?: boolean;
  /** Longest value the CRM accepts, in characters. */
  maxLength?: number;
}

/** A property group (where `sync-properties` creates the properties it provisions). */
export interface CrmPropertyGroup {
  name: string;
  label: string;
}

/** What `null` in a payload does: `clear` sends "" (clears the CRM value), `omit` leaves it untouched. */
export type NullHandling = 'clear' | 'omit';

/**
 * A property a serializer produces, declared next to it (`crmProperties`): `sync-properties`
 * creates it from this, and `nulls` overrides the entity's null handling for this property.
 */
export interface EtlifyPropertySchema {
  type?: CrmPropertyType;
  fieldType?: string;
  label?: string;
  description?: string;
  /** Enumeration options; plain strings use the value as label. */
  options?: Array<string | CrmPropertyOption>;
  hasUniqueValue?: boolean;
  nulls?: NullHandling;
}

export type EtlifyPropertySchemas = Record<string, EtlifyPropertySchema>;

/** Optional adapter methods behind pre-flight validation and `sync-properties`. */
export interface CrmPropertyMethods {
  /** Every property of an object type, as the CRM defines it. */
  readProperties?(objectType: string): Promise<CrmPropertyDefinition[]>;
  /** Creates a property (in `definition.groupName`). */
  createProperty?(
    objectType: string,
    definition: CrmPropertyDefinition,
  ): Promise<void>;
  readPropertyGroups?(objectType: string): Promise<CrmPropertyGroup[]>;
  createPropertyGroup?(
    objectType: string,
    group: CrmPropertyGroup,
  ): Promise<void>;
}
