import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import {
  CAPTURE_DRAIN_TIMEOUT_MS,
  CAPTURE_REGISTRATION,
} from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { findRelatedOwnerIds, relatedId } from '../sync/dependants.util';
import { errorMessage } from '../sync/redact.util';
import { crmTypeKey } from '../util/crm-key.util';
import {
  CapturePlan as Plan,
  mergePlan,
  syncParents,
  syncRank,
} from './capture-plan.util';
import { ChangeSet } from './capture-buffer.util';
import { CaptureDelivery } from './capture-delivery.service';
import { CaptureDrain } from './capture-drain.service';
import {
  CaptureSink,
  EtlifyEntitySubscriber,
} from './etlify-entity.subscriber';

/** A relation named in some entity's `dependencies`, seen from the entity it points at. */
interface DependantRelation {
  owner: EntityMetadata;
  relation: RelationMetadata;
}

/** One subscriber per DataSource, shared by every application using it; the first live one handles it. */
interface Registration {
  subscriber: EtlifyEntitySubscriber;
  sinks: CaptureService[];
}

/** How far a change travels along `dependencies` (a change of A re-syncs B, which re-syncs C, …). */
const MAX_DEPENDANT_HOPS = 3;

/**
 * After-commit capture: registers the subscriber, then turns each committed change set into
 * queue jobs (with a queue) or an inline sync right after the commit (without). Work runs in the
 * background — the user's save() never waits for the CRM or the queue and never sees their errors.
 */
@Injectable()
export class CaptureService
  implements CaptureSink, OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(CaptureService.name);
  /** Entity class → relations of other entities that list it in `dependencies`. */
  private readonly dependants = new Map<Function, DependantRelation[]>();
  private readonly captured = new Set<Function>();
  /** Junction table → the entities (listing that many-to-many relation in `dependencies`) whose ids it holds. */
  private readonly links = new Map<
    EntityMetadata,
    Array<{ owner: EntityMetadata; column: ColumnMetadata }>
  >();
  private dataSource?: DataSource;
  private tail: Promise<void> = Promise.resolve();
  private readonly lanes = new Map<
    string,
    { tail: Promise<void>; pending?: Plan }
  >();
  private pending?: ChangeSet;

  constructor(
    private readonly registry: CrmRegistry,
    private readonly drain: CaptureDrain,
    private readonly delivery: CaptureDelivery,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.registry.options.capture) return;
    for (const config of this.registry.getEntityConfigs()) {
      this.captured.add(config.target);
      for (const name of config.options.dependencies ?? []) {
        const relation = config.metadata.findRelationWithPropertyPath(name);
        if (!relation) continue;
        const target = relation.inverseEntityMetadata.target as Function;
        const list = this.dependants.get(target) ?? [];
        if (
          !list.some(
            (d) => d.owner === config.metadata && d.relation === relation,
          )
        )
          list.push({ owner: config.metadata, relation });
        this.dependants.set(target, list);
        this.captured.add(target);
        const junction = relation.junctionEntityMetadata;
        if (relation.isManyToMany && junction) {
          const column = relation.isOwning
            ? junction.ownerColumns[0]
            : junction.inverseColumns[0];
          const links = this.links.get(junction) ?? [];
          if (!links.some((l) => l.owner === config.metadata))
            links.push({ owner: config.metadata, column });
          this.links.set(junction, links);
        }
      }
    }
    if (!this.captured.size) return;
    this.dataSource = this.registry.dataSource;
    const holder = this.dataSource as unknown as Record<
      symbol,
      Registration | undefined
    >;
    let registration = holder[CAPTURE_REGISTRATION];
    if (!registration) {
      const created: Registration = {
        sinks: [],
        subscriber: new EtlifyEntitySubscriber(() => created.sinks[0]),
      };
      registration = holder[CAPTURE_REGISTRATION] = created;
      this.dataSource.subscribers.push(created.subscriber);
    }
    registration.sinks.push(this);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.dataSource) return;
    const holder = this.dataSource as unknown as Record<
      symbol,
      Registration | undefined
    >;
    const registration = holder[CAPTURE_REGISTRATION];
    if (registration) {
      registration.sinks = registration.sinks.filter((sink) => sink !== this);
      if (!registration.sinks.length) {
        const index = this.dataSource.subscribers.indexOf(
          registration.subscriber,
        );
        if (index >= 0) this.dataSource.subscribers.splice(index, 1);
        delete holder[CAPTURE_REGISTRATION];
      }
    }
    // Changes committed just before shutdown still reach the CRM or the queue.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>(
        (resolve) => (timer = setTimeout(resolve, CAPTURE_DRAIN_TIMEOUT_MS)),
      ),
    ]);
    clearTimeout(timer);
    this.dataSource = undefined;
  }

  /** Resolves when nothing captured is still being flushed. */
  idle(): Promise<void> {
    return this.drain.idle();
  }

  captures(target: Function): boolean {
    return this.captured.has(target);
  }

  async dependantsBeforeRemove(
    manager: EntityManager,
    metadata: EntityMetadata,
    id: string,
  ): Promise<ChangeSet | undefined> {
    const relations = this.dependants.get(metadata.target as Function);
    if (!relations) return undefined;
    const changes = new ChangeSet();
    for (const { owner, relation } of relations) {
      // Inside the user's transaction, before the DELETE: the links are still there to follow.
      for (const ownerId of await findRelatedOwnerIds(
        manager,
        owner,
        relation,
        [id],
      ))
        changes.add(owner.target as Function, ownerId, 'upsert');
    }
    return changes;
  }

  dependantsOfPrevious(
    metadata: EntityMetadata,
    databaseEntity: object,
  ): ChangeSet | undefined {
    const relations = this.dependants.get(metadata.target as Function);
    if (!relations) return undefined;
    let changes: ChangeSet | undefined;
    for (const { owner, relation } of relations) {
      // Only a link stored on the changed row (its foreign key) can have moved away from a dependant.
      const inverse = relation.inverseRelation;
      if (!inverse?.joinColumns.length || inverse.isManyToMany) continue;
      const previous = relatedId(inverse.getEntityValue(databaseEntity), owner);
      if (!previous) continue;
      (changes ??= new ChangeSet()).add(
        owner.target as Function,
        previous,
        'upsert',
      );
    }
    return changes;
  }

  dependantsOfLink(
    junction: EntityMetadata,
    row: object,
  ): ChangeSet | undefined {
    const links = this.links.get(junction);
    if (!links) return undefined;
    const changes = new ChangeSet();
    for (const { owner, column } of links) {
      const value =
        column.getEntityValue(row) ??
        (row as Record<string, unknown>)[column.propertyName];
      const id = relatedId(value, owner);
      if (id) changes.add(owner.target as Function, id, 'upsert');
    }
    return changes;
  }

  flush(changes: ChangeSet): void {
    // While a flush runs, later commits pile into one pending set (the last change of a record
    // wins): one flush at a time, in commit order, so an earlier payload never overwrites a later
    // one, and a slow CRM or an unreachable queue holds one set, not one flush per commit.
    if (this.pending) {
      this.pending.merge(changes);
      return;
    }
    const batch = (this.pending = new ChangeSet());
    batch.merge(changes);
    const work = this.tail
      .then(() => {
        if (this.pending === batch) this.pending = undefined;
        return this.process(batch);
      })
      .catch((error) => this.failed(error));
    this.tail = work;
    this.drain.track(work);
  }

  failed(error: unknown): void {
    this.logger.error(
      `capture: ${errorMessage(error)}; the change is left to the stale sweeper`,
    );
  }

  private async process(changes: ChangeSet): Promise<void> {
    // Let the commit's caller resume first: the flush never delays the user's save().
    await new Promise((resolve) => setImmediate(resolve));
    await this.expandDependants(changes);
    const plans: Plan[] = [];
    for (const target of changes.byTarget.keys()) {
      for (const config of this.registry.getEntityConfigs(target)) {
        if (!this.registry.getCrm(config.crm).enabled) continue;
        const softDeleted = changes.ids(target, 'softDelete');
        const ignoreSoft = config.options.onSoftRemove === 'ignore';
        plans.push({
          config,
          upserts: changes.ids(target, 'upsert'),
          deletes: [
            ...changes.ids(target, 'delete'),
            ...(ignoreSoft ? [] : softDeleted),
          ],
        });
      }
    }
    // Each entity has its own lane, so a slow serializer or CRM call of one entity never holds
    // another's; a plan still waits for its parents' plans of this flush, so parents go first.
    plans.sort(
      (a, b) =>
        syncRank(this.registry, a.config) - syncRank(this.registry, b.config),
    );
    const dispatched = new Map<EntitySyncConfig, Promise<void>>();
    for (const plan of plans) {
      const parents = syncParents(this.registry, plan.config)
        .map((parent) => dispatched.get(parent))
        .filter((work): work is Promise<void> => !!work);
      dispatched.set(plan.config, this.dispatch(plan, parents));
    }
  }

  /** Runs a plan on its entity's lane, after the lane's earlier work and after `after`. */
  private dispatch(plan: Plan, after: Promise<void>[]): Promise<void> {
    const key = crmTypeKey(plan.config.crm, plan.config.resourceType);
    let lane = this.lanes.get(key);
    if (!lane) this.lanes.set(key, (lane = { tail: Promise.resolve() }));
    const current = lane;
    if (current.pending) {
      // Work of this lane is waiting to start: this plan joins it (the last change of a record wins).
      mergePlan(current.pending, plan);
      return current.tail;
    }
    current.pending = {
      ...plan,
      upserts: [...plan.upserts],
      deletes: [...plan.deletes],
    };
    const work: Promise<void> = Promise.all([current.tail, ...after]).then(
      () => {
        const next = current.pending!;
        current.pending = undefined;
        return this.delivery.deliver(next);
      },
    );
    current.tail = work;
    this.drain.track(work);
    return work;
  }

  /** Adds the records that list a changed record in their `dependencies`, in bulk per relation. */
  private async expandDependants(changes: ChangeSet): Promise<void> {
    let frontier = changes;
    for (let hop = 0; hop < MAX_DEPENDANT_HOPS && frontier.size; hop++) {
      const next = new ChangeSet();
      for (const [target, ids] of frontier.byTarget) {
        const relations = this.dependants.get(target);
        if (!relations) continue;
        const changed = [...ids]
          .filter(([, c]) => c === 'upsert')
          .map(([id]) => id);
        if (!changed.length) continue;
        for (const { owner, relation } of relations) {
          const ownerIds = await findRelatedOwnerIds(
            this.registry.dataSource,
            owner,
            relation,
            changed,
          );
          for (const id of ownerIds)
            if (changes.addIfAbsent(owner.target as Function, id, 'upsert'))
              next.add(owner.target as Function, id, 'upsert');
        }
      }
      frontier = next;
    }
  }
}
