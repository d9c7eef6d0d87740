import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncEngine } from '../sync/sync-engine.service';

/** An integer key a JS number cannot hold exactly (a bigint past 2^53). */
const isWideInteger = (id: string) =>
  /^-?\d+$/.test(id) && !Number.isSafeInteger(Number(id));

/**
 * Loads the records of a page in the finder's order; records deleted since are simply gone.
 * A driver may hand a bigint key back as a rounded number (better-sqlite3 does), so such a record
 * is read by its exact id on its own and given that id back as text, as PostgreSQL and MySQL
 * return bigints: its state row and CRM key stay its own.
 */
export async function loadInOrder(
  engine: SyncEngine,
  config: EntitySyncConfig,
  ids: string[],
): Promise<any[]> {
  const wide = ids.filter(isWideInteger);
  const found = wide.length
    ? await engine.loadMany(
        config,
        ids.filter((id) => !isWideInteger(id)),
      )
    : await engine.loadMany(config, ids);
  const byId = new Map(
    found.map((entity) => [engine.resourceId(config, entity), entity]),
  );
  for (const id of wide) {
    const [entity] = await engine.loadMany(config, [id]);
    if (!entity) continue;
    if (String(config.primaryColumn.getEntityValue(entity)) !== id)
      config.primaryColumn.setEntityValue(entity, id);
    byId.set(id, entity);
  }
  return ids.map((id) => byId.get(id)).filter((e) => e !== undefined);
}
