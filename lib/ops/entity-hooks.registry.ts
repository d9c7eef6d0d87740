import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { EtlifyEntityHooks } from '../interfaces/etlify-entity-hooks.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmRegistry } from '../registry/crm.registry';

/**
 * Checks `hooks` and `crmIdColumn` of every @EtlifiedEntity at boot and holds the hook
 * instances: a provider from DI when the class is one, else one instance built here.
 */
@Injectable()
export class EntityHooksRegistry implements OnApplicationBootstrap {
  private readonly hooks = new Map<EntitySyncConfig, EtlifyEntityHooks>();

  constructor(
    private readonly registry: CrmRegistry,
    private readonly discovery: DiscoveryService,
  ) {}

  onApplicationBootstrap(): void {
    const providers = new Map<Function, unknown>();
    for (const wrapper of this.discovery.getProviders())
      if (wrapper.metatype && wrapper.instance && !wrapper.isAlias)
        providers.set(wrapper.metatype, wrapper.instance);
    for (const config of this.registry.getEntityConfigs()) {
      const where = `@EtlifiedEntity on ${config.resourceType} (CRM "${config.crm}")`;
      const column = config.options.crmIdColumn;
      if (column !== undefined) {
        const found = config.metadata.findColumnWithPropertyName(column);
        if (!found || found.isPrimary || found.relationMetadata) {
          throw new EtlifyConfigurationError(
            `${where}: crmIdColumn "${column}" is not a plain column of ${config.resourceType}; add @Column({ type: 'varchar', length: 64, nullable: true }) ${column}, or remove crmIdColumn`,
          );
        }
      }
      const hooksClass = config.options.hooks;
      if (hooksClass === undefined) continue;
      if (typeof hooksClass !== 'function') {
        throw new EtlifyConfigurationError(
          `${where}: hooks must be a class implementing EtlifyEntityHooks (afterSync / onError), e.g. hooks: ${config.resourceType}SyncHooks`,
        );
      }
      const instance = (providers.get(hooksClass) ??
        new (hooksClass as new () => EtlifyEntityHooks)()) as EtlifyEntityHooks;
      if (
        typeof instance.afterSync !== 'function' &&
        typeof instance.onError !== 'function'
      ) {
        throw new EtlifyConfigurationError(
          `${where}: hooks class ${hooksClass.name} has neither afterSync() nor onError(); implement EtlifyEntityHooks`,
        );
      }
      this.hooks.set(config, instance);
    }
  }

  of(config: EntitySyncConfig): EtlifyEntityHooks | undefined {
    return this.hooks.get(config);
  }
}
