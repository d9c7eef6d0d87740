import { Module } from '@nestjs/common';
import {
  requestedCrmAdapterNames,
  getCrmAdapterToken,
} from './decorators/inject-crm-adapter.decorator';
import { EtlifyMetadataAccessor } from './discovery/etlify-metadata.accessor';
import { EtlifyExplorer } from './discovery/etlify.explorer';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './etlify.module-definition';
import { CrmRegistry } from './registry/crm.registry';
import { PropertySyncService } from './schema/property-sync.service';
import { ETLIFY_ASSOCIATION_SYNC } from './associations/association.constants';
import { AssociationLabelResolver } from './associations/association-labels.resolver';
import { AssociationStateStore } from './associations/association-state.store';
import { AssociationSyncService } from './associations/association-sync.service';
import { SyncDeleteService } from './sync/sync-delete.service';
import { SyncEngine } from './sync/sync-engine.service';
import { SyncStateStore } from './sync/sync-state.store';
import { SyncService } from './sync/sync.service';
import type { DynamicModule, Provider } from '@nestjs/common';

/** Providers for @InjectCrmAdapter(name): one per name asked for anywhere in the app. */
function adapterProviders(): Provider[] {
  return [...requestedCrmAdapterNames].map((name) => ({
    provide: getCrmAdapterToken(name),
    useFactory: (registry: CrmRegistry) => registry.getAdapter(name),
    inject: [CrmRegistry],
  }));
}

function withAdapters(module: DynamicModule): DynamicModule {
  const providers = adapterProviders();
  return {
    ...module,
    providers: [...(module.providers ?? []), ...providers],
    exports: [
      ...(module.exports ?? []),
      ...providers.map((p) => (p as { provide: string }).provide),
    ],
  };
}

@Module({
  providers: [
    CrmRegistry,
    EtlifyMetadataAccessor,
    EtlifyExplorer,
    SyncStateStore,
    SyncEngine,
    SyncDeleteService,
    SyncService,
    PropertySyncService,
    AssociationStateStore,
    AssociationLabelResolver,
    AssociationSyncService,
    { provide: ETLIFY_ASSOCIATION_SYNC, useExisting: AssociationSyncService },
  ],
  exports: [
    CrmRegistry,
    SyncService,
    PropertySyncService,
    AssociationSyncService,
  ],
})
export class EtlifyModule extends ConfigurableModuleClass {
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withAdapters(super.forRoot(options));
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withAdapters(super.forRootAsync(options));
  }
}
