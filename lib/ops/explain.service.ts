import { Inject, Injectable, Optional, Type } from '@nestjs/common';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmRegistry } from '../registry/crm.registry';
import type { CrmSynchronisation } from '../sync/crm-synchronisation.entity';
import { errorMessage } from '../sync/redact.util';
import { SyncEngine } from '../sync/sync-engine.service';
import { SyncStateStore } from '../sync/sync-state.store';
import { explainSentence } from './explain-sentence.util';
import type {
  ExplainOptions,
  ExplainState,
  PropertyDiff,
  StaleReason,
  SyncExplanation,
  WaitingOn,
} from './explain.interface';
import { ETLIFY_QUEUE_INSPECTOR } from './ops.constants';
import type { SyncQueueInspector } from './queue-inspector.interface';
import { resolveEntityConfig } from './entity-ref.util';

/** An entity instance, or `[EntityClass or its name, primary key]`. */
export type EntityRef =
  object | [Type<unknown> | Function | string, string | number];

/** Job states that mean "will run": a failed job left in the queue does not. */
const LIVE_JOB_STATES = new Set(['waiting', 'delayed', 'active', 'paused']);

/**
 * `SyncService.explain`: reads the sync state, the record, its dependencies and the queue, runs
 * the serializer, and says where the record stands. The CRM is read only with `remote: true`.
 */
@Injectable()
export class ExplainService {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly engine: SyncEngine,
    private readonly store: SyncStateStore,
    @Optional()
    @Inject(ETLIFY_QUEUE_INSPECTOR)
    private readonly queue?: SyncQueueInspector,
  ) {}

  async explain(
    ref: EntityRef,
    options: ExplainOptions = {},
  ): Promise<SyncExplanation> {
    const { config, id } = resolveEntityConfig(
      this.registry,
      this.engine,
      ref,
      options.crm,
    );
    const crm = this.registry.getCrm(config.crm);
    const row = await this.store.find(this.engine.key(config, id));
    const entity = await this.engine.load(config, id);
    const jobs = this.queue ? await this.queue.jobsOf(config, id) : [];
    const result: SyncExplanation = {
      crm: config.crm,
      entity: config.resourceType,
      id,
      state: 'synced',
      sentence: '',
      crmId: row?.crmId ?? null,
      lastSyncedAt: row?.lastSyncedAt ?? null,
      syncState: row?.state ?? null,
      errorCount: row?.errorCount ?? 0,
      maxSyncErrors: crm.maxSyncErrors,
      lastError: row?.lastError ?? null,
      errorCategory: row?.lastErrorCategory ?? null,
      correlationId: row?.lastCorrelationId ?? null,
      discardReason: row?.discardReason ?? null,
      discardedAt: row?.discardedAt ?? null,
      staleReasons: [],
      waitingOn: [],
      jobs,
    };
    let digestMatches = false;
    if (entity) {
      const dependencies = await this.dependencyCrmIds(config, entity);
      result.waitingOn = dependencies.waiting;
      try {
        result.payload = await config.serializer.toCrmPayload(entity, {
          crm: config.crm,
          crmIdOf: (related) =>
            related ? (dependencies.crmIds.get(related) ?? null) : null,
        });
        digestMatches =
          !!row?.lastDigest &&
          row.lastDigest === this.registry.options.digest(result.payload) &&
          row.serializerVersion === config.serializerVersion;
      } catch (error) {
        result.payloadError = errorMessage(error);
      }
      result.staleReasons = this.staleReasons(
        config,
        entity,
        row,
        digestMatches,
      );
    }
    const skipped =
      !!entity && !!config.options.syncIf && !config.options.syncIf(entity);
    result.state = this.stateOf({
      enabled: crm.enabled,
      entity,
      row,
      skipped,
      liveJobs: jobs.some((job) => LIVE_JOB_STATES.has(job.state)),
      digestMatches,
      waiting: result.waitingOn.length > 0,
      stale: result.staleReasons.length > 0,
    });
    if (options.remote) result.remote = await this.remote(config, result);
    result.sentence = explainSentence(result);
    return result;
  }

  private stateOf(facts: {
    enabled: boolean;
    entity: unknown;
    row: CrmSynchronisation | null;
    skipped: boolean;
    liveJobs: boolean;
    digestMatches: boolean;
    waiting: boolean;
    stale: boolean;
  }): ExplainState {
    const { row } = facts;
    if (!facts.enabled) return 'disabled';
    if (!facts.entity) return row?.crmId ? 'delete_pending' : 'not_found';
    if (row?.state === 'dead') return 'dead_lettered';
    if (row?.state === 'discarded') return 'discarded';
    if (facts.skipped) return 'skipped';
    if (facts.waiting && (!row?.crmId || row.state === 'buffered'))
      return 'buffered';
    if (facts.liveJobs) return 'queued';
    if (row?.state === 'error') return 'error';
    if (!row?.crmId) return 'never_synced';
    if (facts.stale) return facts.digestMatches ? 'not_modified' : 'stale';
    return 'synced';
  }

  /** Own change, dependency change, serializer version, or a payload that no longer matches. */
  private staleReasons(
    config: EntitySyncConfig,
    entity: any,
    row: CrmSynchronisation | null,
    digestMatches: boolean,
  ): StaleReason[] {
    if (!row?.crmId || !row.lastSyncedAt) return [];
    const synced = row.lastSyncedAt.getTime();
    const reasons: StaleReason[] = [];
    const own = config.updatedAtColumn?.getEntityValue(entity);
    if (own && new Date(own).getTime() > synced)
      reasons.push({ kind: 'own_change', changedAt: new Date(own) });
    for (const path of config.options.dependencies ?? []) {
      const relation = config.metadata.findRelationWithPropertyPath(path);
      const column = relation?.inverseEntityMetadata.updateDateColumn;
      if (!relation || !column) continue;
      const value = relation.getEntityValue(entity);
      let latest: number | undefined;
      for (const related of Array.isArray(value)
        ? value
        : value
          ? [value]
          : []) {
        const at = column.getEntityValue(related);
        const time = at ? new Date(at).getTime() : undefined;
        if (
          time !== undefined &&
          time > synced &&
          (latest === undefined || time > latest)
        )
          latest = time;
      }
      if (latest !== undefined)
        reasons.push({
          kind: 'dependency',
          dependency: path,
          changedAt: new Date(latest),
        });
    }
    if (row.serializerVersion !== config.serializerVersion)
      reasons.push({ kind: 'serializer_version' });
    if (!reasons.length && !digestMatches && row.lastDigest)
      reasons.push({ kind: 'payload_differs' });
    return reasons;
  }

  /** CRM ids of the record's `syncDependencies` parents, and those that have none yet. */
  private async dependencyCrmIds(
    config: EntitySyncConfig,
    entity: any,
  ): Promise<{ crmIds: Map<object, string | null>; waiting: WaitingOn[] }> {
    const crmIds = new Map<object, string | null>();
    const waiting: WaitingOn[] = [];
    for (const path of config.options.syncDependencies ?? []) {
      const relation = config.metadata.findRelationWithPropertyPath(path);
      if (!relation) continue;
      const parentConfig = this.registry
        .getEntityConfigs(relation.inverseEntityMetadata.target as Function)
        .find((c) => c.crm === config.crm);
      if (!parentConfig) continue;
      const value = relation.getEntityValue(entity);
      for (const parent of Array.isArray(value)
        ? value
        : value
          ? [value]
          : []) {
        const parentId = String(
          parentConfig.primaryColumn.getEntityValue(parent),
        );
        const parentRow = await this.store.find(
          this.engine.key(parentConfig, parentId),
        );
        crmIds.set(parent, parentRow?.crmId ?? null);
        const gives =
          !parentConfig.options.syncIf || parentConfig.options.syncIf(parent);
        if (!parentRow?.crmId && gives)
          waiting.push({
            relation: path,
            entity: parentConfig.resourceType,
            id: parentId,
          });
      }
    }
    return { crmIds, waiting };
  }

  private async remote(
    config: EntitySyncConfig,
    result: SyncExplanation,
  ): Promise<SyncExplanation['remote']> {
    const crm = this.registry.getCrm(config.crm);
    if (typeof crm.adapter.read !== 'function') {
      throw new Error(
        `explain({ remote: true }): the adapter of CRM "${crm.name}" cannot read records (it has no read() method); explain without remote`,
      );
    }
    if (!result.crmId) return { found: false, diff: [] };
    if (crm.rateGovernor && !crm.adapter.attach)
      await crm.rateGovernor.acquire('standard');
    const payload = result.payload ?? {};
    const record = await crm.adapter.read({
      objectType: config.options.crmObjectType,
      crmId: result.crmId,
      properties: Object.keys(payload),
    });
    if (!record) return { found: false, diff: [] };
    return {
      found: true,
      crmId: record.id,
      diff: diffPayload(payload, record.properties),
    };
  }
}

/** Properties whose value differs, comparing as the CRM stores them (text; blank and null alike). */
export function diffPayload(
  local: CrmPayload,
  remote: Record<string, CrmPayload[string]>,
): PropertyDiff[] {
  const text = (value: unknown) =>
    value === null || value === undefined ? '' : String(value);
  const same = (a: unknown, b: unknown) => {
    if (text(a) === text(b)) return true;
    const [x, y] = [Number(text(a)), Number(text(b))];
    return text(a) !== '' && text(b) !== '' && !Number.isNaN(x) && x === y;
  };
  return Object.keys(local)
    .filter((property) => !same(local[property], remote[property]))
    .map((property) => ({
      property,
      local: local[property],
      remote: remote[property],
    }));
}
