import { relationsTree, selectTree } from './find-options.util';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { In } from 'typeorm';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import {
  ETLIFY_SYNC_PRODUCER,
  MAX_SYNC_DEPENDENCY_DEPTH,
  SYNC_LEASE_MS,
  SYNC_LEASE_RENEW_MS,
  SYNC_LEASE_POLL_MS,
} from '../etlify.constants';
import { CrmError } from '../errors/crm.error';
import { ETLIFY_ASSOCIATION_SYNC } from '../associations/association.constants';
import type { AssociationSyncHook } from '../associations/association-sync-hook.interface';
import { countsTowardDeadLetter } from './failure.util';
import type { CrmBatchUpsertResult } from '../interfaces/crm-adapter.interface';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import type { SerializeContext } from '../interfaces/serializer.interface';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { SyncMonitor } from '../events/sync-monitor.service';
import { CrmSynchronisation } from './crm-synchronisation.entity';
import { findRelatedOwnerIds, relatedId } from './dependants.util';
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
 * One walk through `syncDependencies`: the records already on the path (so a cycle is noticed
 * instead of waited on) and how deep the walk is.
 */
export interface SyncContext {
  visited: Set<string>;
  depth: number;
}

/** A record named by a `syncDependencies` relation, with its CRM id when it has one. */
interface DependencyRef {
  config: EntitySyncConfig;
  entity: any;
  resourceId: string;
  crmId: string | null;
  /** False when the dependency will never get a CRM id (its `syncIf` says no): nothing to wait for. */
  waitable: boolean;
}

interface DependencyRelation {
  name: string;
  relation: RelationMetadata;
  config: EntitySyncConfig;
}

const newContext = (): SyncContext => ({ visited: new Set(), depth: 0 });

const stateKey = (config: EntitySyncConfig, resourceId: string) =>
  `${config.crm}\u0000${config.resourceType}\u0000${resourceId}`;

/**
 * The inline sync algorithm, for one record or many: serialize, digest guard, lease, CRM call,
 * state update. It never throws for CRM-side failures; it returns an `error` outcome instead.
 */
@Injectable()
export class SyncEngine {
  /** Load time of the records this engine loaded itself (see coveredSince). */
  private readonly loadedAt = new WeakMap<object, Date>();
  private readonly logger = new Logger(SyncEngine.name);
  private readonly dependencyRelations = new Map<
    EntitySyncConfig,
    DependencyRelation[]
  >();
  private readonly dependantRelations = new Map<
    EntitySyncConfig,
    Array<{ config: EntitySyncConfig; relation: RelationMetadata }>
  >();

  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
    @Optional()
    @Inject(ETLIFY_SYNC_PRODUCER)
    private readonly producer?: SyncJobProducer,
    /** Operations: events, metrics, failure details, hooks (see SyncMonitor). */
    @Optional() private readonly monitor?: SyncMonitor,
    /** Associations follow their records' syncs (lib/associations); never fails a sync. */
    @Optional()
    @Inject(ETLIFY_ASSOCIATION_SYNC)
    private readonly associations?: AssociationSyncHook,
  ) {}

  /** Resource types mirrored into the same CRM object type as `config` (one id space). */
  mirrorsOf(config: EntitySyncConfig): string[] {
    return this.registry
      .getEntityConfigs()
      .filter(
        (c) =>
          c.crm === config.crm &&
          c.options.crmObjectType === config.options.crmObjectType,
      )
      .map((c) => c.resourceType);
  }

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

  /** The relations a serializer may read: everything named in `dependencies` and `syncDependencies`. */
  private relationsToLoad(config: EntitySyncConfig): string[] {
    return [
      ...new Set([
        ...(config.options.dependencies ?? []),
        ...(config.options.syncDependencies ?? []),
      ]),
    ];
  }

  /** Loads a record with the relations its serializer is expected to read. */
  async load(
    config: EntitySyncConfig,
    id: string | number,
  ): Promise<any | null> {
    const relations = this.relationsToLoad(config);
    const loadedAt = new Date();
    const entity = await this.registry.dataSource
      .getRepository(config.target)
      .findOne({
        where: { [config.primaryColumn.propertyName]: id },
        relations: relationsTree(relations),
      });
    if (entity) this.loadedAt.set(entity, loadedAt);
    return entity;
  }

  /** Loads many records (with the relations their serializer reads); missing ids are left out. */
  async loadMany(config: EntitySyncConfig, ids: string[]): Promise<any[]> {
    const relations = this.relationsToLoad(config);
    const found: any[] = [];
    const loadedAt = new Date();
    for (let i = 0; i < ids.length; i += 500) {
      found.push(
        ...(await this.registry.dataSource.getRepository(config.target).find({
          where: {
            [config.primaryColumn.propertyName]: In(ids.slice(i, i + 500)),
          },
          relations: relationsTree(relations),
        })),
      );
    }
    for (const entity of found) this.loadedAt.set(entity, loadedAt);
    return found;
  }

  /**
   * When the sync of these records starts to count: the time they were loaded when this engine
   * loaded them, so a change committed between the load and the CRM call still counts as newer.
   */
  private coveredSince(entities: any[]): Date {
    let since = Date.now();
    for (const entity of entities) {
      const at = this.loadedAt.get(entity);
      if (at && at.getTime() < since) since = at.getTime();
    }
    return new Date(since);
  }

  async syncOne(
    config: EntitySyncConfig,
    entity: any,
    context: SyncContext = newContext(),
  ): Promise<SyncOutcome> {
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled) return { crm: crm.name, status: 'disabled' };
    const key = this.key(config, this.resourceId(config, entity));
    // The sync covers the record as loaded: a change made since, or while the CRM call is in flight, is newer.
    const startedAt = this.coveredSince([entity]);
    if (config.options.syncIf && !config.options.syncIf(entity)) {
      await this.store.markSkipped(key, startedAt, config.serializerVersion);
      return { crm: crm.name, status: 'skipped' };
    }
    let serializeContext = this.serializeContext(config, []);
    let wasBuffered = false;
    if (this.dependencyRelationsOf(config).length) {
      const gate = await this.awaitDependencies(config, entity, key, context);
      if ('status' in gate) return gate;
      serializeContext = gate.context;
      wasBuffered = gate.wasBuffered;
    }
    const outcome = await this.syncPrepared(
      config,
      crm,
      entity,
      key,
      startedAt,
      serializeContext,
    );
    if (outcome.status === 'not_modified' && wasBuffered) {
      await this.store.repository.update(
        { ...key, state: 'buffered' },
        { state: 'synced' },
      );
    }
    if (outcome.status === 'not_modified')
      this.monitor?.notModified(config, [
        { resourceId: key.resourceId, crmId: outcome.crmId ?? null },
      ]);
    // not_modified too: a dependant may have been buffered while this record's first sync ran.
    if (outcome.status === 'synced' || outcome.status === 'not_modified') {
      await this.releaseBuffered(config, [key.resourceId], context);
      await this.associations?.afterSync(config, [key.resourceId]);
    }
    return outcome;
  }

  private async syncPrepared(
    config: EntitySyncConfig,
    crm: RegisteredCrm,
    entity: any,
    key: SyncStateKey,
    startedAt: Date,
    serializeContext: SerializeContext,
  ): Promise<SyncOutcome> {
    let prepared = await this.prepare(
      config,
      crm,
      entity,
      key,
      serializeContext,
    );
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
          const again = await this.prepare(
            config,
            crm,
            entity,
            key,
            serializeContext,
          );
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
    context: SyncContext = newContext(),
    leaseRound = 0,
  ): Promise<SyncOutcome[]> {
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled)
      return entities.map(() => ({
        crm: crm.name,
        status: 'disabled' as const,
      }));
    const startedAt = this.coveredSince(entities);
    const outcomes = new Map<any, SyncOutcome>();
    const candidates: Prepared[] = [];
    const dependencies = this.dependencyRelationsOf(config).length
      ? await this.resolveDependencies(config, entities)
      : undefined;
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
      const refs = dependencies?.get(entity) ?? [];
      if (refs.some((ref) => ref.waitable && !ref.crmId)) {
        // Waiting on a parent (or breaking a cycle) is the one-by-one path's job.
        outcomes.set(entity, await this.syncOne(config, entity, context));
        continue;
      }
      const prepared = await this.prepare(
        config,
        crm,
        entity,
        key,
        this.serializeContext(config, refs),
      );
      if ('status' in prepared) outcomes.set(entity, prepared);
      else candidates.push(prepared);
    }

    const rows = await this.ensureMany(
      config,
      candidates.map((c) => c.key.resourceId),
    );
    const toPush: Array<Prepared & { row: CrmSynchronisation }> = [];
    const verified: number[] = [];
    for (const candidate of candidates) {
      const row = rows.get(candidate.key.resourceId)!;
      const unchanged = this.unchanged(config, row, candidate.digest);
      if (unchanged) {
        outcomes.set(candidate.entity, unchanged);
        verified.push(row.id);
      } else toPush.push({ ...candidate, row });
    }
    // Unchanged records are now known to match the CRM as of startedAt: the stale finder can drop them.
    await this.store.touchSynced(verified, startedAt);
    this.monitor?.notModified(
      config,
      candidates
        .filter((c) => outcomes.has(c.entity))
        .map((c) => ({
          resourceId: c.key.resourceId,
          crmId: outcomes.get(c.entity)!.crmId ?? null,
        })),
    );

    // Records another caller (or a process that died) holds right now; synced once their leases end.
    const contendedAll: any[] = [];
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
      contendedAll.push(...contended.map((item) => item.entity));
    }
    if (contendedAll.length) {
      const later = await this.syncWhenFree(
        config,
        contendedAll,
        context,
        leaseRound,
      );
      for (const [entity, outcome] of later) outcomes.set(entity, outcome);
    }
    const ready = entities
      .filter((entity) => {
        const status = outcomes.get(entity)?.status;
        return status === 'synced' || status === 'not_modified';
      })
      .map((entity) => this.resourceId(config, entity));
    if (ready.length) {
      await this.releaseBuffered(config, ready, context);
      await this.associations?.afterSync(config, ready);
    }
    return entities.map((entity) => outcomes.get(entity)!);
  }

  /**
   * `syncDependencies` gate: when a parent has no CRM id yet the record is marked `buffered` and the
   * parent goes first (inline: synced now, then this record; queued: the parent is enqueued and
   * this record follows when the parent's sync succeeds). A parent on a cycle is not waited for.
   */
  private async awaitDependencies(
    config: EntitySyncConfig,
    entity: any,
    key: SyncStateKey,
    context: SyncContext,
  ): Promise<
    SyncOutcome | { context: SerializeContext; wasBuffered: boolean }
  > {
    const self = stateKey(config, key.resourceId);
    context.visited.add(self);
    let refs = (await this.resolveDependencies(config, [entity])).get(entity)!;
    let waiting = await this.blocking(refs, self, context);
    if (!waiting.length)
      return {
        context: this.serializeContext(config, refs),
        wasBuffered: false,
      };
    const row = await this.store.ensure(key);
    await this.store.repository.update({ id: row.id }, { state: 'buffered' });
    const buffered: SyncOutcome = { crm: config.crm, status: 'buffered' };
    if (this.producer) {
      for (const [depConfig, ids] of this.groupRefs(waiting))
        await this.producer.enqueueMany(depConfig, ids);
      return buffered;
    }
    for (const dep of waiting) {
      if (context.depth >= MAX_SYNC_DEPENDENCY_DEPTH) break;
      await this.syncOne(dep.config, dep.entity, {
        visited: context.visited,
        depth: context.depth + 1,
      });
    }
    refs = (await this.resolveDependencies(config, [entity])).get(entity)!;
    waiting = await this.blocking(refs, self, context);
    if (waiting.length) return buffered;
    return { context: this.serializeContext(config, refs), wasBuffered: true };
  }

  /** Dependencies worth waiting for: no CRM id yet, able to get one, and not on a cycle back to us. */
  private async blocking(
    refs: DependencyRef[],
    self: string,
    context: SyncContext,
  ): Promise<DependencyRef[]> {
    const waiting: DependencyRef[] = [];
    for (const ref of refs) {
      if (ref.crmId || !ref.waitable) continue;
      const key = stateKey(ref.config, ref.resourceId);
      if (key === self || context.visited.has(key)) continue;
      if (await this.reaches(ref, self, new Set([key]), 1)) continue;
      waiting.push(ref);
    }
    return waiting;
  }

  /** Whether `self` is among the records `ref` itself waits for (a cycle); deep chains count as cycles. */
  private async reaches(
    ref: DependencyRef,
    self: string,
    seen: Set<string>,
    depth: number,
  ): Promise<boolean> {
    if (!this.dependencyRelationsOf(ref.config).length) return false;
    const refs = (await this.resolveDependencies(ref.config, [ref.entity])).get(
      ref.entity,
    )!;
    for (const next of refs) {
      if (next.crmId || !next.waitable) continue;
      const key = stateKey(next.config, next.resourceId);
      if (key === self) return true;
      if (seen.has(key)) continue;
      seen.add(key);
      if (depth >= MAX_SYNC_DEPENDENCY_DEPTH) return true;
      if (await this.reaches(next, self, seen, depth + 1)) return true;
    }
    return false;
  }

  /** The records each entity names in `syncDependencies`, with their CRM ids read in bulk. */
  private async resolveDependencies(
    config: EntitySyncConfig,
    entities: any[],
  ): Promise<Map<any, DependencyRef[]>> {
    const result = new Map<any, DependencyRef[]>();
    const relations = this.dependencyRelationsOf(config);
    for (const entity of entities) {
      const refs: DependencyRef[] = [];
      for (const { name, relation, config: depConfig } of relations) {
        let value = relation.getEntityValue(entity);
        if (value === undefined) {
          // The caller handed us the record without this relation: read it.
          const query = this.registry.dataSource
            .createQueryBuilder()
            .relation(config.target, name)
            .of(this.resourceId(config, entity));
          value =
            relation.isOneToMany || relation.isManyToMany
              ? await query.loadMany()
              : await query.loadOne();
        }
        for (const dep of Array.isArray(value) ? value : [value]) {
          const resourceId = relatedId(dep, relation.inverseEntityMetadata);
          if (!resourceId) continue;
          const waitable =
            typeof dep === 'object' &&
            !(depConfig.options.syncIf && !depConfig.options.syncIf(dep));
          refs.push({
            config: depConfig,
            entity: dep,
            resourceId,
            crmId: null,
            waitable,
          });
        }
      }
      result.set(entity, refs);
    }
    const all = [...result.values()].flat();
    for (const [depConfig, ids] of this.groupRefs(all)) {
      const crmIds = new Map<string, string | null>();
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await this.store.repository.find({
          where: {
            crmName: depConfig.crm,
            resourceType: depConfig.resourceType,
            resourceId: In(ids.slice(i, i + 500)),
          },
          select: selectTree(['resourceId', 'crmId']),
        });
        for (const row of rows) crmIds.set(row.resourceId, row.crmId);
      }
      for (const ref of all)
        if (ref.config === depConfig)
          ref.crmId = crmIds.get(ref.resourceId) ?? null;
    }
    return result;
  }

  private groupRefs(refs: DependencyRef[]): Map<EntitySyncConfig, string[]> {
    const groups = new Map<EntitySyncConfig, Set<string>>();
    for (const ref of refs) {
      const ids = groups.get(ref.config) ?? new Set<string>();
      ids.add(ref.resourceId);
      groups.set(ref.config, ids);
    }
    return new Map([...groups].map(([config, ids]) => [config, [...ids]]));
  }

  private serializeContext(
    config: EntitySyncConfig,
    refs: DependencyRef[],
  ): SerializeContext {
    const crmIds = new Map<string, string | null>();
    for (const ref of refs)
      crmIds.set(`${ref.config.resourceType}#${ref.resourceId}`, ref.crmId);
    const dataSource = this.registry.dataSource;
    return {
      crm: config.crm,
      crmIdOf: (related) => {
        if (!related || !refs.length) return null;
        if (!dataSource.hasMetadata(related.constructor)) return null;
        const metadata = dataSource.getMetadata(related.constructor);
        const id = relatedId(related, metadata);
        return crmIds.get(`${metadata.name}#${id}`) ?? null;
      },
    };
  }

  /** The `syncDependencies` relations of an entity that point at a record mirrored into the same CRM. */
  private dependencyRelationsOf(
    config: EntitySyncConfig,
  ): DependencyRelation[] {
    let relations = this.dependencyRelations.get(config);
    if (!relations) {
      relations = [];
      for (const name of config.options.syncDependencies ?? []) {
        const relation = config.metadata.findRelationWithPropertyPath(name);
        if (!relation) continue;
        const depConfig = this.registry
          .getEntityConfigs(relation.inverseEntityMetadata.target as Function)
          .find((c) => c.crm === config.crm);
        if (depConfig) relations.push({ name, relation, config: depConfig });
      }
      this.dependencyRelations.set(config, relations);
    }
    return relations;
  }

  /** Entities (same CRM) that name `config`'s entity in their `syncDependencies`. */
  private dependantsOf(
    config: EntitySyncConfig,
  ): Array<{ config: EntitySyncConfig; relation: RelationMetadata }> {
    let dependants = this.dependantRelations.get(config);
    if (!dependants) {
      dependants = [];
      for (const candidate of this.registry.getEntityConfigs()) {
        for (const {
          relation,
          config: depConfig,
        } of this.dependencyRelationsOf(candidate)) {
          if (depConfig === config)
            dependants.push({ config: candidate, relation });
        }
      }
      this.dependantRelations.set(config, dependants);
    }
    return dependants;
  }

  /**
   * After records got their CRM id: the records buffered while waiting for them go now
   * (inline) or are enqueued. Records already on this walk are left to their caller.
   */
  private async releaseBuffered(
    config: EntitySyncConfig,
    resourceIds: string[],
    context: SyncContext,
  ): Promise<void> {
    for (const { config: dependant, relation } of this.dependantsOf(config)) {
      try {
        // The parents' dependants first (bounded by their links), then which of them wait: both
        // statements use an index, where a scan for every buffered row of the type would not.
        const related = await findRelatedOwnerIds(
          this.registry.dataSource,
          dependant.metadata,
          relation,
          resourceIds,
        );
        const ids: string[] = [];
        for (let i = 0; i < related.length; i += 500) {
          const rows = await this.store.repository.find({
            where: {
              crmName: dependant.crm,
              resourceType: dependant.resourceType,
              resourceId: In(related.slice(i, i + 500)),
              state: 'buffered',
            },
            select: selectTree(['resourceId']),
          });
          ids.push(...rows.map((row) => row.resourceId));
        }
        const ready = ids.filter(
          (id) => !context.visited.has(stateKey(dependant, id)),
        );
        if (!ready.length) continue;
        if (this.producer) {
          await this.producer.enqueueMany(dependant, ready);
          continue;
        }
        if (context.depth >= MAX_SYNC_DEPENDENCY_DEPTH) continue;
        for (const entity of await this.loadMany(dependant, ready)) {
          await this.syncOne(dependant, entity, {
            visited: context.visited,
            depth: context.depth + 1,
          });
        }
      } catch (error) {
        // The parent's own sync succeeded; the sweeper picks the buffered records up later.
        this.logger.error(
          `releasing buffered ${dependant.resourceType} records → ${dependant.crm}: ${errorMessage(error)}`,
        );
      }
    }
  }

  /**
   * Records whose lease another caller holds: wait until the leases end (released, or lapsed when that
   * caller died), then take the bulk path again with fresh copies — the digest guard turns what the
   * other caller already sent into `not_modified`. After two rounds, the one-by-one path (which waits) takes over.
   */
  private async syncWhenFree(
    config: EntitySyncConfig,
    entities: any[],
    context: SyncContext,
    leaseRound: number,
  ): Promise<Map<any, SyncOutcome>> {
    const outcomes = new Map<any, SyncOutcome>();
    if (leaseRound >= 2) {
      for (const entity of entities)
        outcomes.set(entity, await this.syncOne(config, entity, context));
      return outcomes;
    }
    const ids = entities.map((entity) => this.resourceId(config, entity));
    const deadline = Date.now() + SYNC_LEASE_MS + 5_000;
    while (
      Date.now() < deadline &&
      (await this.store.countLeased(config.crm, config.resourceType, ids)) > 0
    ) {
      await sleep(SYNC_LEASE_POLL_MS * 4);
    }
    const fresh = await this.loadMany(config, ids);
    const byId = new Map(
      fresh.map((entity) => [this.resourceId(config, entity), entity]),
    );
    const found = ids.filter((id) => byId.has(id));
    const results = await this.syncMany(
      config,
      found.map((id) => byId.get(id)),
      context,
      leaseRound + 1,
    );
    const resultById = new Map(found.map((id, i) => [id, results[i]]));
    entities.forEach((entity, i) => {
      outcomes.set(
        entity,
        resultById.get(ids[i]) ?? {
          crm: config.crm,
          status: 'skipped',
          error: `${config.resourceType}#${ids[i]} not found`,
        },
      );
    });
    return outcomes;
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
    serializeContext: SerializeContext,
  ): Promise<Prepared | SyncOutcome> {
    try {
      const payload = await config.serializer.toCrmPayload(
        entity,
        serializeContext,
      );
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
      const state = await this.store.markFailed(
        row.id,
        null,
        message,
        crm.maxSyncErrors,
      );
      await this.monitor?.failed(config, {
        resourceId: key.resourceId,
        entity,
        error,
        before: row,
        after: state,
        counted: true,
      });
      return { crm: crm.name, status: 'error', error: message };
    }
  }

  private async refresh(config: EntitySyncConfig, entity: any): Promise<any> {
    const id = config.primaryColumn.getEntityValue(entity);
    // A change to a dependency does not touch this record's timestamp: reload to be sure.
    if (config.options.dependencies?.length)
      return (await this.load(config, id)) ?? entity;
    const column = config.updatedAtColumn;
    if (!column) return entity;
    const current = await this.registry.dataSource
      .getRepository(config.target)
      .findOne({
        where: { [config.primaryColumn.propertyName]: id },
        select: selectTree([
          config.primaryColumn.propertyName,
          column.propertyName,
        ]),
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
      const crmId = await this.whileLeased(token, async () => {
        await this.acquireBudget(crm);
        return crm.adapter.upsert({
          objectType: config.options.crmObjectType,
          payload: prepared.payload,
          idProperty: config.options.idProperty,
          crmId: row.crmId ?? undefined,
          recordKey: `${config.resourceType}:${prepared.key.resourceId}`,
        });
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
      if (row.crmId && row.crmId !== String(crmId))
        await this.store.followMerges(crm.name, this.mirrorsOf(config), [
          { from: row.crmId, to: String(crmId) },
        ]);
      await this.monitor?.synced(config, [
        {
          entity: prepared.entity,
          resourceId: prepared.key.resourceId,
          crmId: String(crmId),
          created: !row.crmId,
        },
      ]);
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
      results = await this.whileLeased(token, async () => {
        await this.acquireBudget(crm);
        return adapter.batchUpsert!({
          objectType: config.options.crmObjectType,
          idProperty: config.options.idProperty ?? '',
          records: items.map((item) => ({
            key: item.key.resourceId,
            payload: item.payload,
            crmId: item.row.crmId ?? undefined,
            recordKey: `${config.resourceType}:${item.key.resourceId}`,
          })),
        });
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
    const moved = synced
      .filter(({ item, crmId }) => item.row.crmId && item.row.crmId !== crmId)
      .map(({ item, crmId }) => ({ from: item.row.crmId!, to: crmId }));
    if (moved.length)
      await this.store.followMerges(crm.name, this.mirrorsOf(config), moved);
    await this.monitor?.synced(
      config,
      synced.map(({ item, crmId }) => ({
        entity: item.entity,
        resourceId: item.key.resourceId,
        crmId,
        created: !item.row.crmId,
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
    const counts = countsTowardDeadLetter(error);
    const state = await this.store.markFailed(
      row.id,
      token,
      message,
      crm.maxSyncErrors,
      counts,
    );
    await this.monitor?.failed(config, {
      resourceId: prepared.key.resourceId,
      entity: prepared.entity,
      error,
      before: row,
      after: state,
      counted: counts,
    });
    const retryAfterMs =
      error instanceof CrmError ? error.retryAfterMs : undefined;
    return {
      crm: crm.name,
      status: 'error',
      error: message,
      crmId: row.crmId ?? undefined,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }

  /**
   * Runs a CRM call while renewing the leases taken under `token`: a slow but live call keeps its
   * records, while the leases of a process that died lapse after SYNC_LEASE_MS.
   */
  private async whileLeased<R>(
    token: string,
    call: () => Promise<R>,
  ): Promise<R> {
    const timer = setInterval(() => {
      this.store
        .renewLeases(token)
        .catch((error) =>
          this.logger.warn(
            `could not renew a sync lease: ${errorMessage(error)}`,
          ),
        );
    }, SYNC_LEASE_RENEW_MS);
    timer.unref();
    try {
      return await call();
    } finally {
      clearInterval(timer);
    }
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

  /**
   * The dry run: what `syncMany` would decide for these records, through the same preparation
   * (dependencies resolved, the real `crmIdOf`, the same digest), with no CRM call and no write.
   * `synced` means the record would be pushed: an update when `crmId` is set, else a create. A
   * record waiting for a dependency without a CRM id is pushed once that dependency is created.
   */
  async preview(
    config: EntitySyncConfig,
    entities: any[],
  ): Promise<SyncOutcome[]> {
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled)
      return entities.map(() => ({ crm: crm.name, status: 'disabled' }));
    const dependencies = this.dependencyRelationsOf(config).length
      ? await this.resolveDependencies(config, entities)
      : undefined;
    const ids = entities.map((entity) => {
      try {
        return this.resourceId(config, entity);
      } catch (error) {
        return error as Error;
      }
    });
    const rows = await this.store.findMany(
      config.crm,
      config.resourceType,
      ids.filter((id): id is string => typeof id === 'string'),
    );
    const outcomes: SyncOutcome[] = [];
    for (const [index, entity] of entities.entries()) {
      const id = ids[index];
      if (typeof id !== 'string') {
        outcomes.push({ crm: crm.name, status: 'error', error: id.message });
        continue;
      }
      if (config.options.syncIf && !config.options.syncIf(entity)) {
        outcomes.push({ crm: crm.name, status: 'skipped' });
        continue;
      }
      const row = rows.get(id);
      const pushed: SyncOutcome = {
        crm: crm.name,
        status: 'synced',
        ...(row?.crmId ? { crmId: row.crmId } : {}),
      };
      const refs = dependencies?.get(entity) ?? [];
      if (refs.some((ref) => ref.waitable && !ref.crmId)) {
        outcomes.push(pushed);
        continue;
      }
      try {
        // prepare() without its failure bookkeeping, which writes.
        const payload = await config.serializer.toCrmPayload(
          entity,
          this.serializeContext(config, refs),
        );
        assertValidPayload(payload, config.serializer.constructor.name);
        const digest = this.registry.options.digest(payload);
        outcomes.push((row && this.unchanged(config, row, digest)) ?? pushed);
      } catch (error) {
        outcomes.push({
          crm: crm.name,
          status: 'error',
          error: errorMessage(error),
        });
      }
    }
    return outcomes;
  }
}
