import { claimModuleFormat } from './module-format.util';

claimModuleFormat();

export * from './interfaces/crm-payload.interface';
export * from './interfaces/crm-adapter.interface';
export * from './interfaces/rate-governor.interface';
export * from './interfaces/serializer.interface';
export * from './interfaces/sync-outcome.interface';
export * from './interfaces/etlify-options.interface';
export * from './interfaces/etlified-entity-options.interface';
export * from './errors/crm.error';
export * from './errors/etlify-configuration.error';
export * from './interfaces/entity-sync-config.interface';
export * from './interfaces/registered-crm.interface';
export { EtlifyModule } from './etlify.module';
export type { EtlifyModuleExtras } from './etlify.module-definition';
export { ETLIFY_MODULE_OPTIONS } from './etlify.module-definition';
export { EtlifiedEntity } from './decorators/etlified-entity.decorator';
export {
  InjectCrmAdapter,
  getCrmAdapterToken,
} from './decorators/inject-crm-adapter.decorator';
export { CrmRegistry } from './registry/crm.registry';
export { SyncService } from './sync/sync.service';
export type { SyncOptions, SyncStaleOptions } from './sync/sync.service';
export { CrmSynchronisation } from './sync/crm-synchronisation.entity';
export type { CrmSyncState } from './sync/crm-synchronisation.entity';
export { CreateCrmSynchronisations1764028800000 } from './migrations/create-crm-synchronisations.migration';
export { CreateEtlifyStaleSweeps1764115200000 } from './migrations/create-etlify-stale-sweeps.migration';
export { sha256Digest, canonicalJson } from './sync/digest.util';
export { NullAdapter } from './adapters/null/null.adapter';
export { EtlifyStaleSweep } from './stale/etlify-stale-sweep.entity';
export { StaleSweeper } from './stale/stale.sweeper';
export type {
  StaleProgress,
  StaleRunOptions,
} from './stale/stale-run-options.interface';
export { HubspotAdapter } from './adapters/hubspot/hubspot.adapter';
export type { HubspotAdapterOptions } from './adapters/hubspot/hubspot-adapter-options.interface';
export { InProcessRateGovernor } from './rate/in-process-rate.governor';
export { RedisRateGovernor } from './rate/redis-rate.governor';
export type {
  RateGovernorOptions,
  RedisRateGovernorOptions,
  RateRedisClient,
} from './rate/rate-governor-options.interface';
