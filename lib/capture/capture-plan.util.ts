import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { CrmRegistry } from '../registry/crm.registry';

/** The records of one entity a flush syncs (or enqueues) and deletes. */
export interface CapturePlan {
  config: EntitySyncConfig;
  upserts: string[];
  deletes: string[];
}

/** Adds `later` to `into`; a record's later change (upsert or delete) replaces its earlier one. */
export function mergePlan(into: CapturePlan, later: CapturePlan): void {
  const upserts = new Set(into.upserts);
  const deletes = new Set(into.deletes);
  for (const id of later.upserts) {
    deletes.delete(id);
    upserts.add(id);
  }
  for (const id of later.deletes) {
    upserts.delete(id);
    deletes.add(id);
  }
  into.upserts = [...upserts];
  into.deletes = [...deletes];
}

/** The entities (same CRM) this one names in `syncDependencies`. */
export function syncParents(
  registry: CrmRegistry,
  config: EntitySyncConfig,
): EntitySyncConfig[] {
  const parents: EntitySyncConfig[] = [];
  for (const name of config.options.syncDependencies ?? []) {
    const relation = config.metadata.findRelationWithPropertyPath(name);
    const parent = relation
      ? registry
          .getEntityConfigs(relation.inverseEntityMetadata.target as Function)
          .find((c) => c.crm === config.crm)
      : undefined;
    if (parent && parent !== config) parents.push(parent);
  }
  return parents;
}

/** How many `syncDependencies` hops an entity sits below the top (parents sort first). */
export function syncRank(
  registry: CrmRegistry,
  config: EntitySyncConfig,
  seen = new Set<EntitySyncConfig>(),
): number {
  if (seen.has(config)) return 0;
  seen.add(config);
  let rank = 0;
  for (const parent of syncParents(registry, config))
    rank = Math.max(rank, 1 + syncRank(registry, parent, seen));
  return rank;
}
