import { Injectable, Logger, Optional } from '@nestjs/common';
import { CrmError } from '../errors/crm.error';
import { SyncMonitor } from '../events/sync-monitor.service';
import type { CrmBatchUpsertResult } from '../interfaces/crm-adapter.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import type { CrmSynchronisation } from './crm-synchronisation.entity';
import { countsTowardDeadLetter } from './failure.util';
import type { Prepared } from './payload-preparer.service';
import { errorMessage } from './redact.util';
import { acquireBudget, mirrorsOf, whileLeased } from './crm-call.util';
import { SyncStateStore } from './sync-state.store';

/** A prepared record whose state row we hold the lease of. */
export type Leased = Prepared & { row: CrmSynchronisation };

/**
 * Pushes leased records to the CRM (one batch call per chunk, or one call per record for adapters
 * without `batchUpsert`) and writes what the CRM answered to their state rows.
 */
@Injectable()
export class CrmPusher {
  private readonly logger = new Logger(CrmPusher.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
    @Optional() private readonly monitor?: SyncMonitor,
  ) {}

  /** One adapter call for the chunk; every record gets an outcome, in a Map keyed by its entity. */
  async pushMany(
    config: EntitySyncConfig,
    items: Leased[],
    token: string,
  ): Promise<Map<any, SyncOutcome>> {
    const crm = this.registry.getCrm(config.crm);
    const outcomes = new Map<any, SyncOutcome>();
    if (!items.length) return outcomes;
    const adapter = crm.adapter;
    if (!adapter.batchUpsert) {
      for (const item of items)
        outcomes.set(item.entity, await this.pushOne(config, crm, item, token));
      return outcomes;
    }
    let results: CrmBatchUpsertResult[];
    try {
      results = await whileLeased(this.store, token, this.logger, async () => {
        await acquireBudget(crm);
        return adapter.batchUpsert!({
          objectType: config.options.crmObjectType,
          idProperty: config.options.idProperty ?? '',
          records: items.map((item) => ({
            key: item.key.resourceId,
            payload: item.payload,
            crmId: item.row.crmId ?? undefined,
            recordKey: `${config.resourceType}:${item.key.resourceId}`,
            // A record deleted locally meanwhile is never re-created after a 404.
            mayRecreate: () => this.store.isLive(item.key),
          })),
        });
      });
    } catch (error) {
      for (const item of items)
        outcomes.set(
          item.entity,
          await this.fail(config, crm, item, token, error),
        );
      return outcomes;
    }
    const byKey = new Map(results.map((result) => [result.key, result]));
    const synced: Array<{ item: Leased; crmId: string }> = [];
    for (const item of items) {
      const result = byKey.get(item.key.resourceId);
      if (result?.crmId && !result.error) {
        synced.push({ item, crmId: String(result.crmId) });
        continue;
      }
      const error =
        result?.error ??
        new Error(
          `adapter for CRM "${crm.name}" returned no result for this record`,
        );
      outcomes.set(
        item.entity,
        await this.fail(config, crm, item, token, error),
      );
    }
    await this.recordSynced(config, synced, token);
    for (const { item, crmId } of synced)
      outcomes.set(item.entity, { crm: crm.name, status: 'synced', crmId });
    return outcomes;
  }

  private async pushOne(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    item: Leased,
    token: string,
  ): Promise<SyncOutcome> {
    try {
      const crmId = await whileLeased(
        this.store,
        token,
        this.logger,
        async () => {
          await acquireBudget(crm);
          return crm.adapter.upsert({
            objectType: config.options.crmObjectType,
            payload: item.payload,
            idProperty: config.options.idProperty,
            crmId: item.row.crmId ?? undefined,
            recordKey: `${config.resourceType}:${item.key.resourceId}`,
            mayRecreate: () => this.store.isLive(item.key),
          });
        },
      );
      if (typeof crmId !== 'string' && typeof crmId !== 'number') {
        throw new Error(
          `adapter for CRM "${crm.name}" returned no id from upsert()`,
        );
      }
      await this.recordSynced(config, [{ item, crmId: String(crmId) }], token);
      return { crm: crm.name, status: 'synced', crmId: String(crmId) };
    } catch (error) {
      return this.fail(config, crm, item, token, error);
    }
  }

  /** State rows, merged ids followed, events: one statement batch for the chunk. */
  private async recordSynced(
    config: EntitySyncConfig,
    synced: Array<{ item: Leased; crmId: string }>,
    token: string,
  ): Promise<void> {
    if (!synced.length) return;
    await this.store.markManySynced(
      token,
      synced.map(({ item, crmId }) => ({
        rowId: item.row.id,
        crmId,
        digest: item.digest,
        syncedAt: item.coveredAt,
        serializerVersion: config.serializerVersion,
      })),
    );
    const moved = synced
      .filter(({ item, crmId }) => item.row.crmId && item.row.crmId !== crmId)
      .map(({ item, crmId }) => ({ from: item.row.crmId!, to: crmId }));
    if (moved.length)
      await this.store.followMerges(
        config.crm,
        mirrorsOf(this.registry, config),
        moved,
      );
    await this.monitor?.synced(
      config,
      synced.map(({ item, crmId }) => ({
        entity: item.entity,
        resourceId: item.key.resourceId,
        crmId,
        created: !item.row.crmId,
      })),
    );
  }

  /** Records the failure (counted or not), releases the lease, and says when to retry. */
  private async fail(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    item: Leased,
    token: string,
    error: unknown,
  ): Promise<SyncOutcome> {
    const message = errorMessage(error);
    const counted = countsTowardDeadLetter(error);
    const state = await this.store.markFailed(
      item.row.id,
      token,
      message,
      crm.maxSyncErrors,
      counted,
    );
    await this.monitor?.failed(config, {
      resourceId: item.key.resourceId,
      entity: item.entity,
      error,
      before: item.row,
      after: state,
      counted,
    });
    const retryAfterMs =
      error instanceof CrmError ? error.retryAfterMs : undefined;
    return {
      crm: crm.name,
      status: 'error',
      error: message,
      crmId: item.row.crmId ?? undefined,
      counted,
      deadLettered: state === 'dead',
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
}
