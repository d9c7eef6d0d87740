import { notFound, SandboxHttpError, validationError } from './sandbox-errors';
import type {
  SandboxPropertyDefinition,
  SandboxPropertyInput,
} from './sandbox-properties';
import type { SandboxStore } from './sandbox-store';

/** What `POST /crm-object-schemas/v3/schemas` takes (the fields the sandbox uses). */
export interface SandboxObjectSchemaInput {
  /** Internal name: letters, digits and underscores, starting with a letter. */
  name: string;
  labels?: { singular?: string; plural?: string };
  primaryDisplayProperty?: string;
  requiredProperties?: string[];
  searchableProperties?: string[];
  /** Properties to define (type defaults to `string`). */
  properties?: Array<Partial<SandboxPropertyInput> & { name: string }>;
  /** Object types this one can be associated with: `CONTACT`, `COMPANY`, `DEAL`, `TICKET` or type ids. */
  associatedObjects?: string[];
}

/** A custom object schema as the schemas API answers it. */
export interface SandboxObjectSchema {
  id: string;
  objectTypeId: string;
  fullyQualifiedName: string;
  name: string;
  labels: { singular: string; plural: string };
  primaryDisplayProperty?: string;
  requiredProperties: string[];
  searchableProperties: string[];
  properties: SandboxPropertyDefinition[];
  associations: Array<{
    id: string;
    name: string;
    fromObjectTypeId: string;
    toObjectTypeId: string;
  }>;
  metaType: 'PORTAL_SPECIFIC';
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** A property group as the properties API answers it. */
export interface SandboxPropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

/** Object type ids of the standard objects. */
const STANDARD_TYPE_IDS: Record<string, string> = {
  contacts: '0-1',
  companies: '0-2',
  deals: '0-3',
  tickets: '0-5',
};

const ASSOCIATED_OBJECT_NAMES: Record<string, string> = {
  CONTACT: 'contacts',
  COMPANY: 'companies',
  DEAL: 'deals',
  TICKET: 'tickets',
};

/**
 * Custom object schemas. A schema's object is reachable by its object type id (`2-<id>`) and its
 * fully qualified name (`p<portalId>_<name>`), which name the same records, properties and
 * associations everywhere the API takes an object type.
 */
export class SandboxSchemas {
  private readonly schemas = new Map<string, SandboxObjectSchema>();
  private readonly propertyGroups = new Map<string, SandboxPropertyGroup[]>();
  private nextId = 2_000_001;

  constructor(
    private readonly store: SandboxStore,
    private readonly portalId: () => number,
  ) {}

  /** `0-1` for contacts, `2-<id>` for a custom object; the canonical name when unknown. */
  objectTypeId(canonical: string): string {
    return (
      STANDARD_TYPE_IDS[canonical] ??
      this.schemas.get(canonical)?.objectTypeId ??
      canonical
    );
  }

  /** A type's property groups: HubSpot's default one (`contactinformation`, …) and created ones. */
  groups(objectType: string): SandboxPropertyGroup[] {
    let groups = this.propertyGroups.get(objectType);
    if (!groups) {
      const singular = objectType.replace(/ies$/, 'y').replace(/s$/, '');
      groups = [
        {
          name: `${singular}information`,
          label: 'Information',
          displayOrder: -1,
          archived: false,
        },
        // Where the sandbox puts properties defined without a group.
        {
          name: 'information',
          label: 'Information',
          displayOrder: -1,
          archived: false,
        },
      ];
      this.propertyGroups.set(objectType, groups);
    }
    return groups;
  }

  group(objectType: string, name: string): SandboxPropertyGroup {
    const found = this.groups(objectType).find((g) => g.name === name);
    if (!found)
      throw notFound(`Unable to find property group ${name} for ${objectType}`);
    return found;
  }

  createGroup(objectType: string, raw: unknown): SandboxPropertyGroup {
    const input = (raw ?? {}) as Partial<SandboxPropertyGroup>;
    if (
      typeof input.name !== 'string' ||
      !/^[a-z][a-z0-9_]*$/.test(input.name)
    ) {
      throw validationError(
        'name is required: lowercase letters, digits and underscores',
      );
    }
    if (typeof input.label !== 'string' || input.label === '') {
      throw validationError('label is required');
    }
    const groups = this.groups(objectType);
    if (groups.some((g) => g.name === input.name)) {
      throw new SandboxHttpError(409, {
        status: 'error',
        message: `A property group named ${input.name} already exists`,
        category: 'OBJECT_ALREADY_EXISTS',
      });
    }
    const group = {
      name: input.name,
      label: input.label,
      displayOrder:
        typeof input.displayOrder === 'number' ? input.displayOrder : -1,
      archived: false,
    };
    groups.push(group);
    return group;
  }

  list(): SandboxObjectSchema[] {
    return [...this.schemas.values()];
  }

  get(objectType: string): SandboxObjectSchema {
    const canonical = this.store.type(objectType).objectType;
    const schema = this.schemas.get(canonical);
    if (!schema) throw notFound(`Unable to find object type ${objectType}`);
    return {
      ...schema,
      properties: [...this.store.type(canonical).properties.values()].filter(
        (p) => !p.hubspotDefined,
      ),
    };
  }

  define(raw: unknown): SandboxObjectSchema {
    const input = (raw ?? {}) as Partial<SandboxObjectSchemaInput>;
    if (
      typeof input.name !== 'string' ||
      !/^[A-Za-z][A-Za-z0-9_]*$/.test(input.name)
    ) {
      throw validationError(
        'name is required: letters, digits and underscores, starting with a letter',
      );
    }
    const name = input.name.toLowerCase();
    const fullyQualifiedName = `p${this.portalId()}_${name}`;
    if (this.schemas.has(fullyQualifiedName)) {
      throw new SandboxHttpError(409, {
        status: 'error',
        message: `Object type with name ${input.name} already exists`,
        category: 'OBJECT_ALREADY_EXISTS',
      });
    }
    const id = String(this.nextId++);
    const objectTypeId = `2-${id}`;
    this.store.aliases.set(objectTypeId, fullyQualifiedName);
    const types = this.store.type(fullyQualifiedName);
    const now = new Date().toISOString();
    for (const property of input.properties ?? []) {
      types.defineProperty(
        {
          type: 'string',
          ...property,
          name: property.name,
        } as SandboxPropertyInput,
        now,
      );
    }
    // A custom object is strict from its creation: only its defined properties are accepted.
    types.strict = true;
    const associations = (input.associatedObjects ?? []).map((target) => {
      const to = this.store.type(
        ASSOCIATED_OBJECT_NAMES[target] ?? target,
      ).objectType;
      const [forward] = this.store.associations.definePair(
        fullyQualifiedName,
        to,
        {
          label: null,
          category: 'USER_DEFINED',
        },
      );
      return {
        id: String(forward.typeId),
        name: `${name}_to_${to.replace(/s$/, '')}`,
        fromObjectTypeId: objectTypeId,
        toObjectTypeId: this.objectTypeId(to),
      };
    });
    const schema: SandboxObjectSchema = {
      id,
      objectTypeId,
      fullyQualifiedName,
      name,
      labels: {
        singular: input.labels?.singular ?? input.name,
        plural: input.labels?.plural ?? input.name,
      },
      primaryDisplayProperty: input.primaryDisplayProperty,
      requiredProperties: input.requiredProperties ?? [],
      searchableProperties: input.searchableProperties ?? [],
      properties: [],
      associations,
      metaType: 'PORTAL_SPECIFIC',
      createdAt: now,
      updatedAt: now,
      archived: false,
    };
    this.schemas.set(fullyQualifiedName, schema);
    return this.get(fullyQualifiedName);
  }
}
