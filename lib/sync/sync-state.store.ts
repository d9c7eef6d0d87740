import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, Repository } from 'typeorm';
import { selectTree } from './find-options.util';
import { SYNC_LEASE_MS } from '../etlify.constants';
import { CrmRegistry } from '../registry/crm.registry';
import { CrmSyncState, CrmSynchronisation } from './crm-synchronisation.entity';

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
      .execute();
    return result.affected === 1 ? token : null;
  }

  /** Records a success and releases the lease (only if still ours, so a late writer cannot win). */
  async markSynced(
    rowId: number,
    token: string,
    values: {
      crmId: string;
      digest: string;
      syncedAt: Date;
      serializerVersion: number | null;
    },
  ): Promise<void> {
    const result = await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({
        crmId: values.crmId,
        lastDigest: values.digest,
        lastSyncedAt: values.syncedAt,
        serializerVersion: values.serializerVersion,
        lastError: null,
        errorCount: 0,
        state: 'synced',
        leaseToken: null,
        leaseExpiresAt: null,
      })
      .where('id = :id AND lease_token = :token', { id: rowId, token })
      .execute();
    if (result.affected !== 1) {
      // Our lease expired and someone else owns the row now: keep the CRM id, never the digest.
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({ crmId: values.crmId })
        .where('id = :id AND crm_id IS NULL', { id: rowId })
        .execute();
    }
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
        state,
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
      { id: row.id },
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
      .execute();
    for (const row of await this.repository.findBy({ leaseToken: token }))
      rows.set(row.id, row);
    return { token, rows };
  }

  /** Successes of one batch, written in one short transaction (never held across a CRM call). */
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
    await this.registry.dataSource.transaction(async (manager) => {
      for (const item of items) {
        await manager
          .createQueryBuilder()
          .update(CrmSynchronisation)
          .set({
            crmId: item.crmId,
            lastDigest: item.digest,
            lastSyncedAt: item.syncedAt,
            serializerVersion: item.serializerVersion,
            lastError: null,
            errorCount: 0,
            state: 'synced',
            leaseToken: null,
            leaseExpiresAt: null,
          })
          .where('id = :id AND lease_token = :token', { id: item.rowId, token })
          .execute();
      }
    });
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

  /** Moves `last_synced_at` forward on rows whose stored digest was found current (never backward). */
  async touchSynced(rowIds: number[], syncedAt: Date): Promise<void> {
    for (let i = 0; i < rowIds.length; i += 500) {
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({ lastSyncedAt: syncedAt })
        .where('id IN (:...ids)', { ids: rowIds.slice(i, i + 500) })
        .andWhere('state = :state', { state: 'synced' })
        .andWhere('(last_synced_at IS NULL OR last_synced_at < :at)', {
          at: syncedAt,
        })
        .execute();
    }
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

  // ---- Stale sync (lib/stale): its reads, and its one write, under the engine's rules ----

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
