import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { MAX_SYNC_DEPENDENCY_DEPTH } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { SyncMonitor } from '../events/sync-monitor.service';
import { ETLIFY_ASSOCIATION_SYNC } from '../associations/association.constants';
import type { AssociationSyncHook } from '../associations/association-sync-hook.interface';
import { CrmSynchronisation, TOMBSTONE } from './crm-synchronisation.entity';
import { CrmPusher, Leased } from './crm-pusher.service';
import type {
  SyncFollowUp,
  SyncRunOptions,
  SyncRunResult,
} from './sync-run.interface';
import {
  DependencyGate,
  DependencyRef,
  SyncContext,
  newSyncContext,
  walkKey,
} from './dependency-gate.service';
import { EntityLoader } from './entity-loader.service';
import { PayloadPreparer, Prepared } from './payload-preparer.service';
import { errorMessage } from './redact.util';
import { SyncStateKey, SyncStateStore } from './sync-state.store';

const notFound = (config: EntitySyncConfig, id: string): SyncOutcome => ({
  crm: config.crm,
  status: 'skipped',
  error: `${config.resourceType}#${id} not found`,
});

/** Records per adapter call (HubSpot's batch limit). */
const MAX_BATCH = 100;
/** Rounds of waiting for records a concurrent caller holds before they fail (not counted). */
const LEASE_ROUNDS = 3;

/**
 * The sync algorithm for any number of records of one entity: dependency gate, serialize, digest
 * guard, lease, CRM call, state update. It never throws for CRM-side failures: each record gets an
 * outcome saying what happened, whether a failure counted, and when to retry.
 */
@Injectable()
export class SyncEngine {
  private readonly logger = new Logger(SyncEngine.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
    private readonly loader: EntityLoader,
    private readonly gate: DependencyGate,
    private readonly preparer: PayloadPreparer,
    private readonly pusher: CrmPusher,
    @Optional() private readonly monitor?: SyncMonitor,
    /** Associations follow their records' syncs (lib/associations); never fails a sync. */
    @Optional()
    @Inject(ETLIFY_ASSOCIATION_SYNC)
    private readonly associations?: AssociationSyncHook,
  ) {}

  // Shorthands kept for callers that name records through the engine.
  resourceId(config: EntitySyncConfig, entity: any): string {
    return this.loader.resourceId(config, entity);
  }
  key(config: EntitySyncConfig, resourceId: string): SyncStateKey {
    return this.loader.key(config, resourceId);
  }
  load(config: EntitySyncConfig, id: string | number): Promise<any | null> {
    return this.loader.load(config, id);
  }
  loadMany(config: EntitySyncConfig, ids: string[]): Promise<any[]> {
    return this.loader.loadMany(config, ids);
  }

  /** `syncMany([entity])`. */
  async syncOne(
    config: EntitySyncConfig,
    entity: any,
    context?: SyncContext,
  ): Promise<SyncOutcome> {
    return (await this.syncMany(config, [entity], context))[0];
  }

  /** Syncs the records now, follow-ups included. Outcomes come back in the order of `entities`. */
  async syncMany(
    config: EntitySyncConfig,
    entities: any[],
    context: SyncContext = newSyncContext(),
  ): Promise<SyncOutcome[]> {
    return (await this.run(config, entities, { context })).outcomes;
  }

  /** Syncs the records; what follows from them is done inline or handed back (see SyncRunOptions). */
  async run(
    config: EntitySyncConfig,
    entities: any[],
    options: SyncRunOptions = {},
    round = 0,
  ): Promise<SyncRunResult> {
    const context = options.context ?? newSyncContext();
    const crm = this.registry.getCrm(config.crm);
    const followUps: SyncFollowUp[] = [];
    if (!crm.enabled)
      return {
        outcomes: entities.map(() => ({ crm: crm.name, status: 'disabled' })),
        followUps,
      };
    const waves = await this.gate.waves(config, entities);
    if (waves.length > 1) {
      const byEntity = new Map<any, SyncOutcome>();
      for (const wave of waves) {
        const result = await this.run(
          config,
          wave,
          { ...options, context },
          round,
        );
        wave.forEach((entity, i) => byEntity.set(entity, result.outcomes[i]));
        followUps.push(...result.followUps);
      }
      return { outcomes: entities.map((e) => byEntity.get(e)!), followUps };
    }
    const outcomes = new Map<any, SyncOutcome>();
    const candidates = await this.gateAndPrepare(
      config,
      entities,
      options,
      context,
      outcomes,
      followUps,
    );

    const rows = await this.store.ensureMany(
      config.crm,
      config.resourceType,
      candidates.map((c) => c.key.resourceId),
    );
    const toPush: Leased[] = [];
    const verified: Array<{ row: CrmSynchronisation; coveredAt: Date }> = [];
    for (const candidate of candidates) {
      const row = rows.get(candidate.key.resourceId)!;
      if (row.state === TOMBSTONE) {
        // Being deleted: the delete wins, nothing is pushed.
        outcomes.set(candidate.entity, { crm: config.crm, status: 'skipped' });
        continue;
      }
      const unchanged = this.preparer.unchanged(config, row, candidate.digest);
      if (unchanged) {
        outcomes.set(candidate.entity, unchanged);
        if (this.preparer.worthStamping(config, row, candidate))
          verified.push({ row, coveredAt: candidate.coveredAt });
      } else toPush.push({ ...candidate, row });
    }
    // Unchanged records match the CRM as of their covered time: the stale finder can drop them.
    await this.store.confirmUnchanged(verified);
    this.monitor?.notModified(
      config,
      candidates
        .filter((c) => outcomes.get(c.entity)?.status === 'not_modified')
        .map((c) => ({
          resourceId: c.key.resourceId,
          crmId: outcomes.get(c.entity)!.crmId ?? null,
        })),
    );

    // A first write of a record deleted since it was loaded would outlive its delete: dropped.
    const gone = await this.loader.goneSinceLoad(config, toPush);
    for (const item of gone)
      outcomes.set(item.entity, notFound(config, item.key.resourceId));
    const live = toPush.filter((item) => !gone.includes(item));
    // Records another caller (or a process that died) holds right now: tried again once free.
    const contended: any[] = [];
    for (let i = 0; i < live.length; i += MAX_BATCH) {
      const chunk = live.slice(i, i + MAX_BATCH);
      const leased = await this.store.acquireLeases(chunk.map((c) => c.row.id));
      const owned: Leased[] = [];
      const released: number[] = [];
      for (const item of chunk) {
        const fresh = leased.rows.get(item.row.id);
        const verdict =
          fresh && this.preparer.recheck(config, item.row, fresh, item);
        if (verdict === 'push') owned.push({ ...item, row: fresh! });
        else if (verdict === 'unchanged')
          outcomes.set(
            item.entity,
            this.preparer.unchanged(config, fresh!, item.digest)!,
          );
        if (verdict !== 'push') (fresh ? released : []).push(item.row.id);
        if (!fresh || verdict === 'stale') contended.push(item.entity);
      }
      await this.store.releaseLeases(released, leased.token);
      const pushed = await this.pusher.pushMany(config, owned, leased.token);
      for (const [entity, outcome] of pushed) outcomes.set(entity, outcome);
    }
    if (contended.length) {
      const later = await this.whenFree(config, contended, options, round);
      for (const [entity, outcome] of later.outcomes)
        outcomes.set(entity, outcome);
      followUps.push(...later.followUps);
    }

    const ready = entities
      .filter((entity) => {
        const status = outcomes.get(entity)?.status;
        return status === 'synced' || status === 'not_modified';
      })
      .map((entity) => this.loader.resourceId(config, entity));
    if (ready.length) {
      const released = await this.gate.releasedBy(config, ready, context);
      await this.follow(released, options, context, followUps);
      await this.associations?.afterSync(config, ready);
    }
    return {
      outcomes: entities.map((entity) => outcomes.get(entity)!),
      followUps,
    };
  }

  /**
   * Keys, `syncIf`, the `syncDependencies` gate and serialization. A record whose parent has no CRM
   * id yet is marked `buffered`; inline, the parents are synced first and the record goes on when
   * they got their ids; otherwise the parents become follow-ups and the record waits for them.
   */
  private async gateAndPrepare(
    config: EntitySyncConfig,
    entities: any[],
    options: SyncRunOptions,
    context: SyncContext,
    outcomes: Map<any, SyncOutcome>,
    followUps: SyncFollowUp[],
  ): Promise<Prepared[]> {
    const candidates: Array<{ entity: any; key: SyncStateKey }> = [];
    for (const entity of entities) {
      let key: SyncStateKey;
      try {
        key = this.loader.key(config, this.loader.resourceId(config, entity));
      } catch (error) {
        outcomes.set(entity, {
          crm: config.crm,
          status: 'error',
          error: errorMessage(error),
          counted: false,
        });
        continue;
      }
      if (config.options.syncIf && !config.options.syncIf(entity)) {
        await this.store.markSkipped(
          key,
          this.loader.coveredAt(config, entity),
          config.serializerVersion,
        );
        outcomes.set(entity, { crm: config.crm, status: 'skipped' });
        continue;
      }
      candidates.push({ entity, key });
    }
    const refsOf = this.gate.hasDependencies(config)
      ? await this.gate.resolve(
          config,
          candidates.map((c) => c.entity),
        )
      : new Map<any, DependencyRef[]>();
    const waiting = new Map<any, DependencyRef[]>();
    if (this.gate.hasDependencies(config))
      for (const { entity, key } of candidates) {
        const self = walkKey(config, key.resourceId);
        context.visited.add(self);
        const blocked = await this.gate.blocking(
          refsOf.get(entity) ?? [],
          self,
          context,
        );
        if (blocked.length) waiting.set(entity, blocked);
      }
    if (waiting.size) {
      const parents = this.gate.group([...waiting.values()].flat());
      await this.store.markBuffered(
        config.crm,
        config.resourceType,
        candidates
          .filter((c) => waiting.has(c.entity))
          .map((c) => c.key.resourceId),
      );
      // Parents first: synced now (inline), or handed back and this record waits for them.
      if (await this.follow(parents, options, context, followUps)) {
        // The parents' CRM ids, read again.
        const again = await this.gate.resolve(config, [...waiting.keys()]);
        for (const [entity] of waiting) {
          const self = walkKey(config, this.loader.resourceId(config, entity));
          const refs = again.get(entity) ?? [];
          if (!(await this.gate.blocking(refs, self, context)).length) {
            refsOf.set(entity, refs);
            waiting.delete(entity);
          }
        }
      }
      for (const entity of waiting.keys())
        outcomes.set(entity, { crm: config.crm, status: 'buffered' });
    }
    const prepared: Prepared[] = [];
    for (const { entity, key } of candidates) {
      if (waiting.has(entity)) continue;
      const result = await this.preparer.prepare(
        config,
        entity,
        key,
        this.gate.serializeContext(config, refsOf.get(entity) ?? []),
        this.loader.coveredAt(config, entity),
      );
      if ('status' in result) outcomes.set(entity, result);
      else prepared.push(result);
    }
    return prepared;
  }

  /**
   * Records whose lease another caller holds: wait until the leases end (released, or lapsed when
   * that caller died), then run again with fresh copies — the digest guard turns what the other
   * caller already sent into `not_modified`. After LEASE_ROUNDS they fail, not counted.
   */
  private async whenFree(
    config: EntitySyncConfig,
    entities: any[],
    options: SyncRunOptions,
    round: number,
  ): Promise<{ outcomes: Map<any, SyncOutcome>; followUps: SyncFollowUp[] }> {
    const outcomes = new Map<any, SyncOutcome>();
    const ids = entities.map((entity) =>
      this.loader.resourceId(config, entity),
    );
    if (round + 1 >= LEASE_ROUNDS) {
      for (const entity of entities)
        outcomes.set(entity, {
          crm: config.crm,
          status: 'error',
          error: 'timed out waiting for a concurrent sync of this record',
          counted: false,
        });
      return { outcomes, followUps: [] };
    }
    await this.store.waitForLeases(config.crm, config.resourceType, ids);
    const fresh = await this.loader.loadMany(config, ids);
    const byId = new Map(
      fresh.map((entity) => [this.loader.resourceId(config, entity), entity]),
    );
    const found = ids.filter((id) => byId.has(id));
    const result = await this.run(
      config,
      found.map((id) => byId.get(id)),
      options,
      round + 1,
    );
    const resultById = new Map(found.map((id, i) => [id, result.outcomes[i]]));
    entities.forEach((entity, i) => {
      outcomes.set(entity, resultById.get(ids[i]) ?? notFound(config, ids[i]));
    });
    return { outcomes, followUps: result.followUps };
  }

  /**
   * Records to sync next (parents, or released dependants): synced now when the run is inline and
   * not too deep, else handed back as follow-ups. Returns whether they were synced.
   */
  private async follow(
    work: Map<EntitySyncConfig, string[]>,
    options: SyncRunOptions,
    context: SyncContext,
    followUps: SyncFollowUp[],
  ): Promise<boolean> {
    const inline =
      options.followUps !== 'return' &&
      context.depth < MAX_SYNC_DEPENDENCY_DEPTH;
    for (const [config, ids] of work) {
      if (!inline) followUps.push({ config, resourceIds: ids });
      else
        await this.syncMany(config, await this.loader.loadMany(config, ids), {
          visited: context.visited,
          depth: context.depth + 1,
        });
    }
    return inline;
  }
}
