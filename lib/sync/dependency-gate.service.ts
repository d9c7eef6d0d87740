import { Injectable, Logger } from '@nestjs/common';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import { MAX_SYNC_DEPENDENCY_DEPTH } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SerializeContext } from '../interfaces/serializer.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { findRelatedOwnerIds, relatedId } from './dependants.util';
import { SyncStateStore } from './sync-state.store';
import { errorMessage } from './redact.util';
import { crmTypeKey } from '../util/crm-key.util';

/** A record named by a `syncDependencies` relation, with its CRM id when it has one. */
export interface DependencyRef {
  config: EntitySyncConfig;
  entity: any;
  resourceId: string;
  crmId: string | null;
  /** False when the dependency will never get a CRM id (its `syncIf` says no): nothing to wait for. */
  waitable: boolean;
}

/**
 * One walk through `syncDependencies`: the records already on the path (so a cycle is noticed
 * instead of waited on) and how deep the walk is.
 */
export interface SyncContext {
  visited: Set<string>;
  depth: number;
}

export const newSyncContext = (): SyncContext => ({
  visited: new Set(),
  depth: 0,
});

/** The key of a record on a walk: CRM, type and id. */
export const walkKey = (config: EntitySyncConfig, resourceId: string) =>
  crmTypeKey(config.crm, config.resourceType, resourceId);

interface DependencyRelation {
  name: string;
  relation: RelationMetadata;
  config: EntitySyncConfig;
}

/**
 * Dependency ordering: which parents (`syncDependencies`) a record waits for, the CRM ids its
 * serializer sees through `crmIdOf`, and which buffered dependants a parent's sync releases.
 */
@Injectable()
export class DependencyGate {
  private readonly logger = new Logger(DependencyGate.name);
  private readonly relations = new Map<
    EntitySyncConfig,
    DependencyRelation[]
  >();
  private readonly dependants = new Map<
    EntitySyncConfig,
    Array<{ config: EntitySyncConfig; relation: RelationMetadata }>
  >();

  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
  ) {}

  hasDependencies(config: EntitySyncConfig): boolean {
    return this.relationsOf(config).length > 0;
  }

  /**
   * Records of one entity that wait on each other (a `syncDependencies` relation to the same entity)
   * go in waves: first those whose parents are not in the batch, then the rest, so a child sent in
   * the same batch as its parent still gets the parent's new id. On a cycle, one record goes first.
   */
  async waves(config: EntitySyncConfig, entities: any[]): Promise<any[][]> {
    if (
      entities.length < 2 ||
      !this.relationsOf(config).some((r) => r.config === config)
    )
      return [entities];
    const idOf = (entity: any) =>
      String(config.primaryColumn.getEntityValue(entity));
    const inBatch = new Set(entities.map(idOf));
    const refs = await this.resolve(config, entities);
    const first: any[] = [];
    const rest: any[] = [];
    for (const entity of entities) {
      const waits = (refs.get(entity) ?? []).some(
        (ref) =>
          ref.config === config &&
          !ref.crmId &&
          ref.waitable &&
          ref.resourceId !== idOf(entity) &&
          inBatch.has(ref.resourceId),
      );
      (waits ? rest : first).push(entity);
    }
    if (!first.length) first.push(rest.shift());
    return rest.length ? [first, rest] : [first];
  }

  /** The records each entity names in `syncDependencies`, with their CRM ids read in bulk. */
  async resolve(
    config: EntitySyncConfig,
    entities: any[],
  ): Promise<Map<any, DependencyRef[]>> {
    const result = new Map<any, DependencyRef[]>();
    const relations = this.relationsOf(config);
    for (const entity of entities) {
      const refs: DependencyRef[] = [];
      for (const { name, relation, config: depConfig } of relations) {
        let value = relation.getEntityValue(entity);
        if (value === undefined) {
          // The caller handed us the record without this relation: read it.
          const query = this.registry.dataSource
            .createQueryBuilder()
            .relation(config.target, name)
            .of(config.primaryColumn.getEntityValue(entity));
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
    for (const [depConfig, ids] of this.group(all)) {
      const crmIds = await this.store.crmIdsOf(
        depConfig.crm,
        depConfig.resourceType,
        ids,
      );
      for (const ref of all)
        if (ref.config === depConfig)
          ref.crmId = crmIds.get(ref.resourceId) ?? null;
    }
    return result;
  }

  /** Dependencies worth waiting for: no CRM id yet, able to get one, and not on a cycle back to `self`. */
  async blocking(
    refs: DependencyRef[],
    self: string,
    context: SyncContext,
  ): Promise<DependencyRef[]> {
    const waiting: DependencyRef[] = [];
    for (const ref of refs) {
      if (ref.crmId || !ref.waitable) continue;
      const key = walkKey(ref.config, ref.resourceId);
      if (key === self || context.visited.has(key)) continue;
      if (await this.reaches(ref, self, new Set([key]), 1)) continue;
      waiting.push(ref);
    }
    return waiting;
  }

  /** Refs grouped by entity, ids deduplicated. */
  group(refs: DependencyRef[]): Map<EntitySyncConfig, string[]> {
    const groups = new Map<EntitySyncConfig, Set<string>>();
    for (const ref of refs) {
      const ids = groups.get(ref.config) ?? new Set<string>();
      ids.add(ref.resourceId);
      groups.set(ref.config, ids);
    }
    return new Map([...groups].map(([config, ids]) => [config, [...ids]]));
  }

  /** What a serializer sees: `crmIdOf` answers for the records named by `syncDependencies`. */
  serializeContext(
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

  /**
   * After records got their CRM id: the dependants buffered while waiting for them, per entity,
   * leaving out the records already on this walk (their caller syncs them).
   */
  async releasedBy(
    config: EntitySyncConfig,
    resourceIds: string[],
    context: SyncContext,
  ): Promise<Map<EntitySyncConfig, string[]>> {
    const released = new Map<EntitySyncConfig, string[]>();
    try {
      await this.findReleased(config, resourceIds, context, released);
    } catch (error) {
      // The parents' own sync succeeded; the sweeper picks the buffered records up later.
      this.logger.error(
        `releasing records buffered on ${config.resourceType} → ${config.crm}: ${errorMessage(error)}`,
      );
    }
    return released;
  }

  private async findReleased(
    config: EntitySyncConfig,
    resourceIds: string[],
    context: SyncContext,
    released: Map<EntitySyncConfig, string[]>,
  ): Promise<void> {
    for (const { config: dependant, relation } of this.dependantsOf(config)) {
      // The parents' dependants first (bounded by their links), then which of them wait: both
      // statements use an index, where a scan for every buffered row of the type would not.
      const related = await findRelatedOwnerIds(
        this.registry.dataSource,
        dependant.metadata,
        relation,
        resourceIds,
      );
      const buffered = await this.store.bufferedAmong(
        dependant.crm,
        dependant.resourceType,
        related,
      );
      const ready = buffered.filter(
        (id) => !context.visited.has(walkKey(dependant, id)),
      );
      if (ready.length) released.set(dependant, ready);
    }
  }

  /** Whether `self` is among the records `ref` itself waits for (a cycle); deep chains count as cycles. */
  private async reaches(
    ref: DependencyRef,
    self: string,
    seen: Set<string>,
    depth: number,
  ): Promise<boolean> {
    if (!this.hasDependencies(ref.config)) return false;
    const refs = (await this.resolve(ref.config, [ref.entity])).get(
      ref.entity,
    )!;
    for (const next of refs) {
      if (next.crmId || !next.waitable) continue;
      const key = walkKey(next.config, next.resourceId);
      if (key === self) return true;
      if (seen.has(key)) continue;
      seen.add(key);
      if (depth >= MAX_SYNC_DEPENDENCY_DEPTH) return true;
      if (await this.reaches(next, self, seen, depth + 1)) return true;
    }
    return false;
  }

  /** The `syncDependencies` relations of an entity that point at a record mirrored into the same CRM. */
  private relationsOf(config: EntitySyncConfig): DependencyRelation[] {
    let relations = this.relations.get(config);
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
      this.relations.set(config, relations);
    }
    return relations;
  }

  /** Entities (same CRM) that name `config`'s entity in their `syncDependencies`. */
  private dependantsOf(
    config: EntitySyncConfig,
  ): Array<{ config: EntitySyncConfig; relation: RelationMetadata }> {
    let dependants = this.dependants.get(config);
    if (!dependants) {
      dependants = [];
      for (const candidate of this.registry.getEntityConfigs()) {
        for (const { relation, config: depConfig } of this.relationsOf(
          candidate,
        )) {
          if (depConfig === config)
            dependants.push({ config: candidate, relation });
        }
      }
      this.dependants.set(config, dependants);
    }
    return dependants;
  }
}
