import { Injectable, Logger } from '@nestjs/common';
import { In } from 'typeorm';
import { SYNC_LEASE_MS, SYNC_LEASE_POLL_MS } from '../etlify.constants';
import { CrmRateLimitError } from '../errors/crm.error';
import type { CrmBatchUpsertResult } from '../interfaces/crm-adapter.interface';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { CrmSynchronisation } from './crm-synchronisation.entity';
import { assertValidPayload } from './payload.util';
import { errorMessage } from './redact.util';
import { SyncStateKey, SyncStateStore } from './sync-state.store';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Records per adapter call on the bulk path (HubSpot's batch limit). */
const MAX_BATCH = 100;

interface Prepared {
  entity: any;
  key: SyncStateKey;
  payload: CrmPayload;
  digest: string;
}

/**
 * The inline sync algorithm, for one record or many: serialize, digest guard, lease, CRM call,
 * state update. It never throws for CRM-side failures; it returns an `error` outcome instead.
 */
@Injectable()
export class SyncEngine {
  private readonly logger = new Logger('Etlify');

  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
  ) {}

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
    const relations = [
      ...new Set([
        ...(config.options.dependencies ?? []),
        ...(config.options.syncDependencies ?? []),
      ]),
    ];
    return this.registry.dataSource.getRepository(config.target).findOne({
      where: { [config.primaryColumn.propertyName]: id },
      relations,
    });
  }

  async syncOne(config: EntitySyncConfig, entity: any): Promise<SyncOutcome> {
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled) return { crm: crm.name, status: 'disabled' };
    const key = this.key(config, this.resourceId(config, entity));
    // The sync covers the record as of now: a change made while the CRM call is in flight is newer.
    const startedAt = new Date();
    if (config.options.syncIf && !config.options.syncIf(entity)) {
      await this.store.markSkipped(key, startedAt, config.serializerVersion);
      return { crm: crm.name, status: 'skipped' };
    }
    let prepared = await this.prepare(config, crm, entity, key);
    if ('status' in prepared) return prepared;

    const deadline = Date.now() + SYNC_LEASE_MS + 5_000;
    for (let waited = false; ;) {
      const row = await this.store.ensure(key);
      const unchanged = this.unchanged(config, row, prepared.digest);
      if (unchanged) return unchanged;
      const token = await this.store.acquireLease(row.id);
      if (!token) {
        if (Date.now() > deadline) {
          return {
            crm: crm.name,
            status: 'error',
            error: 'timed out waiting for a concurrent sync of this record',
          };
        }
        await sleep(SYNC_LEASE_POLL_MS);
        waited = true;
        continue;
      }
      if (waited) {
        // Someone else synced this record meanwhile; our copy may be older than the database's.
        const fresher = await this.refresh(config, entity);
        if (fresher !== entity) {
          entity = fresher;
          const again = await this.prepare(config, crm, entity, key);
          if ('status' in again) {
            await this.store.releaseLease(row.id, token);
            return again;
          }
          prepared = again;
        }
      }
      const current = (await this.store.find(key)) ?? row;
      const unchangedNow = this.unchanged(config, current, prepared.digest);
      if (unchangedNow) {
        await this.store.releaseLease(row.id, token);
        return unchangedNow;
      }
      return this.push(config, crm, current, token, prepared, startedAt);
    }
  }

  /**
   * Bulk path: one state read, one lease statement and one adapter call per 100 records.
   * Results come back in the order of `entities`.
   */
  async syncMany(
    config: EntitySyncConfig,
    entities: any[],
  ): Promise<SyncOutcome[]> {
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled)
      return entities.map(() => ({
        crm: crm.name,
        status: 'disabled' as const,
      }));
    const startedAt = new Date();
    const outcomes = new Map<any, SyncOutcome>();
    const candidates: Prepared[] = [];
    for (const entity of entities) {
      let key: SyncStateKey;
      try {
        key = this.key(config, this.resourceId(config, entity));
      } catch (error) {
        outcomes.set(entity, {
          crm: crm.name,
          status: 'error',
          error: errorMessage(error),
        });
        continue;
      }
      if (config.options.syncIf && !config.options.syncIf(entity)) {
        await this.store.markSkipped(key, startedAt, config.serializerVersion);
        outcomes.set(entity, { crm: crm.name, status: 'skipped' });
        continue;
      }
      const prepared = await this.prepare(config, crm, entity, key);
      if ('status' in prepared) outcomes.set(entity, prepared);
      else candidates.push(prepared);
    }

    const rows = await this.ensureMany(
      config,
      candidates.map((c) => c.key.resourceId),
    );
    const toPush: Array<Prepared & { row: CrmSynchronisation }> = [];
    for (const candidate of candidates) {
      const row = rows.get(candidate.key.resourceId)!;
      const unchanged = this.unchanged(config, row, candidate.digest);
      if (unchanged) outcomes.set(candidate.entity, unchanged);
      else toPush.push({ ...candidate, row });
    }

    for (let i = 0; i < toPush.length; i += MAX_BATCH) {
      const chunk = toPush.slice(i, i + MAX_BATCH);
      const leased = await this.store.acquireLeases(chunk.map((c) => c.row.id));
      const owned = chunk.filter((c) => leased.rows.has(c.row.id));
      const contended = chunk.filter((c) => !leased.rows.has(c.row.id));
      for (const item of owned) item.row = leased.rows.get(item.row.id)!;
      const results = await this.pushMany(
        config,
        crm,
        owned,
        leased.token,
        startedAt,
      );
      for (const [entity, outcome] of results) outcomes.set(entity, outcome);
      // Records another caller is syncing right now take the one-by-one path, which waits.
      for (const item of contended)
        outcomes.set(item.entity, await this.syncOne(config, item.entity));
    }
    return entities.map((entity) => outcomes.get(entity)!);
  }

  private unchanged(
    config: EntitySyncConfig,
    row: CrmSynchronisation,
    digest: string,
  ): SyncOutcome | null {
    if (
      !row.crmId ||
      row.lastDigest !== digest ||
      row.serializerVersion !== config.serializerVersion
    ) {
      return null;
    }
    return { crm: config.crm, status: 'not_modified', crmId: row.crmId };
  }

  private async prepare(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    entity: any,
    key: SyncStateKey,
  ): Promise<Prepared | SyncOutcome> {
    try {
      const payload = await config.serializer.toCrmPayload(entity);
      assertValidPayload(payload, config.serializer.constructor.name);
      return {
        entity,
        key,
        payload,
        digest: this.registry.options.digest(payload),
      };
    } catch (error) {
      // A bad record is isolated: its error is recorded, the others go on.
      const message = errorMessage(error);
      const row = await this.store.ensure(key);
      await this.store.markFailed(row.id, null, message, crm.maxSyncErrors);
      this.logger.warn(
        `${config.resourceType}#${key.resourceId} → ${crm.name}: ${message}`,
      );
      return { crm: crm.name, status: 'error', error: message };
    }
  }

  private async refresh(config: EntitySyncConfig, entity: any): Promise<any> {
    const column = config.updatedAtColumn;
    if (!column) return entity;
    const id = config.primaryColumn.getEntityValue(entity);
    const current = await this.registry.dataSource
      .getRepository(config.target)
      .findOne({
        where: { [config.primaryColumn.propertyName]: id },
        select: [config.primaryColumn.propertyName, column.propertyName] as any,
      });
    const ours = column.getEntityValue(entity);
    const theirs = current ? column.getEntityValue(current) : undefined;
    if (
      theirs &&
      (!ours || new Date(theirs).getTime() > new Date(ours).getTime())
    ) {
      return (await this.load(config, id)) ?? entity;
    }
    return entity;
  }

  private async push(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    row: CrmSynchronisation,
    token: string,
    prepared: Prepared,
    startedAt: Date,
  ): Promise<SyncOutcome> {
    try {
      await this.acquireBudget(crm);
      const crmId = await crm.adapter.upsert({
        objectType: config.options.crmObjectType,
        payload: prepared.payload,
        idProperty: config.options.idProperty,
        crmId: row.crmId ?? undefined,
      });
      if (typeof crmId !== 'string' && typeof crmId !== 'number') {
        throw new Error(
          `adapter for CRM "${crm.name}" returned no id from upsert()`,
        );
      }
      await this.store.markSynced(row.id, token, {
        crmId: String(crmId),
        digest: prepared.digest,
        syncedAt: startedAt,
        serializerVersion: config.serializerVersion,
      });
      return { crm: crm.name, status: 'synced', crmId: String(crmId) };
    } catch (error) {
      return this.fail(config, crm, row, token, prepared, error);
    }
  }

  private async pushMany(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    items: Array<Prepared & { row: CrmSynchronisation }>,
    token: string,
    startedAt: Date,
  ): Promise<Map<any, SyncOutcome>> {
    const outcomes = new Map<any, SyncOutcome>();
    if (!items.length) return outcomes;
    const adapter = crm.adapter;
    if (!adapter.batchUpsert) {
      for (const item of items)
        outcomes.set(
          item.entity,
          await this.push(config, crm, item.row, token, item, startedAt),
        );
      return outcomes;
    }
    let results: CrmBatchUpsertResult[];
    try {
      await this.acquireBudget(crm);
      results = await adapter.batchUpsert({
        objectType: config.options.crmObjectType,
        idProperty: config.options.idProperty ?? '',
        records: items.map((item) => ({
          key: item.key.resourceId,
          payload: item.payload,
          crmId: item.row.crmId ?? undefined,
        })),
      });
    } catch (error) {
      for (const item of items)
        outcomes.set(
          item.entity,
          await this.fail(config, crm, item.row, token, item, error),
        );
      return outcomes;
    }
    const byKey = new Map(results.map((result) => [result.key, result]));
    const synced: Array<{
      item: Prepared & { row: CrmSynchronisation };
      crmId: string;
    }> = [];
    for (const item of items) {
      const result = byKey.get(item.key.resourceId);
      if (result?.crmId && !result.error) {
        synced.push({ item, crmId: String(result.crmId) });
      } else {
        const error =
          result?.error ??
          new Error(
            `adapter for CRM "${crm.name}" returned no result for this record`,
          );
        outcomes.set(
          item.entity,
          await this.fail(config, crm, item.row, token, item, error),
        );
      }
    }
    await this.store.markManySynced(
      token,
      synced.map(({ item, crmId }) => ({
        rowId: item.row.id,
        crmId,
        digest: item.digest,
        syncedAt: startedAt,
        serializerVersion: config.serializerVersion,
      })),
    );
    for (const { item, crmId } of synced)
      outcomes.set(item.entity, { crm: crm.name, status: 'synced', crmId });
    return outcomes;
  }

  private async fail(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    row: CrmSynchronisation,
    token: string,
    prepared: Prepared,
    error: unknown,
  ): Promise<SyncOutcome> {
    const message = errorMessage(error);
    // Waiting for the CRM's rate budget is not the record's fault: it does not count toward dead letters.
    const counts = !(error instanceof CrmRateLimitError && error.retryable);
    await this.store.markFailed(
      row.id,
      token,
      message,
      crm.maxSyncErrors,
      counts,
    );
    this.logger.warn(
      `${config.resourceType}#${prepared.key.resourceId} → ${crm.name}: ${message}`,
    );
    return {
      crm: crm.name,
      status: 'error',
      error: message,
      crmId: row.crmId ?? undefined,
    };
  }

  /** Adapters that do not meter themselves (no `attach`) draw one unit per call here. */
  private async acquireBudget(crm: RegisteredCrm): Promise<void> {
    if (crm.rateGovernor && !crm.adapter.attach)
      await crm.rateGovernor.acquire('standard');
  }

  private async ensureMany(
    config: EntitySyncConfig,
    resourceIds: string[],
  ): Promise<Map<string, CrmSynchronisation>> {
    const rows = new Map<string, CrmSynchronisation>();
    if (!resourceIds.length) return rows;
    const where = { crmName: config.crm, resourceType: config.resourceType };
    const read = async (ids: string[]) => {
      for (let i = 0; i < ids.length; i += 500) {
        const found = await this.store.repository.findBy({
          ...where,
          resourceId: In(ids.slice(i, i + 500)),
        });
        for (const row of found) rows.set(row.resourceId, row);
      }
    };
    await read(resourceIds);
    const missing = resourceIds.filter((id) => !rows.has(id));
    if (missing.length) {
      await this.store.insertMissing(
        missing.map((resourceId) => ({ ...where, resourceId })),
      );
      await read(missing);
    }
    return rows;
  }
}
