import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type {
  BatchSyncStats,
  StaleSweepEntityStats,
} from '../interfaces/sync-outcome.interface';

/** The per-entity counters that add up into the run's totals. */
const COUNTERS = [
  'synced',
  'created',
  'updated',
  'notModified',
  'skipped',
  'enqueued',
  'disabled',
  'wouldCreate',
  'wouldUpdate',
] as const;

export function emptyRunStats(): BatchSyncStats {
  return {
    total: 0,
    perEntity: {},
    errors: 0,
    synced: 0,
    created: 0,
    updated: 0,
    notModified: 0,
    skipped: 0,
    enqueued: 0,
    disabled: 0,
    wouldCreate: 0,
    wouldUpdate: 0,
    crmCalls: 0,
    details: [],
  };
}

export function emptyEntityStats(
  config: EntitySyncConfig,
  scan: StaleSweepEntityStats['scan'],
): StaleSweepEntityStats {
  return {
    crm: config.crm,
    entity: config.resourceType,
    scan,
    found: 0,
    synced: 0,
    created: 0,
    updated: 0,
    notModified: 0,
    skipped: 0,
    errors: 0,
    enqueued: 0,
    disabled: 0,
    wouldCreate: 0,
    wouldUpdate: 0,
  };
}

/** Adds one entity's figures to the run's totals. */
export function addEntityStats(
  stats: BatchSyncStats,
  entity: StaleSweepEntityStats,
): void {
  stats.total += entity.found;
  stats.perEntity[entity.entity] =
    (stats.perEntity[entity.entity] ?? 0) + entity.found;
  stats.errors += entity.errors;
  for (const key of COUNTERS) stats[key] = (stats[key] ?? 0) + entity[key];
}
