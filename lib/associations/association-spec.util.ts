import type { EntityMetadata } from 'typeorm';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { EtlifiedEntityOptions } from '../interfaces/etlified-entity-options.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { CrmRegistry } from '../registry/crm.registry';
import type { AssociationSpec } from './association-spec.interface';
import { CrmAssociationState } from './crm-association-state.entity';

const CATEGORIES = ['HUBSPOT_DEFINED', 'USER_DEFINED', 'INTEGRATOR_DEFINED'];

/**
 * Checks `associations` of a declaration and groups them per relation. A many-to-one (or owning
 * one-to-one) association relation is added to `syncDependencies`, so the record waits until
 * the related record has a CRM id, as the sync of a parent does.
 */
export function resolveAssociationSpecs(
  entity: string,
  declaration: EtlifiedEntityOptions,
  metadata: EntityMetadata,
  warnings: string[] = [],
): AssociationSpec[] {
  const where = `@EtlifiedEntity on ${entity} (CRM "${declaration.crm}")`;
  const list = declaration.associations ?? [];
  if (!Array.isArray(list)) {
    throw new EtlifyConfigurationError(
      `${where}: associations must be an array, e.g. [{ relation: 'company', to: 'companies', typeId: 279 }]`,
    );
  }
  const specs = new Map<string, AssociationSpec>();
  list.forEach((a, i) => {
    const at = `${where}: associations[${i}]`;
    const relation =
      typeof a?.relation === 'string'
        ? metadata.findRelationWithPropertyPath(a.relation)
        : undefined;
    if (!relation) {
      const names = metadata.relations
        .map((r) => `"${r.propertyName}"`)
        .join(', ');
      throw new EtlifyConfigurationError(
        `${at}: relation "${String(a?.relation)}" is not a relation of ${entity}; use one of ${names || '(no relations)'}`,
      );
    }
    if (
      a.to !== undefined &&
      (typeof a.to !== 'string' || a.to.trim() === '')
    ) {
      throw new EtlifyConfigurationError(
        `${at}: "to" must name the CRM object type of the related records, e.g. 'companies'`,
      );
    }
    if (
      a.typeId !== undefined &&
      (!Number.isInteger(a.typeId) || a.typeId <= 0)
    ) {
      throw new EtlifyConfigurationError(
        `${at}: typeId must be a positive integer (HubSpot's associationTypeId, e.g. 279 for contact → company)`,
      );
    }
    if (a.category !== undefined && !CATEGORIES.includes(a.category)) {
      throw new EtlifyConfigurationError(
        `${at}: category must be one of ${CATEGORIES.join(', ')}`,
      );
    }
    if (
      a.label !== undefined &&
      (typeof a.label !== 'string' || a.label.trim() === '')
    ) {
      throw new EtlifyConfigurationError(
        `${at}: label must be the name of an association label, e.g. 'Billing contact'`,
      );
    }
    const spec = specs.get(relation.propertyPath) ?? {
      name: relation.propertyPath,
      relation,
      toObjectType: a.to,
      types: [],
    };
    if (a.to && spec.toObjectType && spec.toObjectType !== a.to) {
      throw new EtlifyConfigurationError(
        `${at}: relation "${relation.propertyPath}" is declared with two object types (${spec.toObjectType}, ${a.to}); one relation points at one object type`,
      );
    }
    spec.toObjectType ??= a.to;
    if (a.typeId !== undefined || a.label !== undefined) {
      spec.types.push({
        typeId: a.typeId,
        category:
          a.category ??
          (a.typeId !== undefined ? 'HUBSPOT_DEFINED' : undefined),
        label: a.typeId === undefined ? a.label : undefined,
      });
    }
    specs.set(relation.propertyPath, spec);
    if (
      (relation.isOneToMany || relation.isManyToMany) &&
      !(declaration.dependencies ?? []).includes(relation.propertyPath)
    ) {
      warnings.push(
        `${where}: association "${relation.propertyPath}" is a ${relation.isOneToMany ? 'one-to-many' : 'many-to-many'} relation; list it in dependencies too, or a change made from the other side (${relation.isOneToMany ? 'a related row changing its foreign key' : 'a junction row'}) reaches the CRM only when ${entity} itself changes`,
      );
    }
    if (relation.isManyToOne || (relation.isOneToOne && relation.isOwning)) {
      const deps = declaration.syncDependencies ?? [];
      if (!deps.includes(relation.propertyPath)) {
        declaration.syncDependencies = [...deps, relation.propertyPath];
      }
    }
  });
  return [...specs.values()];
}

/**
 * Once every entity is registered: each association points at an entity mirrored into the same
 * CRM, through an adapter that can associate; `to` defaults to that entity's object type.
 */
export function checkAssociationTargets(registry: CrmRegistry): void {
  for (const config of registry.getEntityConfigs()) {
    if (!config.associations?.length) continue;
    const where = `@EtlifiedEntity on ${config.resourceType} (CRM "${config.crm}")`;
    if (!registry.dataSource.hasMetadata(CrmAssociationState)) {
      throw new EtlifyConfigurationError(
        `${where}: declares associations, but the CrmAssociationState entity is not registered with the DataSource; enable \`autoLoadEntities: true\` in TypeOrmModule.forRoot, or add CrmAssociationState (exported by nestjs-etlify) to its \`entities\``,
      );
    }
    const adapter = registry.getAdapter(config.crm);
    if (!adapter.associate || !adapter.disassociate) {
      throw new EtlifyConfigurationError(
        `${where}: declares associations, but the adapter of CRM "${config.crm}" has no associate()/disassociate(); use HubspotAdapter or implement them`,
      );
    }
    for (const spec of config.associations) {
      const target = targetConfig(registry, config, spec);
      if (!target) {
        const name = (spec.relation.inverseEntityMetadata.target as Function)
          .name;
        throw new EtlifyConfigurationError(
          `${where}: association "${spec.name}" points at ${name}, which is not mirrored into CRM "${config.crm}"; decorate ${name} with @EtlifiedEntity({ crm: '${config.crm}', ... })`,
        );
      }
      spec.toObjectType ??= target.options.crmObjectType;
      if (
        spec.types.some((t) => t.typeId === undefined) &&
        !adapter.associationLabels
      ) {
        throw new EtlifyConfigurationError(
          `${where}: association "${spec.name}" names a label, but the adapter of CRM "${config.crm}" cannot list labels; give typeId instead`,
        );
      }
    }
  }
}

/** The configuration (same CRM) of the entity an association's relation points at. */
export function targetConfig(
  registry: CrmRegistry,
  config: EntitySyncConfig,
  spec: AssociationSpec,
): EntitySyncConfig | undefined {
  return registry
    .getEntityConfigs(spec.relation.inverseEntityMetadata.target as Function)
    .find((c) => c.crm === config.crm);
}
