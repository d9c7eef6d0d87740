import { Injectable, Logger } from '@nestjs/common';
import { selectTree } from '../sync/find-options.util';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import { SyncEngine } from '../sync/sync-engine.service';
import type {
  CrmPropertyGroup,
  EtlifyPropertySchema,
} from './crm-property.interface';
import {
  PropertyProvisioner,
  type PropertyCheck,
  type PropertyRequirement,
} from './property-provisioner';
import { crmTypeKey } from '../util/crm-key.util';

/** Group `sync-properties` creates properties in when the serializer names none. */
export const DEFAULT_PROPERTY_GROUP: CrmPropertyGroup = {
  name: 'etlify',
  label: 'Etlify',
};

export interface SyncPropertiesOptions {
  crm?: string;
  /** Entity classes (or names); default every etlified entity. */
  entities?: Array<Function | string>;
  /** Create what is missing; default false (dry run: reads only). */
  apply?: boolean;
}

export interface PropertySyncReport {
  apply: boolean;
  /** One line per CRM, object type and property, with the entities producing it. */
  checks: Array<PropertyCheck & { entities: string[] }>;
  /** Missing: `would_create` (dry run) plus `missing` (no declared type). */
  missing: number;
  created: number;
  mismatched: number;
  /** `forbidden`, `error` and `unsupported`. */
  errors: number;
}

interface Wanted {
  crm: string;
  objectType: string;
  requirement: PropertyRequirement;
  group: CrmPropertyGroup;
  entities: Set<string>;
}

/**
 * `etlify sync-properties`: the properties serializers produce (declared in `crmProperties`,
 * plus those a sample record's payload holds) checked against each CRM, and with `apply` the
 * missing ones created from their declaration, in the serializer's property group.
 */
@Injectable()
export class PropertySyncService {
  private readonly logger = new Logger(PropertySyncService.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly engine: SyncEngine,
  ) {}

  async syncProperties(
    options: SyncPropertiesOptions = {},
  ): Promise<PropertySyncReport> {
    const wanted = new Map<string, Wanted>();
    for (const config of this.configs(options)) {
      const group =
        config.serializer.crmPropertyGroup ?? DEFAULT_PROPERTY_GROUP;
      const declared = config.serializer.crmProperties ?? {};
      const produced = new Set([
        ...Object.keys(declared),
        ...Object.keys(await this.samplePayload(config)),
      ]);
      for (const name of produced) {
        const key = crmTypeKey(config.crm, config.options.crmObjectType, name);
        const entry = wanted.get(key) ?? {
          crm: config.crm,
          objectType: config.options.crmObjectType,
          requirement: toRequirement(name, declared[name]),
          group,
          entities: new Set<string>(),
        };
        if (!entry.requirement.type && declared[name]?.type) {
          entry.requirement = toRequirement(name, declared[name]);
        }
        entry.entities.add(config.resourceType);
        wanted.set(key, entry);
      }
    }
    const provisioners = new Map<string, PropertyProvisioner>();
    const checks: PropertySyncReport['checks'] = [];
    for (const entry of wanted.values()) {
      let provisioner = provisioners.get(entry.crm);
      if (!provisioner) {
        provisioner = new PropertyProvisioner(
          this.registry.getAdapter(entry.crm),
          entry.crm,
        );
        provisioners.set(entry.crm, provisioner);
      }
      const check = await provisioner.ensure(
        entry.objectType,
        entry.requirement,
        {
          apply: options.apply ?? false,
          group: entry.group,
        },
      );
      checks.push({ ...check, entities: [...entry.entities] });
    }
    const count = (status: PropertyCheck['status']) =>
      checks.filter((c) => c.status === status).length;
    return {
      apply: options.apply ?? false,
      checks,
      missing: count('would_create') + count('missing'),
      created: count('created'),
      mismatched: count('mismatch'),
      errors: count('forbidden') + count('error') + count('unsupported'),
    };
  }

  /** The payload of one stored record (the properties a serializer really writes), or none. */
  private async samplePayload(config: EntitySyncConfig): Promise<CrmPayload> {
    try {
      const key = config.primaryColumn.propertyName;
      const [first] = await this.registry.dataSource
        .getRepository(config.target)
        .find({ select: selectTree([key]), take: 1, order: { [key]: 'ASC' } });
      if (!first) return {};
      const entity = await this.engine.load(config, first[key]);
      if (!entity || (config.options.syncIf && !config.options.syncIf(entity)))
        return {};
      return await config.serializer.toCrmPayload(entity, {
        crm: config.crm,
        crmIdOf: () => null,
      });
    } catch (error) {
      this.logger.warn(
        `${config.resourceType}: could not serialize a sample record (${errorMessage(error)}); only crmProperties are checked`,
      );
      return {};
    }
  }

  private configs(options: SyncPropertiesOptions): EntitySyncConfig[] {
    if (options.crm) this.registry.getCrm(options.crm);
    const wanted = options.entities?.map((e) =>
      typeof e === 'string' ? e : e.name,
    );
    const all = this.registry.getEntityConfigs();
    const unknown = (wanted ?? []).filter(
      (n) => !all.some((c) => c.resourceType === n),
    );
    if (unknown.length) {
      throw new Error(
        `Not etlified entities: ${unknown.join(', ')}; known: ${all.map((c) => c.resourceType).join(', ')}`,
      );
    }
    return all
      .filter((c) => !options.crm || c.crm === options.crm)
      .filter((c) => !wanted || wanted.includes(c.resourceType));
  }
}

function toRequirement(
  name: string,
  schema: EtlifyPropertySchema | undefined,
): PropertyRequirement {
  return {
    name,
    type: schema?.type,
    fieldType: schema?.fieldType,
    label: schema?.label ?? humanize(name),
    description: schema?.description,
    hasUniqueValue: schema?.hasUniqueValue,
    options: schema?.options?.map((o) =>
      typeof o === 'string' ? { value: o, label: o } : o,
    ),
  };
}

/** `total_invested` → `Total invested`. */
function humanize(name: string): string {
  const words = name.replace(/_/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
