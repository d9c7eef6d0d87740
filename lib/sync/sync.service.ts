import { Inject, Injectable, Optional, Type } from '@nestjs/common';
import { CaptureDrain } from '../capture/capture-drain.service';
import { ETLIFY_STALE_SYNCER, ETLIFY_SYNC_PRODUCER } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { StaleSyncer } from '../interfaces/stale-syncer.interface';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import type {
  BatchSyncStats,
  DeleteOutcome,
  SyncOutcome,
} from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import type { StaleProgress } from '../stale/stale-run-options.interface';
import { SyncDeleteService } from './sync-delete.service';
import { SyncEngine } from './sync-engine.service';
import { SyncRunner } from './sync-runner.service';
import { SyncStateStore } from './sync-state.store';
import { SyncMonitor } from '../events/sync-monitor.service';
import type {
  DeadLetter,
  DeadLetterQuery,
  Page,
} from '../ops/dead-letter.interface';
import { DeadLettersService } from '../ops/dead-letters.service';
import type { ExplainOptions, SyncExplanation } from '../ops/explain.interface';
import { EntityRef, ExplainService } from '../ops/explain.service';

export interface SyncOptions {
  /** CRM name; may be omitted when the entity is mirrored into exactly one CRM. */
  crm?: string;
  /** Enqueue instead of syncing now. Default: true when a queue is configured. */
  async?: boolean;
}

export interface SyncStaleOptions {
  crm?: string;
  /** Entity classes (or their names) to sweep; default all. */
  entities?: Array<Function | string>;
  async?: boolean;
  batchSize?: number;
  /** Run up to the CRM call and report; no CRM writes, no state changes. */
  dryRun?: boolean;
  /** Scan every row even when an incremental sweep from the high-water mark would do. */
  fullScan?: boolean;
  /** Count the stale records first so `onProgress` can report a total (one more query per entity). */
  countFirst?: boolean;
  /** Called after each page with the running counts. */
  onProgress?: (progress: StaleProgress) => void;
  /**
   * Inline sync: how many batch calls (up to 100 records each) may be in flight at once, while
   * the next pages are read and serialized. The CRM's rate governor still meters every call, so
   * this only lets a backfill use the rate budget instead of waiting on each call's latency.
   * 1 works one batch at a time; on SQLite (one connection) batches always go one at a time.
   * Default 4.
   */
  concurrency?: number;
}

/** Public entry point: sync, delete and sweep etlified records. */
@Injectable()
export class SyncService {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly engine: SyncEngine,
    private readonly runner: SyncRunner,
    private readonly store: SyncStateStore,
    private readonly deletes: SyncDeleteService,
    @Optional()
    @Inject(ETLIFY_SYNC_PRODUCER)
    private readonly producer?: SyncJobProducer,
    @Optional() private readonly captureDrain?: CaptureDrain,
    @Optional()
    @Inject(ETLIFY_STALE_SYNCER)
    private readonly staleSyncer?: StaleSyncer,
    // Operations (explain, dead letters, events).
    @Optional() private readonly explainer?: ExplainService,
    @Optional() private readonly deadLetterOps?: DeadLettersService,
    @Optional() private readonly monitor?: SyncMonitor,
  ) {}

  /** Syncs one record. CRM-side failures come back as `status: 'error'`; misuse throws. */
  async sync<T extends object>(
    entity: T,
    options: SyncOptions = {},
  ): Promise<SyncOutcome> {
    if (!entity || typeof entity !== 'object') {
      throw new TypeError('SyncService.sync(entity): pass an entity instance');
    }
    const config = this.registry.getEntityConfig(
      entity.constructor,
      options.crm,
    );
    if (this.shouldEnqueue(config, options)) {
      return this.enqueue(config, this.engine.resourceId(config, entity));
    }
    return this.runner.syncOne(config, entity);
  }

  /** Loads a record by primary key and syncs it; a missing record is `skipped` with an error. */
  async syncById<T>(
    entityClass: Type<T> | Function,
    id: string | number,
    options: SyncOptions = {},
  ): Promise<SyncOutcome> {
    const config = this.registry.getEntityConfig(entityClass, options.crm);
    if (this.shouldEnqueue(config, options))
      return this.enqueue(config, String(id));
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled) return { crm: crm.name, status: 'disabled' };
    const entity = await this.engine.load(config, id);
    if (!entity) {
      return {
        crm: config.crm,
        status: 'skipped',
        error: `${config.resourceType}#${id} not found`,
      };
    }
    return this.runner.syncOne(config, entity);
  }

  /**
   * Deletes a record in the CRM and forgets its state. Without a stored CRM id it is a `noop`.
   * The state row is a tombstone until the CRM delete is settled: a sync in flight is waited for
   * and what it wrote is deleted too. A CRM failure is recorded on the tombstone (retried by the
   * stale sweeper and `retryDeadLetters`) and thrown.
   */
  async delete<T extends object>(
    entity: T,
    options: { crm?: string } = {},
  ): Promise<DeleteOutcome> {
    const config = this.registry.getEntityConfig(
      entity.constructor,
      options.crm,
    );
    return this.deleteById(config, this.engine.resourceId(config, entity));
  }

  /** Used by `delete` and by the capture path once the entity row is gone. */
  async deleteById(
    config: EntitySyncConfig,
    resourceId: string,
  ): Promise<DeleteOutcome> {
    const result = (
      await this.deletes.deleteMany(config, [resourceId], { wait: true })
    ).get(resourceId)!;
    if (result.kind === 'done') return result.outcome;
    throw result.error;
  }

  /**
   * Puts dead-lettered records back (error count reset); returns how many. Dead-lettered deletes
   * (tombstones) are revived and, with every other pending delete, retried now.
   */
  async retryDeadLetters(
    options: { crm?: string; entities?: Array<Function | string> } = {},
  ): Promise<number> {
    const configs = this.selectConfigs(options);
    let count = 0;
    for (const config of configs) {
      const dead = await this.store.reviveDeadLetters(
        config.crm,
        config.resourceType,
      );
      if (!dead.length) continue;
      count += dead.length;
      if (this.producer && this.registry.getCrm(config.crm).enabled) {
        await this.producer.enqueueMany(config, dead);
      }
    }
    const tombstones = await this.deletes.retryTombstones(configs, {
      revive: true,
    });
    return count + tombstones.revived;
  }

  /** Finds and syncs stale records (see the stale sweeper). */
  async syncStale(options: SyncStaleOptions = {}): Promise<BatchSyncStats> {
    if (!this.staleSyncer) {
      throw new Error(
        'SyncService.syncStale: the stale-record finder is not available in this build',
      );
    }
    return this.staleSyncer.syncStale(this.selectConfigs(options), options);
  }

  /**
   * The CRM id of a record in one CRM (read from the sync state), or null when it has none yet.
   * Handy in serializers that link to records outside their `syncDependencies`.
   */
  async crmIdOf<T extends object>(
    entity: T,
    options: { crm?: string } = {},
  ): Promise<string | null> {
    const config = this.registry.getEntityConfig(
      entity.constructor,
      options.crm,
    );
    const row = await this.store.find(
      this.engine.key(config, this.engine.resourceId(config, entity)),
    );
    return row?.crmId ?? null;
  }

  /**
   * Resolves once every change captured so far (by the TypeORM subscriber) has been synced
   * inline or handed to the queue. `save()` does not wait for that; tests and scripts can.
   */
  async idle(): Promise<void> {
    await this.captureDrain?.idle();
  }

  /** Entity configurations filtered by CRM and entity (class or name). */
  selectConfigs(options: {
    crm?: string;
    entities?: Array<Function | string>;
  }): EntitySyncConfig[] {
    if (options.crm) this.registry.getCrm(options.crm);
    const wanted = options.entities?.map((e) =>
      typeof e === 'string' ? e : e.name,
    );
    if (wanted) {
      const known = new Set(
        this.registry.getEntityConfigs().map((c) => c.resourceType),
      );
      const unknown = wanted.filter((name) => !known.has(name));
      if (unknown.length) {
        throw new Error(
          `Not etlified entities: ${unknown.join(', ')}; known: ${[...known].join(', ')}`,
        );
      }
    }
    return this.registry
      .getEntityConfigs()
      .filter((c) => !options.crm || c.crm === options.crm)
      .filter((c) => !wanted || wanted.includes(c.resourceType));
  }

  // ---- Operations: explain and dead letters (lib/ops) ----

  /**
   * Where a record stands for one CRM and why, with one sentence for people. Reads the database
   * and the queue only; `{ remote: true }` also reads the CRM record and diffs it with the payload.
   */
  explain(
    ref: EntityRef,
    options: ExplainOptions = {},
  ): Promise<SyncExplanation> {
    return this.ops('explain', this.explainer).explain(ref, options);
  }

  /** Dead-lettered records, paged (`next` → `after`), filterable by CRM, entity and error category. */
  deadLetters(query: DeadLetterQuery = {}): Promise<Page<DeadLetter>> {
    return this.ops('deadLetters', this.deadLetterOps).list(query);
  }

  countDeadLetters(
    query: Omit<DeadLetterQuery, 'limit' | 'after'> = {},
  ): Promise<number> {
    return this.ops('countDeadLetters', this.deadLetterOps).count(query);
  }

  /** Puts one dead letter back and syncs it (enqueued with a queue, else now). */
  retryDeadLetter<T>(
    entityClass: Type<T> | Function | string,
    id: string | number,
    options: { crm?: string } = {},
  ): Promise<SyncOutcome> {
    return this.ops('retryDeadLetter', this.deadLetterOps).retry(
      entityClass,
      id,
      options,
    );
  }

  /** Takes one dead letter off the list until the record changes; the reason is kept on its state. */
  discardDeadLetter<T>(
    entityClass: Type<T> | Function | string,
    id: string | number,
    options: { crm?: string; reason: string },
  ): Promise<DeadLetter> {
    return this.ops('discardDeadLetter', this.deadLetterOps).discard(
      entityClass,
      id,
      options,
    );
  }

  private ops<T>(method: string, service: T | undefined): T {
    if (!service)
      throw new Error(
        `SyncService.${method}: the operations providers are not part of this module`,
      );
    return service;
  }

  private shouldEnqueue(
    config: EntitySyncConfig,
    options: SyncOptions,
  ): boolean {
    const async = options.async ?? !!this.producer;
    if (!async) return false;
    if (!this.producer) {
      throw new Error(
        'SyncService: { async: true } needs a queue; configure EtlifyModule.forRoot({ queue: { name } }) with BullModule.forRoot',
      );
    }
    return this.registry.getCrm(config.crm).enabled;
  }

  private async enqueue(
    config: EntitySyncConfig,
    resourceId: string,
  ): Promise<SyncOutcome> {
    await this.producer!.enqueueMany(config, [resourceId]);
    return { crm: config.crm, status: 'enqueued' };
  }
}
