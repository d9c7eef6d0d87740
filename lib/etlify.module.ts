import { Module } from '@nestjs/common';
import { EtlifyMetadataAccessor } from './discovery/etlify-metadata.accessor';
import { EtlifyExplorer } from './discovery/etlify.explorer';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './etlify.module-definition';
import { CrmRegistry } from './registry/crm.registry';
import {
  crmNamesOf,
  withAdapters,
} from './registry/crm-adapter-providers.util';
import { PropertySyncService } from './schema/property-sync.service';
import { ETLIFY_ASSOCIATION_SYNC } from './associations/association.constants';
import { AssociationLabelResolver } from './associations/association-labels.resolver';
import { AssociationStateStore } from './associations/association-state.store';
import { AssociationSyncService } from './associations/association-sync.service';
import { SYNC_ENGINE_PROVIDERS } from './sync/sync-engine.providers';
import { SyncService } from './sync/sync.service';
import type { DynamicModule } from '@nestjs/common';

@Module({
  providers: [
    CrmRegistry,
    EtlifyMetadataAccessor,
    EtlifyExplorer,
    ...SYNC_ENGINE_PROVIDERS,
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
    return withAdapters(super.forRoot(options), crmNamesOf(options.crms));
  }

  /** The factory's CRMs are known only at init: `crmNames` lists those to provide adapter tokens for. */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withAdapters(super.forRootAsync(options), options.crmNames ?? []);
  }
}
