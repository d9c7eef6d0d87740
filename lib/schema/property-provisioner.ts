import { CrmAuthError } from '../errors/crm.error';
import type { CrmAdapter } from '../interfaces/crm-adapter.interface';
import type {
  CrmPropertyDefinition,
  CrmPropertyGroup,
  CrmPropertyType,
} from './crm-property.interface';

/** Outcome of checking one property against the CRM. */
export type PropertyCheckStatus =
  | 'ok' // exists with the declared type
  | 'missing' // does not exist (dry run, or no type declared to create it from)
  | 'created' // created by this run (`apply`)
  | 'mismatch' // exists, but its type (or uniqueness) disagrees with the declaration
  | 'error' // the CRM refused a read or a write
  | 'unsupported'; // the adapter cannot read properties

export interface PropertyCheck {
  crm: string;
  objectType: string;
  property: string;
  status: PropertyCheckStatus;
  /** Declared type, when there is one. */
  expected?: CrmPropertyType;
  /** Type in the CRM, when it exists. */
  actual?: CrmPropertyType;
  message: string;
}

/** What `ensure` is asked to make exist; without `type` it can only be checked. */
export type PropertyRequirement = Omit<CrmPropertyDefinition, 'type'> & {
  type?: CrmPropertyType;
};

export interface EnsureOptions {
  /** Create what is missing; false (default) only reads. */
  apply?: boolean;
  /** Group a created property goes in; created first when missing. */
  group?: CrmPropertyGroup;
}

/**
 * Makes sure CRM properties exist: checks each against the CRM's definitions and, when asked,
 * creates the missing ones (and their group). A dry run only reads. Every property provisioning
 * of the library goes through `ensure`, which reads each object type's properties once per instance.
 */
export class PropertyProvisioner {
  private readonly properties = new Map<
    string,
    Promise<Map<string, CrmPropertyDefinition>>
  >();
  private readonly groups = new Map<string, Promise<Set<string>>>();

  constructor(
    private readonly adapter: CrmAdapter,
    private readonly crmName: string,
  ) {}

  async ensure(
    objectType: string,
    requirement: PropertyRequirement,
    options: EnsureOptions = {},
  ): Promise<PropertyCheck> {
    const base = {
      crm: this.crmName,
      objectType,
      property: requirement.name,
      expected: requirement.type,
    };
    if (!this.adapter.readProperties) {
      return {
        ...base,
        status: 'unsupported',
        message: `the adapter of CRM "${this.crmName}" cannot read properties`,
      };
    }
    let existing: Map<string, CrmPropertyDefinition>;
    try {
      existing = await this.read(objectType);
    } catch (error) {
      return {
        ...base,
        status: 'error',
        message: this.explain(error, objectType, 'read'),
      };
    }
    const found = existing.get(requirement.name);
    if (found) return this.compare(base, requirement, found);
    if (!requirement.type) {
      return {
        ...base,
        status: 'missing',
        message: `missing; declare its type in the serializer's crmProperties so --apply can create it`,
      };
    }
    if (!options.apply) {
      return {
        ...base,
        status: 'missing',
        message: `missing; --apply creates it as ${requirement.type}`,
      };
    }
    if (!this.adapter.createProperty) {
      return {
        ...base,
        status: 'unsupported',
        message: `missing, and the adapter of CRM "${this.crmName}" cannot create properties`,
      };
    }
    try {
      const groupName = options.group
        ? await this.ensureGroup(objectType, options.group)
        : requirement.groupName;
      const definition: CrmPropertyDefinition = {
        ...requirement,
        type: requirement.type,
        groupName,
      };
      await this.adapter.createProperty(objectType, definition);
      existing.set(definition.name, definition);
      return {
        ...base,
        status: 'created',
        message: `created as ${requirement.type}${groupName ? ` in group "${groupName}"` : ''}`,
      };
    } catch (error) {
      return {
        ...base,
        status: 'error',
        message: this.explain(error, objectType, 'write'),
      };
    }
  }

  private compare(
    base: Omit<PropertyCheck, 'status' | 'message'>,
    requirement: PropertyRequirement,
    found: CrmPropertyDefinition,
  ): PropertyCheck {
    const actual = found.type;
    if (requirement.type && requirement.type !== actual) {
      return {
        ...base,
        actual,
        status: 'mismatch',
        message: `is ${actual} in the CRM, declared ${requirement.type}; change the declaration, or recreate the property (its values would be lost)`,
      };
    }
    if (requirement.hasUniqueValue && !found.hasUniqueValue) {
      return {
        ...base,
        actual,
        status: 'mismatch',
        message: `exists without unique values; HubSpot cannot add them later: create another property with hasUniqueValue`,
      };
    }
    if (found.readOnly || found.calculated) {
      return {
        ...base,
        actual,
        status: 'mismatch',
        message: `is ${found.calculated ? 'calculated' : 'read-only'} in the CRM: the serializer cannot write it`,
      };
    }
    const known = new Set((found.options ?? []).map((o) => o.value));
    const absent = (requirement.options ?? [])
      .map((o) => o.value)
      .filter((v) => !known.has(v));
    if (absent.length) {
      return {
        ...base,
        actual,
        status: 'mismatch',
        message: `lacks the option(s) ${absent.join(', ')}; add them to the property in the CRM`,
      };
    }
    return { ...base, actual, status: 'ok', message: 'ok' };
  }

  private read(
    objectType: string,
  ): Promise<Map<string, CrmPropertyDefinition>> {
    let pending = this.properties.get(objectType);
    if (!pending) {
      pending = this.adapter.readProperties!(objectType).then(
        (list) => new Map(list.map((p) => [p.name, p])),
      );
      pending.catch(() => this.properties.delete(objectType));
      this.properties.set(objectType, pending);
    }
    return pending;
  }

  /** The group's name, created when the CRM lacks it (adapters without groups: the name as is). */
  private async ensureGroup(
    objectType: string,
    group: CrmPropertyGroup,
  ): Promise<string> {
    if (!this.adapter.readPropertyGroups || !this.adapter.createPropertyGroup)
      return group.name;
    let names = this.groups.get(objectType);
    if (!names) {
      names = this.adapter
        .readPropertyGroups(objectType)
        .then((list) => new Set(list.map((g) => g.name)));
      names.catch(() => this.groups.delete(objectType));
      this.groups.set(objectType, names);
    }
    const known = await names;
    if (!known.has(group.name)) {
      await this.adapter.createPropertyGroup(objectType, group);
      known.add(group.name);
    }
    return group.name;
  }

  private explain(
    error: unknown,
    objectType: string,
    access: 'read' | 'write',
  ): string {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof CrmAuthError) {
      return `${message}; the token needs the ${schemaScope(objectType, access)} scope (HubSpot private app → Scopes)`;
    }
    return message;
  }
}

const SCOPED_TYPES = new Set(['contacts', 'companies', 'deals']);

/** HubSpot's schema scope for an object type (custom objects share `crm.schemas.custom.*`). */
export function schemaScope(
  objectType: string,
  access: 'read' | 'write',
): string {
  const type = SCOPED_TYPES.has(objectType) ? objectType : 'custom';
  return `crm.schemas.${type}.${access}`;
}
