import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { relationsTree } from './find-options.util';
import { StaleSql } from '../stale/stale-sql.util';
import type { SyncStateKey } from './sync-state.store';

/** Ids per statement, well under every dialect's parameter limit. */
const CHUNK = 500;

/**
 * Loads etlified records with the relations their serializer reads, and knows which moment of the
 * record's life a sync covers (see `coveredAt`).
 */
@Injectable()
export class EntityLoader {
  /** Load time of the records loaded here: a change committed after it is newer than what we send. */
  private readonly loadedAt = new WeakMap<object, Date>();

  constructor(private readonly registry: CrmRegistry) {}

  resourceId(config: EntitySyncConfig, entity: any): string {
    const value = config.primaryColumn.getEntityValue(entity);
    if (value === undefined || value === null || value === '') {
      throw new Error(
        `${config.resourceType} has no ${config.primaryColumn.propertyName}: save it before syncing`,
      );
    }
    return String(value);
  }

  key(config: EntitySyncConfig, resourceId: string): SyncStateKey {
    return {
      crmName: config.crm,
      resourceType: config.resourceType,
      resourceId,
    };
  }

  /** Loads a record with the relations its serializer is expected to read. */
  async load(
    config: EntitySyncConfig,
    id: string | number,
  ): Promise<any | null> {
    return (await this.loadMany(config, [String(id)]))[0] ?? null;
  }

  /** Loads many records (with the relations their serializer reads); missing ids are left out. */
  async loadMany(config: EntitySyncConfig, ids: string[]): Promise<any[]> {
    const relations = relationsTree(this.relationsToLoad(config));
    const repository = this.registry.dataSource.getRepository(config.target);
    const found: any[] = [];
    const loadedAt = new Date();
    for (let i = 0; i < ids.length; i += CHUNK) {
      found.push(
        ...(await repository.find({
          where: {
            [config.primaryColumn.propertyName]: In(ids.slice(i, i + CHUNK)),
          },
          relations,
        })),
      );
    }
    for (const entity of found) this.loadedAt.set(entity, loadedAt);
    return found;
  }

  /**
   * The moment of the record's life a sync of this instance covers; `last_synced_at` is set to it, so
   * the stale finder sees any change committed after it:
   * - a record loaded here: its load time;
   * - an instance the caller loaded: its own update timestamp (it may predate a newer commit);
   * - otherwise now.
   */
  coveredAt(config: EntitySyncConfig, entity: any): Date {
    const loaded = this.loadedAt.get(entity);
    if (loaded) return loaded;
    const column = config.updatedAtColumn;
    const own = column ? column.getEntityValue(entity) : undefined;
    if (own !== undefined && own !== null) {
      const at = own instanceof Date ? own : new Date(own);
      if (!Number.isNaN(at.getTime()) && at.getTime() <= Date.now()) return at;
    }
    return new Date();
  }

  /**
   * Of records about to be created in the CRM (no CRM id yet), those whose row is gone from the
   * database: a delete that finished before their state row existed left no tombstone to stop them.
   */
  async goneSinceLoad<
    T extends { key: SyncStateKey; row: { crmId: string | null } },
  >(config: EntitySyncConfig, items: T[]): Promise<T[]> {
    const creates = items.filter((item) => !item.row.crmId);
    if (!creates.length) return [];
    const present = new Set<string>();
    const repository = this.registry.dataSource.getRepository(config.target);
    const sql = new StaleSql(this.registry.dataSource);
    for (let i = 0; i < creates.length; i += CHUNK) {
      const qb = repository.createQueryBuilder('e');
      const column = sql.col('e', config.primaryColumn);
      // The key as text, never through a JS number (bigint keys past 2^53 on SQLite).
      const asText = sql.idAsText(column);
      const rows = await qb
        .select(asText, 'id')
        .where(`${column} IN (:...ids)`, {
          ids: creates.slice(i, i + CHUNK).map((item) => item.key.resourceId),
        })
        .getRawMany<{ id: string }>();
      for (const row of rows) present.add(String(row.id));
    }
    return creates.filter((item) => !present.has(item.key.resourceId));
  }

  /** The relations a serializer may read: everything named in `dependencies` and `syncDependencies`. */
  private relationsToLoad(config: EntitySyncConfig): string[] {
    return [
      ...new Set([
        ...(config.options.dependencies ?? []),
        ...(config.options.syncDependencies ?? []),
      ]),
    ];
  }
}
