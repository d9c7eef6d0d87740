import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type {
  CrmAssociationResult,
  CrmAssociationType,
} from '../interfaces/crm-association.interface';
import { CrmNotFoundError } from '../errors/crm.error';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { findRelatedOwnerIds } from '../sync/dependants.util';
import { errorMessage } from '../sync/redact.util';
import { SyncStateStore } from '../sync/sync-state.store';
import {
  ASSOCIATION_LEASE_MS,
  ASSOCIATION_LEASE_POLL_MS,
} from './association.constants';
import {
  planAssociations,
  stateAfterPush,
  type AssociationPlan,
} from './association-diff.util';
import { AssociationLabelResolver } from './association-labels.resolver';
import type { AssociationSpec } from './association-spec.interface';
import { targetConfig } from './association-spec.util';
import {
  AssociationStateStore,
  type AssociationStateKey,
} from './association-state.store';
import { loadRelatedIds } from './association-targets.util';
import type { CrmAssociationState } from './crm-association-state.entity';
import { sleep } from '../util/sleep.util';

/** Records per `retry()` page. */
const RETRY_PAGE = 1_000;

/**
 * Keeps CRM associations in step with TypeORM relations. After records sync (the engine calls
 * `afterSync`), each declared association's set is compared with what was pushed last: an
 * unchanged set costs no call; the differences of all the records go out in one batch create
 * and one batch archive (the adapter splits them by its limit). Targets without a CRM id yet
 * are counted as pending and associated when they get one.
 */
@Injectable()
export class AssociationSyncService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AssociationSyncService.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly syncStates: SyncStateStore,
    private readonly states: AssociationStateStore,
    private readonly labels: AssociationLabelResolver,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.labels.resolveAll();
  }

  /**
   * After records of `config` were synced (or found unchanged): their own associations, then
   * those of records that waited for them as a target. Failures are logged and kept on the
   * association state (retried by the next sync or `retry()`); they never fail the sync.
   */
  async afterSync(
    config: EntitySyncConfig,
    resourceIds: string[],
  ): Promise<void> {
    if (!resourceIds.length) return;
    for (const spec of config.associations ?? []) {
      await this.guard(config, spec, () =>
        this.push(config, spec, resourceIds),
      );
    }
    for (const { owner, spec } of this.ownersOf(config)) {
      await this.guard(owner, spec, async () => {
        const key = this.key(owner, spec);
        if (!(await this.states.hasPending(key))) return;
        const related = await findRelatedOwnerIds(
          this.registry.dataSource,
          owner.metadata,
          spec.relation,
          resourceIds,
        );
        const waiting = await this.states.pendingAmong(key, related);
        if (waiting.length) await this.push(owner, spec, waiting);
      });
    }
  }

  /**
   * Pushes again the associations that wait for targets or whose last push failed; returns how
   * many records were looked at. Safe to run on a schedule.
   */
  async retry(
    options: { crm?: string; entities?: Array<Function | string> } = {},
  ): Promise<number> {
    const names = options.entities?.map((e) =>
      typeof e === 'string' ? e : e.name,
    );
    let count = 0;
    for (const config of this.registry.getEntityConfigs()) {
      if (options.crm && config.crm !== options.crm) continue;
      if (names && !names.includes(config.resourceType)) continue;
      for (const spec of config.associations ?? []) {
        const ids = await this.states.unfinished(
          this.key(config, spec),
          RETRY_PAGE,
        );
        count += ids.length;
        await this.guard(config, spec, () => this.push(config, spec, ids));
      }
    }
    return count;
  }

  private async guard(
    config: EntitySyncConfig,
    spec: AssociationSpec,
    work: () => Promise<void>,
  ): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error(
        `associations ${config.resourceType}.${spec.name} → ${config.crm}: ${errorMessage(error)}`,
      );
    }
  }

  /** Diffs without writing; leases and pushes only the records whose set changed. */
  private async push(
    config: EntitySyncConfig,
    spec: AssociationSpec,
    resourceIds: string[],
    round = 0,
  ): Promise<void> {
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled || !resourceIds.length) return;
    const key = this.key(config, spec);
    const types = await this.labels.typesOf(config, spec);
    const signature =
      types
        .map((t) => `${t.category}:${t.typeId}`)
        .sort()
        .join(',') || 'default';
    const first = await this.plan(config, spec, key, resourceIds, signature);
    if (!first.plans.size) return;
    const leased = await this.states.lease(key, [...first.plans.keys()]);
    const contended = [...first.plans.keys()].filter(
      (id) => !leased.rows.has(id),
    );
    try {
      // Planned again under the lease: another push may have finished meanwhile.
      const { plans, rows } = await this.plan(
        config,
        spec,
        key,
        [...leased.rows.keys()],
        signature,
        leased.rows,
      );
      const idle = [...leased.rows.values()].filter(
        (r) => !plans.has(r.resourceId),
      );
      await this.states.release(
        leased.token,
        idle.map((r) => r.id),
      );
      if (plans.size) {
        const { failedCreates, failedRemoves } = await this.states.whileLeased(
          leased.token,
          () => this.send(config, spec, crm, types, [...plans.values()]),
        );
        await this.states.save(
          [...plans.values()].map((plan) => ({
            row: rows.get(plan.resourceId)!,
            values: stateAfterPush(
              plan,
              rows.get(plan.resourceId),
              signature,
              failedCreates.get(plan.fromCrmId) ?? new Map(),
              failedRemoves.get(plan.fromCrmId) ?? new Map(),
            ),
          })),
        );
      }
    } catch (error) {
      await this.states.release(
        leased.token,
        [...leased.rows.values()].map((r) => r.id),
      );
      throw error;
    }
    if (contended.length && round < 2) {
      // Another caller is pushing these records: wait for it, then diff again.
      const deadline = Date.now() + ASSOCIATION_LEASE_MS + 5_000;
      while (
        Date.now() < deadline &&
        (await this.states.countLeased(key, contended)) > 0
      )
        await sleep(ASSOCIATION_LEASE_POLL_MS);
      await this.push(config, spec, contended, round + 1);
    }
  }

  /** Each record's plan, from the database as it is now and the state pushed last. */
  private async plan(
    config: EntitySyncConfig,
    spec: AssociationSpec,
    key: AssociationStateKey,
    resourceIds: string[],
    signature: string,
    known?: Map<string, CrmAssociationState>,
  ): Promise<{
    plans: Map<string, AssociationPlan>;
    rows: Map<string, CrmAssociationState>;
  }> {
    const plans = new Map<string, AssociationPlan>();
    const fromIds = await this.syncStates.crmIdsOf(
      config.crm,
      config.resourceType,
      resourceIds,
    );
    const ids = resourceIds.filter((id) => fromIds.get(id));
    const rows = known ?? (await this.states.find(key, ids));
    const related = await loadRelatedIds(
      this.registry.dataSource,
      config.metadata,
      spec.relation,
      ids,
    );
    const target = targetConfig(this.registry, config, spec)!;
    const targetIds = await this.syncStates.crmIdsOf(
      target.crm,
      target.resourceType,
      [...related.values()].flat(),
    );
    for (const id of ids) {
      const desired = new Set<string>();
      let pending = 0;
      for (const targetId of related.get(id) ?? []) {
        const crmId = targetIds.get(targetId);
        if (crmId) desired.add(crmId);
        else pending++;
      }
      const plan = planAssociations(
        id,
        fromIds.get(id)!,
        [...desired].sort(),
        pending,
        signature,
        rows.get(id),
      );
      if (plan) plans.set(id, plan);
    }
    return { plans, rows };
  }

  /**
   * One associate and one disassociate for every plan together (creates first: a record moving
   * to another company is never left without one). Failures per pair, keyed by the from id.
   */
  private async send(
    config: EntitySyncConfig,
    spec: AssociationSpec,
    crm: RegisteredCrm,
    types: CrmAssociationType[],
    plans: AssociationPlan[],
  ): Promise<{
    failedCreates: Map<string, Map<string, string>>;
    failedRemoves: Map<string, Map<string, string>>;
  }> {
    const adapter = crm.adapter;
    const base = {
      fromObjectType: config.options.crmObjectType,
      toObjectType: spec.toObjectType!,
    };
    const creates = plans.flatMap((p) =>
      p.create.map((toId) => ({ fromId: p.fromCrmId, toId, types })),
    );
    const removes = plans.flatMap((p) =>
      p.remove.map((toId) => ({ fromId: p.fromCrmId, toId })),
    );
    const failedCreates = new Map<string, Map<string, string>>();
    const failedRemoves = new Map<string, Map<string, string>>();
    if (creates.length) {
      await this.budget(crm);
      collect(
        await adapter.associate!({ ...base, inputs: creates }),
        failedCreates,
      );
    }
    if (removes.length) {
      await this.budget(crm);
      // An association with a record that no longer exists is gone already: not a failure.
      collect(
        await adapter.disassociate!({ ...base, inputs: removes }),
        failedRemoves,
        (error) => error instanceof CrmNotFoundError,
      );
    }
    const failures = [
      ...failedCreates.values(),
      ...failedRemoves.values(),
    ].flatMap((m) => [...m.values()]);
    if (failures.length) {
      this.logger.warn(
        `associations ${config.resourceType}.${spec.name} → ${config.crm}: ${failures.length} of ${creates.length + removes.length} failed; kept for the next sync (first: ${failures[0]})`,
      );
    }
    return { failedCreates, failedRemoves };
  }

  /** Adapters that do not meter themselves (no `attach`) draw one unit per call here. */
  private async budget(crm: RegisteredCrm): Promise<void> {
    if (crm.rateGovernor && !crm.adapter.attach)
      await crm.rateGovernor.acquire('standard');
  }

  /** Associations of other entities (same CRM) that point at `config`'s entity. */
  private ownersOf(
    config: EntitySyncConfig,
  ): Array<{ owner: EntitySyncConfig; spec: AssociationSpec }> {
    const out: Array<{ owner: EntitySyncConfig; spec: AssociationSpec }> = [];
    for (const owner of this.registry.getEntityConfigs()) {
      for (const spec of owner.associations ?? []) {
        if (targetConfig(this.registry, owner, spec) === config)
          out.push({ owner, spec });
      }
    }
    return out;
  }

  private key(
    config: EntitySyncConfig,
    spec: AssociationSpec,
  ): AssociationStateKey {
    return {
      crmName: config.crm,
      resourceType: config.resourceType,
      association: spec.name,
    };
  }
}

function collect(
  results: CrmAssociationResult[],
  into: Map<string, Map<string, string>>,
  harmless: (error: Error) => boolean = () => false,
): void {
  for (const result of results) {
    if (!result.error || harmless(result.error)) continue;
    const byTarget = into.get(result.fromId) ?? new Map<string, string>();
    byTarget.set(result.toId, errorMessage(result.error));
    into.set(result.fromId, byTarget);
  }
}
