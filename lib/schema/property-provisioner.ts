import { CrmAuthError } from '../errors/crm.error';
import type { CrmAdapter } from '../interfaces/crm-adapter.interface';
import type {
  CrmPropertyDefinition,
  CrmPropertyGroup,
  CrmPropertyType,
} from './crm-property.interface';

/**
 * Outcome of checking one property against the CRM (the same words as `etlify provision`'s, so
 * both read alike).
 */
export type PropertyCheckStatus =
  | 'ok' // exists as declared
  | 'would_create' // missing; a run with `apply` creates it
  | 'created' // created by this run (`apply`)
  | 'missing' // missing, and no type is declared to create it from
  | 'mismatch' // exists, but differs in a way that matters (`problems`); never changed here
  | 'forbidden' // the token lacks a scope (`missingScopes`)
  | 'error' // the CRM refused a read or a write
  | 'unsupported'; // the adapter cannot read or create properties

export interface PropertyCheck {
  crm: string;
  objectType: string;
  /** The property's name. */
  name: string;
  status: PropertyCheckStatus;
  /** Declared type, when there is one. */
  expected?: CrmPropertyType;
  /** Type in the CRM, when it exists. */
  actual?: CrmPropertyType;
  /** One sentence for a person: what was found and what to do. */
  message: string;
  problems?: string[];
  missingScopes?: string[];
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
      name: requirement.name,
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
      return this.failed(base, error, 'read');
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
        status: 'would_create',
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
      return this.failed(base, error, 'write');
    }
  }

  private compare(
    base: Omit<PropertyCheck, 'status' | 'message'>,
    requirement: PropertyRequirement,
    found: CrmPropertyDefinition,
  ): PropertyCheck {
    const actual = found.type;
    const problems: string[] = [];
    if (requirement.type && requirement.type !== actual)
      problems.push(`its type is ${actual}, not ${requirement.type}`);
    if (requirement.hasUniqueValue && !found.hasUniqueValue)
      problems.push('it is not unique (hasUniqueValue is false)');
    if (found.readOnly || found.calculated)
      problems.push(
        `it is ${found.calculated ? 'calculated' : 'read-only'}: the serializer cannot write it`,
      );
    const known = new Set((found.options ?? []).map((o) => o.value));
    const absent = (requirement.options ?? [])
      .map((o) => o.value)
      .filter((v) => !known.has(v));
    if (absent.length)
      problems.push(`it lacks the option(s) ${absent.join(', ')}`);
    if (!problems.length)
      return { ...base, actual, status: 'ok', message: 'ok' };
    return {
      ...base,
      actual,
      status: 'mismatch',
      problems,
      message: `exists but ${problems.join('; ')}: fix the declaration or the property in the CRM (a type or uniqueness cannot change in place; create another property)`,
    };
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

  private failed(
    base: Omit<PropertyCheck, 'status' | 'message'>,
    error: unknown,
    access: 'read' | 'write',
  ): PropertyCheck {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof CrmAuthError) {
      const scope = schemaScope(base.objectType, access);
      return {
        ...base,
        status: 'forbidden',
        missingScopes: [scope],
        message: `cannot ${access} the ${base.objectType} properties: the token lacks the scope ${scope}; add it to the private app (Settings → Integrations → Private apps → Scopes) and run again`,
      };
    }
    return {
      ...base,
      status: 'error',
      message: `cannot ${access}: ${message}`,
    };
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
