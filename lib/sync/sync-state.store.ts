import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, Not, Repository } from 'typeorm';
import { selectTree } from './find-options.util';
import { SYNC_LEASE_MS, SYNC_LEASE_POLL_MS } from '../etlify.constants';
import { sleep } from '../util/sleep.util';
import { CrmRegistry } from '../registry/crm.registry';
import {
  CrmSyncState,
  CrmSynchronisation,
  TOMBSTONE,
} from './crm-synchronisation.entity';

export interface SyncStateKey {
  crmName: string;
  resourceType: string;
  resourceId: string;
}

/** Which dead letters to read. */
export interface DeadLetterFilter {
  crmName?: string;
  resourceTypes?: string[];
  category?: string;
  limit: number;
  afterId?: number;
}

/** SQL for `state`: `next`, except on a tombstone, which stays one until its delete is settled. */
const keepTombstone = (next: CrmSyncState) => () =>
  `CASE WHEN state = '${TOMBSTONE}' THEN state ELSE '${next}' END`;

/**
 * Reads and writes `crm_synchronisations`. Every write is a single statement (no transaction is
 * held across a CRM call); concurrent syncs of one record are serialized by a short lease.
 */
@Injectable()
export class SyncStateStore {
  constructor(private readonly registry: CrmRegistry) {}

  get repository(): Repository<CrmSynchronisation> {
    return this.registry.dataSource.getRepository(CrmSynchronisation);
  }

  find(key: SyncStateKey): Promise<CrmSynchronisation | null> {
    return this.repository.findOneBy({ ...key });
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

  /** Takes the record's lease when free or expired; resolves to the token, or null when taken. */
  async acquireLease(
    rowId: number,
    ttlMs = SYNC_LEASE_MS,
  ): Promise<string | null> {
    const token = randomUUID();
    const now = new Date();
    const result = await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({
        leaseToken: token,
        leaseExpiresAt: new Date(now.getTime() + ttlMs),
      })
      .where('id = :id', { id: rowId })
      .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
      // A tombstone is never leased for a sync: the delete wins.
      .andWhere('state <> :tombstone', { tombstone: TOMBSTONE })
      .execute();
    return result.affected === 1 ? token : null;
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
    const rows = new Map<string, CrmSynchronisation>();
    if (!resourceIds.length) return rows;
    const where = { crmName, resourceType };
    const read = async (ids: string[]) => {
      for (let i = 0; i < ids.length; i += 500) {
        const found = await this.repository.findBy({
          ...where,
          resourceId: In(ids.slice(i, i + 500)),
        });
        for (const row of found) rows.set(row.resourceId, row);
      }
    };
    await read(resourceIds);
    const missing = resourceIds.filter((id) => !rows.has(id));
    if (missing.length) {
      await this.insertMissing(
        missing.map((resourceId) => ({ ...where, resourceId })),
      );
      await read(missing);
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

  /** Leases many rows with one statement; returns the token and the rows it now owns. */
  async acquireLeases(
    rowIds: number[],
    ttlMs = SYNC_LEASE_MS,
  ): Promise<{ token: string; rows: Map<number, CrmSynchronisation> }> {
    const token = randomUUID();
    const rows = new Map<number, CrmSynchronisation>();
    if (!rowIds.length) return { token, rows };
    const now = new Date();
    await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({
        leaseToken: token,
        leaseExpiresAt: new Date(now.getTime() + ttlMs),
      })
      .where('id IN (:...ids)', { ids: rowIds })
      .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
      .andWhere('state <> :tombstone', { tombstone: TOMBSTONE })
      .execute();
    for (const row of await this.repository.findBy({ leaseToken: token }))
      rows.set(row.id, row);
    return { token, rows };
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

  /** Whether a row other than `exceptRowId` (of these resource types) maps to one of `crmIds`. */
  async heldByOthers(
    crmName: string,
    resourceTypes: string[],
    crmIds: string[],
    exceptRowId: number,
  ): Promise<boolean> {
    if (!crmIds.length) return false;
    const rows = await this.repository.find({
      where: { crmName, resourceType: In(resourceTypes), crmId: In(crmIds) },
      select: selectTree(['id']),
      take: 2,
    });
    return rows.some((row) => row.id !== exceptRowId);
  }

  async remove(rowId: number): Promise<void> {
    await this.repository.delete({ id: rowId });
  }

  /** How many of these records are leased right now (a lapsed lease does not count). */
  async countLeased(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<number> {
    let count = 0;
    for (let i = 0; i < resourceIds.length; i += 500) {
      count += await this.repository
        .createQueryBuilder('s')
        .where('s.crm_name = :crmName AND s.resource_type = :resourceType', {
          crmName,
          resourceType,
        })
        .andWhere('s.resource_id IN (:...ids)', {
          ids: resourceIds.slice(i, i + 500),
        })
        .andWhere('s.lease_token IS NOT NULL AND s.lease_expires_at >= :now', {
          now: new Date(),
        })
        .getCount();
    }
    return count;
  }

  /** Resolves when none of these records is leased (or after one lease's lifetime and a margin). */
  async waitForLeases(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<void> {
    const deadline = Date.now() + SYNC_LEASE_MS + 5_000;
    while (
      Date.now() < deadline &&
      (await this.countLeased(crmName, resourceType, resourceIds)) > 0
    )
      await sleep(SYNC_LEASE_POLL_MS * 4);
  }

  /** Extends every lease held under `token` (a live caller keeps what it owns; a dead one lets it lapse). */
  async renewLeases(token: string, ttlMs = SYNC_LEASE_MS): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ leaseExpiresAt: new Date(Date.now() + ttlMs) })
      .where('lease_token = :token', { token })
      .execute();
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

  async releaseLease(rowId: number, token: string): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ leaseToken: null, leaseExpiresAt: null })
      .where('id = :id AND lease_token = :token', { id: rowId, token })
      .execute();
  }

  // ---- Operations: reads for explain, dead letters and status; failure details; discards ----

  /** State rows per CRM, entity and state. */
  async countByState(): Promise<
    Array<{
      crmName: string;
      resourceType: string;
      state: string;
      count: number;
    }>
  > {
    const rows = await this.repository
      .createQueryBuilder('s')
      .select('s.crm_name', 'crmName')
      .addSelect('s.resource_type', 'resourceType')
      .addSelect('s.state', 'state')
      .addSelect('COUNT(*)', 'count')
      .groupBy('s.crm_name')
      .addGroupBy('s.resource_type')
      .addGroupBy('s.state')
      .getRawMany<{
        crmName: string;
        resourceType: string;
        state: string;
        count: unknown;
      }>();
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /** Dead-lettered rows, oldest id first, after `afterId` (keyset paging). */
  findDeadLetters(filter: DeadLetterFilter): Promise<CrmSynchronisation[]> {
    const qb = this.deadLetterQuery(filter).orderBy('s.id', 'ASC');
    if (filter.afterId !== undefined)
      qb.andWhere('s.id > :afterId', { afterId: filter.afterId });
    return qb.take(filter.limit).getMany();
  }

  countDeadLetters(
    filter: Omit<DeadLetterFilter, 'limit' | 'afterId'>,
  ): Promise<number> {
    return this.deadLetterQuery(filter).getCount();
  }

  /** Category and correlation id of the failure `markFailed` just recorded. */
  async recordFailureDetails(
    key: SyncStateKey,
    details: { category: string; correlationId: string | null },
  ): Promise<void> {
    await this.repository.update(
      { ...key },
      {
        lastErrorCategory: details.category.slice(0, 32),
        lastCorrelationId: details.correlationId?.slice(0, 128) ?? null,
      },
    );
  }

  /**
   * Takes a dead letter out of the list, keeping why. Stamped as covered now (with the current
   * serializer version) so the stale finder leaves it alone until the record changes.
   */
  async discard(
    rowId: number,
    reason: string,
    at: Date,
    serializerVersion: number | null,
  ): Promise<boolean> {
    const result = await this.repository.update(
      { id: rowId, state: 'dead' },
      {
        state: 'discarded',
        // A change after the discard gets the full maxSyncErrors attempts again.
        errorCount: 0,
        discardReason: reason,
        discardedAt: at,
        lastSyncedAt: at,
        serializerVersion,
      },
    );
    return result.affected === 1;
  }

  /** Puts one dead letter back (error count reset); false when the row is not dead. */
  async revive(rowId: number): Promise<boolean> {
    const result = await this.repository.update(
      { id: rowId, state: In(['dead', 'discarded']) },
      { state: 'error', errorCount: 0, discardReason: null, discardedAt: null },
    );
    return result.affected === 1;
  }

  private deadLetterQuery(filter: Omit<DeadLetterFilter, 'limit' | 'afterId'>) {
    const qb = this.repository
      .createQueryBuilder('s')
      .where('s.state = :state', { state: 'dead' });
    if (filter.crmName)
      qb.andWhere('s.crm_name = :crm', { crm: filter.crmName });
    if (filter.resourceTypes)
      qb.andWhere('s.resource_type IN (:...types)', {
        types: filter.resourceTypes.length ? filter.resourceTypes : [''],
      });
    if (filter.category)
      qb.andWhere('s.last_error_category = :category', {
        category: filter.category,
      });
    return qb;
  }

  // ---- Tombstones: deletes that win over syncs (SyncDeleteService) ----

  /**
   * Marks the rows of these records as tombstones (a fresh one starts with no errors) and returns
   * them. A record without a row has nothing in the CRM to delete.
   */
  async markTombstones(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<CrmSynchronisation[]> {
    const rows: CrmSynchronisation[] = [];
    const unique = [...new Set(resourceIds)];
    for (let i = 0; i < unique.length; i += 500) {
      const where = {
        crmName,
        resourceType,
        resourceId: In(unique.slice(i, i + 500)),
      };
      await this.repository.update(
        { ...where, state: Not(TOMBSTONE) },
        { state: TOMBSTONE, errorCount: 0 },
      );
      rows.push(...(await this.repository.findBy(where)));
    }
    return rows;
  }

  /** Tombstones of one type, oldest first after `afterId`: retried ones (`dead: false`) or dead-lettered. */
  findTombstones(
    crmName: string,
    resourceType: string,
    options: {
      maxErrors: number;
      dead: boolean;
      afterId: number;
      limit: number;
    },
  ): Promise<CrmSynchronisation[]> {
    return this.repository
      .createQueryBuilder('s')
      .where('s.crm_name = :crmName AND s.resource_type = :resourceType', {
        crmName,
        resourceType,
      })
      .andWhere('s.state = :tombstone', { tombstone: TOMBSTONE })
      .andWhere(`s.error_count ${options.dead ? '>=' : '<'} :max`, {
        max: options.maxErrors,
      })
      .andWhere('s.id > :afterId', { afterId: options.afterId })
      .orderBy('s.id', 'ASC')
      .take(options.limit)
      .getMany();
  }

  /** Leases tombstones only (free or lapsed leases); returns the token and the rows it now owns. */
  async leaseTombstones(
    rowIds: number[],
    ttlMs = SYNC_LEASE_MS,
  ): Promise<{ token: string; rows: CrmSynchronisation[] }> {
    const token = randomUUID();
    if (!rowIds.length) return { token, rows: [] };
    const now = new Date();
    for (let i = 0; i < rowIds.length; i += 500) {
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({
          leaseToken: token,
          leaseExpiresAt: new Date(now.getTime() + ttlMs),
        })
        .where('id IN (:...ids)', { ids: rowIds.slice(i, i + 500) })
        .andWhere('state = :tombstone', { tombstone: TOMBSTONE })
        .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
        .execute();
    }
    return { token, rows: await this.repository.findBy({ leaseToken: token }) };
  }

  /** Forgets tombstones whose CRM delete is settled, while their lease is still ours. */
  async removeTombstones(rowIds: number[], token: string): Promise<void> {
    for (let i = 0; i < rowIds.length; i += 500) {
      await this.repository.delete({
        id: In(rowIds.slice(i, i + 500)),
        leaseToken: token,
      });
    }
  }

  /** A CRM delete failed: the tombstone stays, with the error (counted or not), its lease released. */
  async markDeleteFailed(
    rowIds: number[],
    token: string,
    error: string,
    counted: boolean,
  ): Promise<void> {
    for (let i = 0; i < rowIds.length; i += 500) {
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({
          lastError: error.slice(0, 4000),
          ...(counted ? { errorCount: () => 'error_count + 1' } : {}),
          leaseToken: null,
          leaseExpiresAt: null,
        })
        .where('id IN (:...ids)', { ids: rowIds.slice(i, i + 500) })
        .andWhere('lease_token = :token', { token })
        .execute();
    }
  }

  /** Dead-lettered tombstones of one type get their attempts back; returns how many. */
  async reviveTombstones(
    crmName: string,
    resourceType: string,
    maxErrors: number,
  ): Promise<number> {
    const result = await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ errorCount: 0 })
      .where('crm_name = :crmName AND resource_type = :resourceType', {
        crmName,
        resourceType,
      })
      .andWhere('state = :tombstone AND error_count >= :max', {
        tombstone: TOMBSTONE,
        max: maxErrors,
      })
      .execute();
    return result.affected ?? 0;
  }

  /** CRM ids among `crmIds` that a live row (not a tombstone) of these resource types maps to. */
  async liveHolders(
    crmName: string,
    resourceTypes: string[],
    crmIds: string[],
  ): Promise<Set<string>> {
    const held = new Set<string>();
    const unique = [...new Set(crmIds)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.repository.find({
        where: {
          crmName,
          resourceType: In(resourceTypes),
          crmId: In(unique.slice(i, i + 500)),
          state: Not(TOMBSTONE),
        },
        select: selectTree(['crmId']),
      });
      for (const row of rows) if (row.crmId) held.add(row.crmId);
    }
    return held;
  }

  /** Whether a record has a row that is not a tombstone (a CRM write may re-create it). */
  async isLive(key: SyncStateKey): Promise<boolean> {
    const row = await this.find(key);
    return !!row && row.state !== TOMBSTONE;
  }
}
