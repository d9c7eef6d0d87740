import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  ETLIFY_MODULE_EXTRAS,
  ETLIFY_MODULE_OPTIONS_TOKEN,
} from '../etlify.constants';
import type { EtlifyModuleExtras } from '../etlify.module-definition';
import {
  ResolvedEtlifyOptions,
  resolveEtlifyOptions,
} from '../etlify-options.util';
import type { CrmAdapter } from '../interfaces/crm-adapter.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { EtlifyModuleOptions } from '../interfaces/etlify-options.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';

/** The CRMs of the module options and the entity configurations discovered at boot. */
@Injectable()
export class CrmRegistry {
  private resolved?: ResolvedEtlifyOptions;
  private readonly crms = new Map<string, RegisteredCrm>();
  private readonly entities = new Map<Function, EntitySyncConfig[]>();
  /** The users' adapters, when an instrumented view stands in front of them. */
  private readonly ownAdapters = new Map<string, CrmAdapter>();
  private source?: DataSource;

  constructor(
    @Inject(ETLIFY_MODULE_OPTIONS_TOKEN)
    private readonly rawOptions: EtlifyModuleOptions,
    @Inject(ETLIFY_MODULE_EXTRAS) private readonly extras: EtlifyModuleExtras,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Validated options with defaults; validation runs once, at boot (throws EtlifyConfigurationError). */
  get options(): ResolvedEtlifyOptions {
    if (!this.resolved) {
      const merged: EtlifyModuleOptions = { ...this.rawOptions };
      if (this.extras.dataSource !== undefined)
        merged.dataSource = this.extras.dataSource;
      if (this.extras.queue !== undefined) merged.queue = this.extras.queue;
      this.resolved = resolveEtlifyOptions(merged);
      for (const crm of this.resolved.crms) this.crms.set(crm.name, { ...crm });
    }
    return this.resolved;
  }

  /** The TypeORM DataSource holding the etlified entities and the sync state. */
  get dataSource(): DataSource {
    if (!this.source) {
      const configured = this.options.dataSource;
      this.source =
        configured instanceof DataSource
          ? configured
          : this.moduleRef.get<DataSource>(getDataSourceToken(configured), {
              strict: false,
            });
    }
    return this.source;
  }

  getCrms(): RegisteredCrm[] {
    void this.options;
    return [...this.crms.values()];
  }

  hasCrm(name: string): boolean {
    void this.options;
    return this.crms.has(name);
  }

  /** Throws for an unknown name: that is a programming error, not a CRM failure. */
  getCrm(name: string): RegisteredCrm {
    void this.options;
    const crm = this.crms.get(name);
    if (!crm) {
      throw new Error(
        `Unknown CRM "${name}": declared CRMs are ${[...this.crms.keys()].map((n) => `"${n}"`).join(', ')}`,
      );
    }
    return crm;
  }

  /** The adapter instance the user passed (what @InjectCrmAdapter hands out). */
  getAdapter(name: string): CrmAdapter {
    return this.ownAdapters.get(name) ?? this.getCrm(name).adapter;
  }

  /** Entity configurations, all or those of one entity class. */
  getEntityConfigs(target?: Function): EntitySyncConfig[] {
    if (target) return this.entities.get(target) ?? [];
    return [...this.entities.values()].flat();
  }

  /** The configuration of an entity for one CRM; `crm` may be omitted when there is exactly one. */
  getEntityConfig(target: Function, crm?: string): EntitySyncConfig {
    const configs = this.entities.get(target);
    if (!configs?.length) {
      throw new Error(
        `${target.name} is not an etlified entity: decorate it with @EtlifiedEntity({ crm, serializer, crmObjectType }) and register it with the DataSource`,
      );
    }
    if (crm === undefined) {
      if (configs.length > 1) {
        throw new Error(
          `${target.name} is mirrored into ${configs.length} CRMs (${configs.map((c) => c.crm).join(', ')}): pass { crm } to choose one`,
        );
      }
      return configs[0];
    }
    const config = configs.find((c) => c.crm === crm);
    if (!config) {
      this.getCrm(crm);
      throw new Error(`${target.name} is not mirrored into CRM "${crm}"`);
    }
    return config;
  }

  /** Used by the explorer at boot. */
  registerEntity(config: EntitySyncConfig): void {
    const list = this.entities.get(config.target) ?? [];
    list.push(config);
    this.entities.set(config.target, list);
  }

  /** Used by the explorer at boot, once the rate governor of a CRM is built. */
  setRateGovernor(name: string, governor: RegisteredCrm['rateGovernor']): void {
    this.getCrm(name).rateGovernor = governor;
  }

  /** Operations, at boot: puts a view (metrics) in front of each CRM's adapter; getAdapter keeps the user's. */
  instrumentAdapters(wrap: (crm: RegisteredCrm) => CrmAdapter): void {
    for (const crm of this.getCrms()) {
      if (this.ownAdapters.has(crm.name)) continue;
      this.ownAdapters.set(crm.name, crm.adapter);
      crm.adapter = wrap(crm);
    }
  }
}
