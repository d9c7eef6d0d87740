import {
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { EntityMetadata } from 'typeorm';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { EtlifiedEntityOptions } from '../interfaces/etlified-entity-options.interface';
import type { EtlifySerializer } from '../interfaces/serializer.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { RateGovernorFactory } from '../rate/rate-governor.factory';
import { CrmSynchronisation } from '../sync/crm-synchronisation.entity';
import { EtlifyMetadataAccessor } from './etlify-metadata.accessor';
import {
  checkAssociationTargets,
  resolveAssociationSpecs,
} from '../associations/association-spec.util';
import { nullPolicyOf, withNullPolicy } from '../schema/null-policy.util';

/**
 * Boot-time discovery: validates the options, matches @EtlifiedEntity declarations against the
 * DataSource's entities and the serializers against DI, and fails the boot on any mistake.
 */
@Injectable()
export class EtlifyExplorer implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EtlifyExplorer.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly accessor: EtlifyMetadataAccessor,
    private readonly discovery: DiscoveryService,
  ) {}

  onModuleInit(): void {
    const options = this.registry.options;
    const dataSource = this.registry.dataSource;
    if (!dataSource) {
      throw new EtlifyConfigurationError(
        `EtlifyModule: no TypeORM DataSource "${String(options.dataSource ?? 'default')}" found; import TypeOrmModule.forRoot(...) in your app module or set the "dataSource" option`,
      );
    }
    if (!dataSource.hasMetadata(CrmSynchronisation)) {
      throw new EtlifyConfigurationError(
        'EtlifyModule: the CrmSynchronisation entity is not registered with the DataSource; enable `autoLoadEntities: true` in TypeOrmModule.forRoot, or add CrmSynchronisation (exported by nestjs-etlify) to its `entities`',
      );
    }

    const serializerInstances = new Map<Function, unknown>();
    for (const wrapper of this.discovery.getProviders()) {
      if (wrapper.metatype && wrapper.instance && !wrapper.isAlias) {
        serializerInstances.set(wrapper.metatype, wrapper.instance);
      }
    }
    const constructed = new Map<Function, unknown>();

    for (const metadata of dataSource.entityMetadatas) {
      if (typeof metadata.target !== 'function') continue;
      const declarations = this.accessor.getEntityOptions(metadata.target);
      const crmsSeen = new Set<string>();
      for (const declaration of declarations) {
        const entity = metadata.target.name;
        this.validateDeclaration(entity, declaration, metadata, crmsSeen);
        const hints: string[] = [];
        const associations = resolveAssociationSpecs(
          entity,
          declaration,
          metadata,
          hints,
        );
        for (const hint of hints) this.logger.warn(hint);
        const serializerClass = declaration.serializer as unknown as Function;
        let serializer =
          serializerInstances.get(serializerClass) ??
          constructed.get(serializerClass);
        if (!serializer) {
          serializer = new (declaration.serializer as any)();
          constructed.set(serializerClass, serializer);
        }
        if (
          typeof (serializer as EtlifySerializer).toCrmPayload !== 'function'
        ) {
          throw new EtlifyConfigurationError(
            `@EtlifiedEntity on ${entity}: serializer ${serializerClass.name} has no toCrmPayload(entity) method; implement EtlifySerializer<${entity}>`,
          );
        }
        const version = (serializer as EtlifySerializer).version;
        this.registry.registerEntity({
          target: metadata.target,
          resourceType: entity,
          crm: declaration.crm,
          options: declaration,
          // `nulls: 'omit'` is applied to what the serializer returns (lib/schema/null-policy.util.ts).
          serializer: withNullPolicy(
            serializer as EtlifySerializer,
            nullPolicyOf(
              declaration.nulls,
              serializer as EtlifySerializer,
              `@EtlifiedEntity on ${entity}`,
            ),
          ),
          associations,
          serializerVersion: typeof version === 'number' ? version : null,
          metadata,
          primaryColumn: metadata.primaryColumns[0],
          updatedAtColumn: this.findUpdatedAtColumn(
            entity,
            declaration,
            metadata,
          ),
        });
      }
    }

    const unregistered = this.accessor
      .getDecoratedClasses()
      .filter((target) => !dataSource.hasMetadata(target))
      .filter((target) =>
        this.accessor
          .getEntityOptions(target)
          .some((d) => this.registry.hasCrm(d.crm)),
      )
      .map((target) => target.name);
    if (unregistered.length) {
      throw new EtlifyConfigurationError(
        `@EtlifiedEntity on ${unregistered.join(', ')}: the class is not an entity of the DataSource; decorate it with @Entity() and add it to TypeOrmModule.forRoot({ entities }) (or TypeOrmModule.forFeature([${unregistered[0]}]) with autoLoadEntities)`,
      );
    }

    checkAssociationTargets(this.registry);

    // Governors are built from each CRM's `rateLimit` before adapters receive them.
    const governors = this.discovery
      .getProviders()
      .find((wrapper) => wrapper.metatype === RateGovernorFactory)?.instance as
      RateGovernorFactory | undefined;
    for (const crm of this.registry.getCrms()) {
      if (!crm.rateGovernor && governors) {
        this.registry.setRateGovernor(crm.name, governors.create(crm));
      }
      crm.adapter.attach?.({
        crmName: crm.name,
        rateGovernor: crm.rateGovernor,
      });
    }
    const count = this.registry.getEntityConfigs().length;
    this.logger.log(
      `${count} etlified entit${count === 1 ? 'y' : 'ies'} across ${this.registry.getCrms().length} CRM(s)`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    for (const crm of this.registry.getCrms()) {
      await crm.rateGovernor?.close?.();
      await crm.adapter.close?.();
    }
  }

  private validateDeclaration(
    entity: string,
    declaration: EtlifiedEntityOptions,
    metadata: EntityMetadata,
    crmsSeen: Set<string>,
  ): void {
    const where = `@EtlifiedEntity on ${entity}`;
    if (!declaration.crm || !this.registry.hasCrm(declaration.crm)) {
      const known = this.registry
        .getCrms()
        .map((crm) => `"${crm.name}"`)
        .join(', ');
      throw new EtlifyConfigurationError(
        `${where}: unknown CRM "${declaration.crm}"; use one of ${known} or declare it in EtlifyModule.forRoot({ crms })`,
      );
    }
    if (crmsSeen.has(declaration.crm)) {
      throw new EtlifyConfigurationError(
        `${where}: CRM "${declaration.crm}" is declared twice; use one @EtlifiedEntity per CRM`,
      );
    }
    crmsSeen.add(declaration.crm);
    if (typeof declaration.serializer !== 'function') {
      throw new EtlifyConfigurationError(
        `${where} (CRM "${declaration.crm}"): no serializer; pass serializer: ${entity}Serializer (a class implementing EtlifySerializer<${entity}>)`,
      );
    }
    if (
      !declaration.crmObjectType ||
      typeof declaration.crmObjectType !== 'string'
    ) {
      throw new EtlifyConfigurationError(
        `${where} (CRM "${declaration.crm}"): crmObjectType is required, e.g. 'contacts' or 'companies'`,
      );
    }
    if (metadata.primaryColumns.length !== 1) {
      throw new EtlifyConfigurationError(
        `${where}: entities with ${metadata.primaryColumns.length === 0 ? 'no' : 'a composite'} primary key are not supported; give ${entity} a single primary column`,
      );
    }
    const timeout = declaration.serializerTimeoutMs;
    if (
      timeout !== undefined &&
      (!Number.isInteger(timeout) || (timeout as number) < 1)
    ) {
      throw new EtlifyConfigurationError(
        `${where} (CRM "${declaration.crm}"): serializerTimeoutMs must be a whole number of milliseconds >= 1, got ${String(timeout)}`,
      );
    }
    for (const key of ['dependencies', 'syncDependencies'] as const) {
      for (const relation of declaration[key] ?? []) {
        if (!metadata.findRelationWithPropertyPath(relation)) {
          const relations = metadata.relations
            .map((r) => `"${r.propertyName}"`)
            .join(', ');
          throw new EtlifyConfigurationError(
            `${where}: ${key} names "${relation}", which is not a relation of ${entity}; use one of ${relations || '(no relations)'}`,
          );
        }
      }
    }
  }

  private findUpdatedAtColumn(
    entity: string,
    declaration: EtlifiedEntityOptions,
    metadata: EntityMetadata,
  ) {
    if (declaration.updatedAtColumn) {
      const column = metadata.findColumnWithPropertyName(
        declaration.updatedAtColumn,
      );
      if (!column) {
        throw new EtlifyConfigurationError(
          `@EtlifiedEntity on ${entity}: updatedAtColumn "${declaration.updatedAtColumn}" is not a column of ${entity}`,
        );
      }
      return column;
    }
    return metadata.updateDateColumn;
  }
}
