import { In, Not } from 'typeorm';
import { selectTree } from './find-options.util';
import { CrmRegistry } from '../registry/crm.registry';
import {
  CrmSyncState,
  CrmSynchronisation,
  TOMBSTONE,
} from './crm-synchronisation.entity';
import { Injectable } from '@nestjs/common';
import { SyncStateTombstones } from './state/sync-state.tombstones';
import { keepTombstone, SyncStateKey } from './state/sync-state.table';

export type { DeadLetterFilter, SyncStateKey } from './state/sync-state.table';

/**
 * Reads and writes `crm_synchronisations`: the one class that does (its layers are in ./state).
 * Every write is a single statement (no transaction is held across a CRM call); concurrent syncs of
 * one record are serialized by a short lease.
 */
@Injectable()
export class SyncStateStore extends SyncStateTombstones {
  constructor(registry: CrmRegistry) {
    super(registry);
  }

  /** The state row of a record, created (pending) when missing; safe under concurrency. */
  async ensure(key: SyncStateKey): Promise<CrmSynchronisation> {
    const existing = await this.find(key);
    if (existing) return existing;
    await this.repository
      .createQueryBuilder()
      .insert()
      .into(CrmSynchronisation)
      .values({ ...key, errorCount: 0, state: 'pending' })
      .orIgnore()
      .execute();
    const row = await this.find(key);
    if (!row)
      throw new Error(
        `could not create sync state for ${key.resourceType}#${key.resourceId}`,
      );
    return row;
  }

  /** Records a failure, dead-letters after `maxSyncErrors`, releases the lease. Returns the new state. */
  async markFailed(
    rowId: number,
    token: string | null,
    error: string,
    maxSyncErrors: number,
    countsAsFailure = true,
  ): Promise<CrmSyncState> {
    const row = await this.repository.findOneBy({ id: rowId });
    const errorCount = (row?.errorCount ?? 0) + (countsAsFailure ? 1 : 0);
    const state: CrmSyncState =
      errorCount >= maxSyncErrors
        ? 'dead'
        : countsAsFailure
          ? 'error'
          : (row?.state ?? 'pending');
    const qb = this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({
        lastError: error.slice(0, 4000),
        // The lease makes us the only writer of this row, so the read count is current.
        errorCount,
        state: keepTombstone(state),
        leaseToken: null,
        leaseExpiresAt: null,
      })
      .where('id = :id', { id: rowId });
    if (token) qb.andWhere('lease_token = :token', { token });
    await qb.execute();
    return state;
  }

  /** `syncIf` said no: remember it so the sweeper leaves the record until it changes. */
  async markSkipped(
    key: SyncStateKey,
    syncedAt: Date,
    serializerVersion: number | null,
  ): Promise<void> {
    const row = await this.ensure(key);
    await this.repository.update(
      { id: row.id, state: Not(TOMBSTONE) },
      {
        state: 'skipped',
        lastDigest: null,
        lastSyncedAt: syncedAt,
        serializerVersion,
        lastError: null,
        errorCount: 0,
      },
    );
  }

  /** Bulk insert of missing state rows (pending); rows created meanwhile by others are kept. */
  async insertMissing(keys: SyncStateKey[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) {
      await this.repository
        .createQueryBuilder()
        .insert()
        .into(CrmSynchronisation)
        .values(
          keys.slice(i, i + 500).map((key) => ({
            ...key,
            errorCount: 0,
            state: 'pending' as const,
          })),
        )
        .orIgnore()
        .execute();
    }
  }

  /** The state rows of these records, the missing ones created (pending); by resource id. */
  async ensureMany(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<Map<string, CrmSynchronisation>> {
    const rows = await this.findMany(crmName, resourceType, resourceIds);
    const missing = resourceIds.filter((id) => !rows.has(id));
    if (missing.length) {
      await this.insertMissing(
        missing.map((resourceId) => ({ crmName, resourceType, resourceId })),
      );
      const created = await this.findMany(crmName, resourceType, missing);
      for (const [id, row] of created) rows.set(id, row);
    }
    return rows;
  }

  /**
   * Rows whose stored digest was found current: the CRM matches the record as of `coveredAt`, so
   * `last_synced_at` moves forward (never backward), and a record buffered on a parent is synced.
   */
  async confirmUnchanged(
    items: Array<{ row: CrmSynchronisation; coveredAt: Date }>,
  ): Promise<void> {
    const buffered = items
      .filter((item) => item.row.state === 'buffered')
      .map((item) => item.row.id);
    for (let i = 0; i < buffered.length; i += 500)
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({ state: 'synced' })
        .where('id IN (:...ids)', { ids: buffered.slice(i, i + 500) })
        .andWhere('state = :buffered AND crm_id IS NOT NULL', {
          buffered: 'buffered',
        })
        .execute();
    // Rows already stamped at or after the covered time need no statement.
    const byTime = new Map<number, number[]>();
    for (const { row, coveredAt } of items) {
      const at = coveredAt.getTime();
      if (row.lastSyncedAt && row.lastSyncedAt.getTime() >= at) continue;
      byTime.set(at, [...(byTime.get(at) ?? []), row.id]);
    }
    for (const [at, rowIds] of byTime) {
      for (let i = 0; i < rowIds.length; i += 500)
        await this.repository
          .createQueryBuilder()
          .update(CrmSynchronisation)
          .set({ lastSyncedAt: new Date(at) })
          .where('id IN (:...ids)', { ids: rowIds.slice(i, i + 500) })
          .andWhere('state IN (:...states)', { states: ['synced', 'buffered'] })
          .andWhere('(last_synced_at IS NULL OR last_synced_at < :at)', {
            at: new Date(at),
          })
          .execute();
    }
  }

  /** Records waiting for a `syncDependencies` parent's CRM id (created when missing). */
  async markBuffered(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<void> {
    const rows = await this.ensureMany(crmName, resourceType, resourceIds);
    const ids = [...rows.values()].map((row) => row.id);
    for (let i = 0; i < ids.length; i += 500)
      await this.repository.update(
        { id: In(ids.slice(i, i + 500)) },
        { state: 'buffered' },
      );
  }

  /** Of these records, the ones buffered on a parent. */
  async bufferedAmong(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < resourceIds.length; i += 500) {
      const rows = await this.repository.find({
        where: {
          crmName,
          resourceType,
          resourceId: In(resourceIds.slice(i, i + 500)),
          state: 'buffered',
        },
        select: selectTree(['resourceId']),
      });
      ids.push(...rows.map((row) => row.resourceId));
    }
    return ids;
  }

  /** Successes of one batch, written in one statement per 200 rows (never held across a CRM call). */
  async markManySynced(
    token: string,
    items: Array<{
      rowId: number;
      crmId: string;
      digest: string;
      syncedAt: Date;
      serializerVersion: number | null;
    }>,
  ): Promise<void> {
    if (!items.length) return;
    // One statement per chunk (CASE on the row id), not one per record; rows of one batch share
    // their covered time and serializer version, so those stay plain parameters.
    const groups = new Map<string, typeof items>();
    for (const item of items) {
      const key = `${item.syncedAt.getTime()}:${item.serializerVersion}`;
      groups.set(key, [...(groups.get(key) ?? []), item]);
    }
    const lost: typeof items = [];
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += 200) {
        const chunk = group.slice(i, i + 200);
        const params: Record<string, unknown> = { token };
        const crmIds: string[] = [];
        const digests: string[] = [];
        chunk.forEach((item, n) => {
          params[`r${n}`] = item.rowId;
          params[`c${n}`] = item.crmId;
          params[`d${n}`] = item.digest;
          crmIds.push(`WHEN :r${n} THEN :c${n}`);
          digests.push(`WHEN :r${n} THEN :d${n}`);
        });
        const result = await this.repository
          .createQueryBuilder()
          .update(CrmSynchronisation)
          .set({
            crmId: () => `CASE id ${crmIds.join(' ')} END`,
            lastDigest: () => `CASE id ${digests.join(' ')} END`,
            lastSyncedAt: chunk[0].syncedAt,
            serializerVersion: chunk[0].serializerVersion,
            lastError: null,
            errorCount: 0,
            state: keepTombstone('synced'),
            leaseToken: null,
            leaseExpiresAt: null,
          })
          .where('id IN (:...ids) AND lease_token = :token', {
            ids: chunk.map((item) => item.rowId),
          })
          .setParameters(params)
          .execute();
        if (result.affected !== chunk.length) lost.push(...chunk);
      }
    }
    // Our lease lapsed on some row and someone else owns it now: keep the CRM id, never the digest.
    for (const item of lost)
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({ crmId: item.crmId })
        .where('id = :id AND crm_id IS NULL', { id: item.rowId })
        .execute();
  }

  /**
   * Merges in the CRM: rows (of these resource types) still holding an old id follow the record to
   * the id the CRM answered with, so two rows never disagree about one record.
   */
  async followMerges(
    crmName: string,
    resourceTypes: string[],
    moves: Array<{ from: string; to: string }>,
  ): Promise<void> {
    for (const move of moves) {
      if (move.from === move.to) continue;
      await this.repository.update(
        { crmName, resourceType: In(resourceTypes), crmId: move.from },
        { crmId: move.to },
      );
    }
  }

  /** CRM ids of records of one type (absent: no state row; null: no CRM id yet), 500 per statement. */
  async crmIdsOf(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    const unique = [...new Set(resourceIds)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.repository.find({
        where: {
          crmName,
          resourceType,
          resourceId: In(unique.slice(i, i + 500)),
        },
        select: selectTree(['resourceId', 'crmId']),
      });
      for (const row of rows) out.set(row.resourceId, row.crmId);
    }
    return out;
  }
  /* The stale sync's reads, and its one write, under the engine's rules. */

  /** State rows of records of one type, by resource id (absent: no row), 500 per statement. */
  async findMany(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<Map<string, CrmSynchronisation>> {
    const out = new Map<string, CrmSynchronisation>();
    const unique = [...new Set(resourceIds)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.repository.findBy({
        crmName,
        resourceType,
        resourceId: In(unique.slice(i, i + 500)),
      });
      for (const row of rows) out.set(row.resourceId, row);
    }
    return out;
  }

  /**
   * The sweep found these records unchanged as of `at`: their sync time moves forward, so a
   * touched-but-equal record is not found again. As `touchSynced`: `synced` rows only (an `error`,
   * `dead`, `buffered` or `skipped` row keeps what its own path wrote), never backward.
   */
  async touchVerified(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
    at: Date,
  ): Promise<void> {
    for (let i = 0; i < resourceIds.length; i += 500) {
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({ lastSyncedAt: at })
        .where('crm_name = :crmName AND resource_type = :resourceType', {
          crmName,
          resourceType,
        })
        .andWhere('resource_id IN (:...ids)', {
          ids: resourceIds.slice(i, i + 500),
        })
        .andWhere('state = :state', { state: 'synced' })
        .andWhere('(last_synced_at IS NULL OR last_synced_at < :at)', { at })
        .execute();
    }
  }
}
