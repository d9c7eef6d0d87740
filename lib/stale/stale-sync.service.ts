import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { Repository } from 'typeorm';
import {
  DEFAULT_STALE_BATCH_SIZE,
  ETLIFY_SYNC_PRODUCER,
  STALE_FULL_SCAN_INTERVAL_MS,
  STALE_INCREMENTAL_OVERLAP_MS,
} from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import type {
  BatchSyncStats,
  StaleSweepEntityStats,
  SyncOutcome,
} from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { CrmSynchronisation } from '../sync/crm-synchronisation.entity';
import { assertValidPayload } from '../sync/payload.util';
import { SyncEngine } from '../sync/sync-engine.service';
import { EtlifyStaleSweep } from './etlify-stale-sweep.entity';
import { StaleRecordFinder } from './stale-record.finder';
import type { StaleRunOptions } from './stale-run-options.interface';
import { StaleSql } from './stale-sql.util';

/** Records per adapter call on the bulk path (HubSpot's batch limit). */
const CRM_BATCH = 100;

type StateView = Pick<
  CrmSynchronisation,
  'resourceId' | 'crmId' | 'lastDigest' | 'serializerVersion'
>;

/** Asks for the next page while the caller works on this one (the cursor is already known). */
async function* prefetch<T>(pages: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = pages.next();
  for (;;) {
    const current = await next;
    if (current.done) return;
    next = pages.next();
    // Awaited on the next turn; this only keeps a failure meanwhile from being reported as unhandled.
    next.catch(() => undefined);
    yield current.value;
  }
}

/**
 * `SyncService.syncStale`: pages of stale ids from the finder, synced inline with the bulk engine
 * (one CRM call per 100, the digest guard makes unchanged records free), queued in bulk, or
 * classified without any write (dry run). Persists each entity's high-water mark so the next
 * sweep can be incremental.
 */
@Injectable()
export class StaleSyncService implements OnApplicationBootstrap {
  private readonly logger = new Logger(StaleSyncService.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly finder: StaleRecordFinder,
    private readonly engine: SyncEngine,
    @Optional()
    @Inject(ETLIFY_SYNC_PRODUCER)
    private readonly producer?: SyncJobProducer,
  ) {}

  onApplicationBootstrap(): void {
    this.validate();
  }

  /** Fails the boot when an entity's staleness cannot be computed (no update timestamp, bad dependency). */
  validate(): void {
    for (const config of this.registry.getEntityConfigs())
      this.finder.plan(config);
  }

  /** Whether the high-water-mark table is registered with the DataSource. */
  get hasSweepTable(): boolean {
    return this.registry.dataSource.hasMetadata(EtlifyStaleSweep);
  }

  private get sweeps(): Repository<EtlifyStaleSweep> | null {
    return this.hasSweepTable
      ? this.registry.dataSource.getRepository(EtlifyStaleSweep)
      : null;
  }

  async syncStale(
    configs: EntitySyncConfig[],
    options: StaleRunOptions = {},
  ): Promise<BatchSyncStats> {
    const batchSize = options.batchSize ?? DEFAULT_STALE_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(
        `syncStale: batchSize must be a positive integer, got ${String(options.batchSize)}`,
      );
    }
    const async = !options.dryRun && (options.async ?? !!this.producer);
    if (async && !this.producer) {
      throw new Error(
        'syncStale({ async: true }) needs a queue; configure EtlifyModule.forRoot({ queue: { name } }) with BullModule.forRoot',
      );
    }
    const stats: BatchSyncStats = {
      total: 0,
      perEntity: {},
      errors: 0,
      synced: 0,
      created: 0,
      updated: 0,
      notModified: 0,
      skipped: 0,
      enqueued: 0,
      disabled: 0,
      wouldCreate: 0,
      wouldUpdate: 0,
      crmCalls: 0,
      details: [],
    };
    const crms = [...new Set(configs.map((c) => c.crm))].map((name) =>
      this.registry.getCrm(name),
    );
    const before = new Map<string, number>();
    for (const crm of crms) {
      const snapshot = await crm.rateGovernor?.snapshot?.();
      if (snapshot) before.set(crm.name, snapshot.callsMade);
    }
    const estimatedCalls = new Map<string, number>();

    const plans = await Promise.all(
      configs.map(async (config) => ({
        config,
        since: await this.incrementalSince(config, options),
      })),
    );
    let total: number | undefined;
    if (options.countFirst) {
      total = 0;
      for (const plan of plans)
        total += await this.finder.count(plan.config, plan.since);
    }

    let processed = 0;
    for (const { config, since } of plans) {
      const crm = this.registry.getCrm(config.crm);
      const entity: StaleSweepEntityStats = {
        crm: config.crm,
        entity: config.resourceType,
        scan: since ? 'incremental' : 'full',
        found: 0,
        synced: 0,
        created: 0,
        updated: 0,
        notModified: 0,
        skipped: 0,
        errors: 0,
        enqueued: 0,
        disabled: 0,
        wouldCreate: 0,
        wouldUpdate: 0,
      };
      stats.details!.push(entity);
      stats.perEntity[config.resourceType] ??= 0;
      const sweepStartedAt = new Date();
      for await (const ids of prefetch(
        this.finder.pages(config, { batchSize, since }),
      )) {
        entity.found += ids.length;
        if (!crm.enabled) entity.disabled += ids.length;
        else if (options.dryRun) await this.classify(config, ids, entity);
        else if (async) {
          await this.producer!.enqueueMany(config, ids);
          entity.enqueued += ids.length;
        } else {
          const pushed = await this.syncPage(config, ids, entity);
          const calls = crm.adapter.batchUpsert
            ? Math.ceil(pushed / CRM_BATCH)
            : pushed;
          estimatedCalls.set(
            crm.name,
            (estimatedCalls.get(crm.name) ?? 0) + calls,
          );
        }
        processed += ids.length;
        options.onProgress?.({
          crm: config.crm,
          entity: config.resourceType,
          processed,
          total,
        });
      }
      if (!options.dryRun && crm.enabled)
        await this.saveMark(config, sweepStartedAt, !since);
      stats.total += entity.found;
      stats.perEntity[config.resourceType] += entity.found;
      stats.errors += entity.errors;
      for (const key of [
        'synced',
        'created',
        'updated',
        'notModified',
        'skipped',
        'enqueued',
        'disabled',
        'wouldCreate',
        'wouldUpdate',
      ] as const) {
        stats[key] = (stats[key] ?? 0) + entity[key];
      }
    }

    for (const crm of crms) {
      stats.crmCalls! += await this.callsMade(
        crm,
        before,
        estimatedCalls.get(crm.name) ?? 0,
      );
      const snapshot = await crm.rateGovernor?.snapshot?.();
      if (snapshot?.dailyRemaining !== undefined) {
        stats.dailyQuotaLeft = Math.min(
          stats.dailyQuotaLeft ?? Infinity,
          snapshot.dailyRemaining,
        );
      }
    }
    return stats;
  }

  /** The instant to scan from, or null for a full scan (first sweep, version change, backstop due). */
  private async incrementalSince(
    config: EntitySyncConfig,
    options: StaleRunOptions,
  ): Promise<Date | null> {
    const sweeps = this.sweeps;
    if (!sweeps || options.fullScan) return null;
    const row = await sweeps.findOneBy({ sweepKey: this.sweepKey(config) });
    if (!row?.highWaterMark || !row.fullScanAt) return null;
    if (row.serializerVersion !== config.serializerVersion) return null;
    if (Date.now() - row.fullScanAt.getTime() > STALE_FULL_SCAN_INTERVAL_MS)
      return null;
    return row.highWaterMark;
  }

  /** The next sweep looks back to a little before this one began (commits in flight, clock skew). */
  private async saveMark(
    config: EntitySyncConfig,
    startedAt: Date,
    fullScan: boolean,
  ): Promise<void> {
    const sweeps = this.sweeps;
    if (!sweeps) return;
    const sweepKey = this.sweepKey(config);
    const mark = new Date(startedAt.getTime() - STALE_INCREMENTAL_OVERLAP_MS);
    const existing = await sweeps.findOneBy({ sweepKey });
    await sweeps.save(
      sweeps.create({
        ...(existing ?? { sweepKey, leaseToken: null, leaseExpiresAt: null }),
        highWaterMark: mark,
        serializerVersion: config.serializerVersion,
        fullScanAt: fullScan ? startedAt : (existing?.fullScanAt ?? null),
      }),
    );
  }

  private sweepKey(config: EntitySyncConfig): string {
    return `${config.crm}:${config.resourceType}`;
  }

  private async load(config: EntitySyncConfig, ids: string[]): Promise<any[]> {
    const found = await this.engine.loadMany(config, ids);
    // Keep the finder's order; records deleted since are simply gone.
    const byId = new Map(
      found.map((entity) => [this.engine.resourceId(config, entity), entity]),
    );
    return ids.map((id) => byId.get(id)).filter((e) => e !== undefined);
  }

  private async states(
    config: EntitySyncConfig,
    ids: string[],
  ): Promise<Map<string, StateView>> {
    // Raw rows: hydrating a thousand entities per page costs more than the query.
    const rows = await this.registry.dataSource
      .getRepository(CrmSynchronisation)
      .createQueryBuilder('s')
      .select('s.resource_id', 'resourceId')
      .addSelect('s.crm_id', 'crmId')
      .addSelect('s.last_digest', 'lastDigest')
      .addSelect('s.serializer_version', 'serializerVersion')
      .where('s.crm_name = :crm AND s.resource_type = :type', {
        crm: config.crm,
        type: config.resourceType,
      })
      .andWhere('s.resource_id IN (:...ids)', { ids })
      .getRawMany<StateView>();
    return new Map(
      rows.map((row) => [
        String(row.resourceId),
        {
          ...row,
          serializerVersion:
            row.serializerVersion === null
              ? null
              : Number(row.serializerVersion),
        },
      ]),
    );
  }

  /** Inline sync of one page; returns how many records went to the CRM. */
  private async syncPage(
    config: EntitySyncConfig,
    ids: string[],
    stats: StaleSweepEntityStats,
  ): Promise<number> {
    // The sync covers the records as loaded, so it is stamped with a time before the load.
    const pageStartedAt = new Date();
    const [entities, before] = await Promise.all([
      this.load(config, ids),
      this.states(config, ids),
    ]);
    if (!entities.length) return 0;
    const outcomes = await this.engine.syncMany(config, entities);
    const fresh: string[] = [];
    let pushed = 0;
    outcomes.forEach((outcome: SyncOutcome, index) => {
      const id = this.engine.resourceId(config, entities[index]);
      switch (outcome.status) {
        case 'synced':
          stats.synced++;
          if (before.get(id)?.crmId) stats.updated++;
          else stats.created++;
          pushed++;
          fresh.push(id);
          break;
        case 'not_modified':
          stats.notModified++;
          fresh.push(id);
          break;
        case 'skipped':
          stats.skipped++;
          fresh.push(id);
          break;
        case 'error':
          stats.errors++;
          pushed++;
          break;
        case 'disabled':
          stats.disabled++;
          break;
        case 'enqueued':
          stats.enqueued++;
          break;
        default:
          break;
      }
    });
    await this.stamp(config, fresh, pageStartedAt);
    return pushed;
  }

  /**
   * The digest guard writes nothing for an unchanged record, so its sync time is moved here;
   * otherwise a touched-but-equal record would be found again by every full scan.
   */
  private async stamp(
    config: EntitySyncConfig,
    ids: string[],
    at: Date,
  ): Promise<void> {
    if (!ids.length) return;
    const sql = new StaleSql(this.registry.dataSource);
    await this.registry.dataSource
      .getRepository(CrmSynchronisation)
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ lastSyncedAt: at })
      .where('crm_name = :crm AND resource_type = :type', {
        crm: config.crm,
        type: config.resourceType,
      })
      .andWhere('resource_id IN (:...ids)', { ids })
      .andWhere(`${sql.id('state')} IN ('synced', 'skipped', 'error')`)
      .execute();
  }

  /** Dry run: the engine's decisions up to the CRM call, without writing anything. */
  private async classify(
    config: EntitySyncConfig,
    ids: string[],
    stats: StaleSweepEntityStats,
  ): Promise<void> {
    const [entities, states] = await Promise.all([
      this.load(config, ids),
      this.states(config, ids),
    ]);
    for (const entity of entities) {
      const id = this.engine.resourceId(config, entity);
      if (config.options.syncIf && !config.options.syncIf(entity)) {
        stats.skipped++;
        continue;
      }
      let digest: string;
      try {
        const payload = await config.serializer.toCrmPayload(entity, {
          crm: config.crm,
          crmIdOf: () => null,
        });
        assertValidPayload(payload, config.serializer.constructor.name);
        digest = this.registry.options.digest(payload);
      } catch {
        stats.errors++;
        continue;
      }
      const row = states.get(id);
      if (
        row?.crmId &&
        row.lastDigest === digest &&
        row.serializerVersion === config.serializerVersion
      ) {
        stats.notModified++;
      } else if (row?.crmId) stats.wouldUpdate++;
      else stats.wouldCreate++;
    }
  }

  private async callsMade(
    crm: RegisteredCrm,
    before: Map<string, number>,
    estimate: number,
  ): Promise<number> {
    const start = before.get(crm.name);
    const snapshot =
      start === undefined ? undefined : await crm.rateGovernor?.snapshot?.();
    return snapshot && start !== undefined
      ? snapshot.callsMade - start
      : estimate;
  }
}
