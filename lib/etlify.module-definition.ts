import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  ETLIFY_MODULE_EXTRAS,
  ETLIFY_MODULE_OPTIONS_TOKEN,
} from './etlify.constants';
import type {
  EtlifyModuleOptions,
  EtlifyQueueOptions,
} from './interfaces/etlify-options.interface';
import { captureModuleParts } from './capture/capture.module-parts';
import type { ModuleParts } from './module-parts.interface';
import { queueModuleParts } from './queue/queue.module-parts';
import { opsModuleParts } from './ops/ops.module-parts';
import { rateModuleParts } from './rate/rate.module-parts';
import { staleModuleParts } from './stale/stale.module-parts';
import { CrmSynchronisation } from './sync/crm-synchronisation.entity';
import { CrmAssociationState } from './associations/crm-association-state.entity';

/**
 * Options that shape the module itself and so must be known before any factory runs:
 * the DataSource the sync-state entity is registered with, and the Bull queue.
 * With `forRoot` they sit among the other options; with `forRootAsync` pass them at its top level.
 */
export interface EtlifyModuleExtras {
  /** Make SyncService/CrmRegistry injectable everywhere. Default true. */
  isGlobal?: boolean;
  dataSource?: string | DataSource;
  queue?: EtlifyQueueOptions | false;
  /**
   * With `forRootAsync`: the names of the CRMs its factory returns, so `@InjectCrmAdapter(name)` can
   * be provided before the factory runs (`forRoot` takes them from `crms`).
   */
  crmNames?: string[];
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: ETLIFY_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EtlifyModuleOptions>({
  moduleName: 'Etlify',
  optionsInjectionToken: ETLIFY_MODULE_OPTIONS_TOKEN,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createEtlifyOptions')
  .setExtras<EtlifyModuleExtras>(
    {
      isGlobal: true,
      dataSource: undefined,
      queue: undefined,
      crmNames: undefined,
    },
    (definition, extras) => {
      // Each feature owns the imports and providers it needs.
      const parts: ModuleParts[] = [
        queueModuleParts(extras),
        captureModuleParts(extras),
        staleModuleParts(extras),
        rateModuleParts(extras),
        opsModuleParts(extras),
      ];
      return {
        ...definition,
        global: extras.isGlobal,
        imports: [
          ...(definition.imports ?? []),
          DiscoveryModule,
          TypeOrmModule.forFeature(
            [CrmSynchronisation, CrmAssociationState],
            extras.dataSource,
          ),
          ...parts.flatMap((p) => p.imports ?? []),
        ],
        providers: [
          ...(definition.providers ?? []),
          {
            provide: ETLIFY_MODULE_EXTRAS,
            useValue: { dataSource: extras.dataSource, queue: extras.queue },
          },
          ...parts.flatMap((p) => p.providers ?? []),
        ],
        exports: [
          ...(definition.exports ?? []),
          ...parts.flatMap((p) => p.exports ?? []),
        ],
      };
    },
  )
  .build();
