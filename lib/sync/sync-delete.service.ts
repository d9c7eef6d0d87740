import { Injectable, Logger, Optional } from '@nestjs/common';
import { SYNC_LEASE_MS, SYNC_LEASE_POLL_MS } from '../etlify.constants';
import { SyncMonitor } from '../events/sync-monitor.service';
import type { CrmBatchDeleteResult } from '../interfaces/crm-adapter.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import type { DeleteOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import {
  TOMBSTONE,
  type CrmSynchronisation,
} from './crm-synchronisation.entity';
import { countsTowardDeadLetter } from './failure.util';
import { errorMessage } from './redact.util';
import { sleep } from '../util/sleep.util';
import { acquireBudget, mirrorsOf, whileLeased } from './crm-call.util';
import { SyncStateStore } from './sync-state.store';

/** Tombstones read per statement when retrying. */
const RETRY_PAGE = 500;

/** How the delete of one record ended, as decided here (callers never re-read the state to guess). */
export type DeleteResult =
  | { kind: 'done'; outcome: DeleteOutcome }
  /** The CRM delete failed; the tombstone keeps the CRM id and is retried. */
  | { kind: 'failed'; error: unknown; counted: boolean; dead: boolean }
  /** A sync of the record holds its lease; the tombstone stays and is retried. */
  | { kind: 'busy'; error: Error };

/** What a retry of the tombstones did. */
export interface TombstoneRetryStats {
  /** Dead-lettered tombstones given their attempts back (`revive`). */
  revived: number;
  retried: number;
  deleted: number;
  failed: number;
}

type Settled = { status: CrmBatchDeleteResult['status']; error?: unknown };

/**
 * Deletes in the CRM that win over syncs, whatever order they land in. The state row becomes a
 * tombstone first (no sync leases it any more), then the delete takes the lease, so it waits for
 * a sync in flight and deletes whatever that sync created. The tombstone keeps the CRM id until
 * the CRM delete is settled, so a failed delete is retried (by the stale sweeper and by
 * `retryDeadLetters`), never forgotten. Many records go through the adapter's `batchDelete`.
 */
@Injectable()
export class SyncDeleteService {
  private readonly logger = new Logger(SyncDeleteService.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
    @Optional() private readonly monitor?: SyncMonitor,
  ) {}

  /**
   * Deletes these records in the CRM. With `wait`, a record whose sync is in flight is deleted
   * once that sync ends (bounded by the lease time); without, it is left to the next retry.
   */
  async deleteMany(
    config: EntitySyncConfig,
    resourceIds: string[],
    options: { wait?: boolean } = {},
  ): Promise<Map<string, DeleteResult>> {
    const results = new Map<string, DeleteResult>();
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled) {
      for (const id of resourceIds)
        results.set(id, {
          kind: 'done',
          outcome: { crm: crm.name, status: 'disabled' },
        });
      return results;
    }
    const rows = await this.store.markTombstones(
      config.crm,
      config.resourceType,
      resourceIds,
    );
    await this.settle(config, crm, rows, !!options.wait, results);
    // No state row: the record never reached the CRM (or another delete settled it already).
    for (const id of resourceIds)
      if (!results.has(id))
        results.set(id, {
          kind: 'done',
          outcome: { crm: crm.name, status: 'noop' },
        });
    return results;
  }

  /**
   * Finds the tombstones of these entities and deletes them again, in pages. With `revive`,
   * dead-lettered tombstones get their attempts back first (`retryDeadLetters`).
   */
  async retryTombstones(
    configs: EntitySyncConfig[],
    options: { revive?: boolean } = {},
  ): Promise<TombstoneRetryStats> {
    const stats: TombstoneRetryStats = {
      revived: 0,
      retried: 0,
      deleted: 0,
      failed: 0,
    };
    for (const config of configs) {
      const crm = this.registry.getCrm(config.crm);
      if (!crm.enabled) continue;
      if (options.revive)
        stats.revived += await this.store.reviveTombstones(
          config.crm,
          config.resourceType,
          crm.maxSyncErrors,
        );
      for (let afterId = 0; ;) {
        const page = await this.store.findTombstones(
          config.crm,
          config.resourceType,
          {
            maxErrors: crm.maxSyncErrors,
            dead: false,
            afterId,
            limit: RETRY_PAGE,
          },
        );
        if (!page.length) break;
        afterId = page[page.length - 1].id;
        const results = new Map<string, DeleteResult>();
        await this.settle(config, crm, page, false, results);
        for (const result of results.values()) {
          if (result.kind === 'busy') continue;
          stats.retried++;
          if (result.kind === 'done') stats.deleted++;
          else stats.failed++;
        }
      }
    }
    if (stats.retried || stats.revived)
      this.logger.log(
        `tombstones: ${stats.retried} retried (${stats.revived} revived): ${stats.deleted} settled, ${stats.failed} failed`,
      );
    return stats;
  }

  /** Leases the tombstones (waiting for syncs in flight with `wait`) and deletes what it owns. */
  private async settle(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    rows: CrmSynchronisation[],
    wait: boolean,
    results: Map<string, DeleteResult>,
  ): Promise<void> {
    let pending = rows;
    const deadline = Date.now() + SYNC_LEASE_MS + 5_000;
    while (pending.length) {
      const leased = await this.store.leaseTombstones(pending.map((r) => r.id));
      if (leased.rows.length)
        await this.deleteOwned(config, crm, leased.rows, leased.token, results);
      const owned = new Set(leased.rows.map((row) => row.id));
      pending = pending.filter((row) => !owned.has(row.id));
      if (!pending.length) return;
      if (!wait || Date.now() > deadline) {
        const error = new Error(
          'a sync of this record holds its lease; the delete is retried later',
        );
        for (const row of pending)
          results.set(row.resourceId, { kind: 'busy', error });
        return;
      }
      await sleep(SYNC_LEASE_POLL_MS * 4);
      // Another delete may have settled some meanwhile: only tombstones still there are waited for.
      const still: CrmSynchronisation[] = [];
      for (const row of pending) {
        const current = await this.store.find({
          crmName: row.crmName,
          resourceType: row.resourceType,
          resourceId: row.resourceId,
        });
        if (current?.id !== row.id) continue;
        // A sync that read the row before it became a tombstone may have written over the state.
        if (current.state !== TOMBSTONE)
          await this.store.markTombstones(row.crmName, row.resourceType, [
            row.resourceId,
          ]);
        still.push(row);
      }
      pending = still;
    }
  }

  /** Deletes leased tombstones in the CRM: never an id a live row still holds (merges). */
  private async deleteOwned(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    rows: CrmSynchronisation[],
    token: string,
    results: Map<string, DeleteResult>,
  ): Promise<void> {
    const mirrors = mirrorsOf(this.registry, config);
    const held = await this.store.liveHolders(
      crm.name,
      mirrors,
      rows.flatMap((row) => (row.crmId ? [row.crmId] : [])),
    );
    const settled = new Map<number, Settled>();
    const toDelete: CrmSynchronisation[] = [];
    for (const row of rows) {
      if (!row.crmId || held.has(row.crmId))
        settled.set(row.id, { status: 'kept' });
      else toDelete.push(row);
    }
    const heldElsewhere = async (
      records: Array<{ crmId: string; ids: string[] }>,
    ) => {
      const holders = await this.store.liveHolders(
        crm.name,
        mirrors,
        records.flatMap((record) => record.ids),
      );
      return new Set(
        records
          .filter((record) => record.ids.some((id) => holders.has(id)))
          .map((record) => record.crmId),
      );
    };
    const byCrmId = toDelete.length
      ? await whileLeased(this.store, token, this.logger, () =>
          this.callCrm(config, crm, toDelete, heldElsewhere),
        )
      : new Map<string, Settled>();
    for (const row of toDelete) settled.set(row.id, byCrmId.get(row.crmId!)!);
    await this.record(config, crm, rows, settled, token, results);
  }

  /** One adapter call per batch (`batchDelete`), or the single delete for one record. */
  private async callCrm(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    rows: CrmSynchronisation[],
    heldElsewhere: (
      records: Array<{ crmId: string; ids: string[] }>,
    ) => Promise<Set<string>>,
  ): Promise<Map<string, Settled>> {
    const objectType = config.options.crmObjectType;
    const crmIds = [...new Set(rows.map((row) => row.crmId!))];
    const out = new Map<string, Settled>();
    const adapter = crm.adapter;
    if (crmIds.length > 1 && adapter.batchDelete) {
      try {
        await acquireBudget(crm);
        const answer = await adapter.batchDelete({
          objectType,
          crmIds,
          heldElsewhere,
        });
        for (const crmId of crmIds) out.set(crmId, { status: 'deleted' });
        for (const result of answer ?? [])
          out.set(result.crmId, { status: result.status, error: result.error });
      } catch (error) {
        for (const crmId of crmIds)
          out.set(crmId, { status: 'deleted', error });
      }
      return out;
    }
    for (const crmId of crmIds) {
      try {
        await acquireBudget(crm);
        let kept = false;
        const existed = await adapter.delete({
          objectType,
          crmId,
          heldElsewhere: async (ids) =>
            (kept = (await heldElsewhere([{ crmId, ids }])).has(crmId)),
        });
        out.set(crmId, {
          status: kept ? 'kept' : existed ? 'deleted' : 'not_found',
        });
      } catch (error) {
        out.set(crmId, { status: 'deleted', error });
      }
    }
    return out;
  }

  /** Settled tombstones are forgotten; failed ones keep their CRM id and count the error. */
  private async record(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    rows: CrmSynchronisation[],
    settled: Map<number, Settled>,
    token: string,
    results: Map<string, DeleteResult>,
  ): Promise<void> {
    const done = rows.filter((row) => !settled.get(row.id)!.error);
    await this.store.removeTombstones(
      done.map((row) => row.id),
      token,
    );
    for (const row of done) {
      const { status } = settled.get(row.id)!;
      if (status !== 'kept')
        this.monitor?.deleted(
          config,
          row.resourceId,
          row.crmId!,
          status === 'deleted',
        );
      results.set(row.resourceId, {
        kind: 'done',
        outcome: {
          crm: crm.name,
          status:
            status === 'kept'
              ? 'noop'
              : status === 'deleted'
                ? 'deleted'
                : 'not_found',
        },
      });
    }
    const failed = new Map<unknown, CrmSynchronisation[]>();
    for (const row of rows) {
      const error = settled.get(row.id)!.error;
      if (error) failed.set(error, [...(failed.get(error) ?? []), row]);
    }
    for (const [error, group] of failed) {
      const counted = countsTowardDeadLetter(error);
      await this.store.markDeleteFailed(
        group.map((row) => row.id),
        token,
        errorMessage(error),
        counted,
      );
      for (const row of group) {
        const dead = counted && row.errorCount + 1 >= crm.maxSyncErrors;
        results.set(row.resourceId, { kind: 'failed', error, counted, dead });
        await this.monitor?.failed(config, {
          resourceId: row.resourceId,
          error,
          before: row,
          after: dead ? 'dead' : 'error',
          counted,
        });
      }
    }
  }
}
