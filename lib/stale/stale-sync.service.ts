import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import {
  DEFAULT_STALE_BATCH_SIZE,
  DEFAULT_STALE_CONCURRENCY,
  ETLIFY_SYNC_PRODUCER,
} from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import type { BatchSyncStats } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { StaleBackfillService } from './stale-backfill.service';
import { StaleDryRunService } from './stale-dry-run.service';
import { StaleMarksService } from './stale-marks.service';
import { prefetch } from './stale-pipeline.util';
import { StaleRecordFinder } from './stale-record.finder';
import type { StaleRunOptions } from './stale-run-options.interface';
import {
  addEntityStats,
  emptyEntityStats,
  emptyRunStats,
} from './stale-stats.util';

function positiveInteger(name: string, value: unknown, fallback: number) {
  const n = value ?? fallback;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new Error(
      `syncStale: ${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return n;
}

/**
 * `SyncService.syncStale`: pages of stale ids from the finder, per entity and CRM, synced inline
 * (StaleBackfillService), queued in bulk, or classified without any write (StaleDryRunService).
 * Persists each entity's high-water mark so the next sweep can be incremental.
 */
@Injectable()
export class StaleSyncService implements OnApplicationBootstrap {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly finder: StaleRecordFinder,
    private readonly marks: StaleMarksService,
    private readonly backfill: StaleBackfillService,
    private readonly dryRun: StaleDryRunService,
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
    return this.marks.hasSweepTable;
  }

  async syncStale(
    configs: EntitySyncConfig[],
    options: StaleRunOptions = {},
  ): Promise<BatchSyncStats> {
    const batchSize = positiveInteger(
      'batchSize',
      options.batchSize,
      DEFAULT_STALE_BATCH_SIZE,
    );
    const concurrency = positiveInteger(
      'concurrency',
      options.concurrency,
      DEFAULT_STALE_CONCURRENCY,
    );
    const async = !options.dryRun && (options.async ?? !!this.producer);
    if (async && !this.producer) {
      throw new Error(
        'syncStale({ async: true }) needs a queue; configure EtlifyModule.forRoot({ queue: { name } }) with BullModule.forRoot',
      );
    }
    const stats = emptyRunStats();
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
        since: await this.marks.since(config, options.fullScan),
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
      const entity = emptyEntityStats(config, since ? 'incremental' : 'full');
      stats.details!.push(entity);
      const report = (count: number) => {
        processed += count;
        options.onProgress?.({
          crm: config.crm,
          entity: config.resourceType,
          processed,
          total,
        });
      };
      const sweepStartedAt = new Date();
      const pages = this.finder.pages(config, { batchSize, since });
      if (crm.enabled && !options.dryRun && !async) {
        const calls = await this.backfill.run(config, pages, entity, {
          concurrency,
          onPage: report,
        });
        estimatedCalls.set(
          crm.name,
          (estimatedCalls.get(crm.name) ?? 0) + calls,
        );
      } else {
        for await (const ids of prefetch(pages)) {
          entity.found += ids.length;
          if (!crm.enabled) entity.disabled += ids.length;
          else if (options.dryRun)
            await this.dryRun.classify(config, ids, entity);
          else {
            await this.producer!.enqueueMany(config, ids);
            entity.enqueued += ids.length;
          }
          report(ids.length);
        }
      }
      if (!options.dryRun && crm.enabled)
        await this.marks.save(config, sweepStartedAt, !since);
      addEntityStats(stats, entity);
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

  /** Calls the rate governor counted during the run, else the run's own estimate. */
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
