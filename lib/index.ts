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
export * from './errors/serializer-timeout.error';
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
export type {
  HubspotAdapterOptions,
  HubspotApiVersion,
} from './adapters/hubspot/hubspot-adapter-options.interface';
export {
  HubspotPropertyProvisioner,
  keyPropertyDefinition,
} from './adapters/hubspot/hubspot-property.provisioner';
export type {
  PropertyDefinition,
  ProvisionResult,
  ProvisionStatus,
} from './adapters/hubspot/hubspot-property.provisioner';
export { InProcessRateGovernor } from './rate/in-process-rate.governor';
export { RedisRateGovernor } from './rate/redis-rate.governor';
export type {
  RateGovernorOptions,
  RedisRateGovernorOptions,
  RateRedisClient,
} from './rate/rate-governor-options.interface';
// Operations: explain, dead letters, status, run history, health, events, metrics, hooks.
export * from './events/etlify-events.interface';
export { ETLIFY_EVENTS } from './events/etlify-events.constants';
export type { EtlifyEventName } from './events/etlify-events.constants';
export * from './interfaces/etlify-entity-hooks.interface';
export type * from './ops/explain.interface';
export type { EntityRef } from './ops/explain.service';
export type * from './ops/dead-letter.interface';
export type * from './ops/status.interface';
export type * from './ops/queue-inspector.interface';
export { StatusService } from './ops/status.service';
export { RunHistoryService } from './ops/run-history.service';
export { EtlifyRun } from './ops/etlify-run.entity';
export { CreateEtlifyRuns1765238400000 } from './migrations/create-etlify-runs.migration';
export { EtlifyHealthIndicator } from './health/etlify.health-indicator';
export type { EtlifyHealthResult } from './health/etlify.health-indicator';
export type { EtlifyHealthThresholds } from './health/etlify-health.interface';
export { METRIC_NAMES } from './metrics/etlify-metrics.constants';
export * from './interfaces/crm-association.interface';
export * from './schema/crm-property.interface';
export { PropertySyncService } from './schema/property-sync.service';
export type {
  PropertySyncReport,
  SyncPropertiesOptions,
} from './schema/property-sync.service';
export { PropertyProvisioner } from './schema/property-provisioner';
export type {
  EnsureOptions,
  PropertyCheck,
  PropertyCheckStatus,
  PropertyRequirement,
} from './schema/property-provisioner';
export type { CrmValidationRule } from './schema/payload-validator.util';
export { CrmAssociationState } from './associations/crm-association-state.entity';
export { CreateCrmAssociationStates1767225600000 } from './migrations/create-crm-association-states.migration';
export { AssociationSyncService } from './associations/association-sync.service';
export type { EtlifyAssociationOptions } from './associations/association-options.interface';
