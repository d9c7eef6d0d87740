import {
  Injectable,
  Logger,
  Optional,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import {
  ETLIFY_QUEUE,
  STALE_SWEEP_JOB_NAME,
  STALE_SWEEP_LOCK_KEY,
  STALE_SWEEP_LOCK_TTL_MS,
} from '../etlify.constants';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { BatchSyncStats } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import { SyncDeleteService } from '../sync/sync-delete.service';
import { SyncService } from '../sync/sync.service';
import { SyncMonitor } from '../events/sync-monitor.service';
import { requireOptionalPackage } from '../ops/optional-package.util';
import { RunHistoryService } from '../ops/run-history.service';
import { DatabaseSweepLock } from './database-sweep.lock';
import { RedisSweepLock } from './redis-sweep.lock';
import { StaleSyncService } from './stale-sync.service';
import type { StaleRunOptions } from './stale-run-options.interface';
import type { SweepLock, SweepLockRedisClient } from './sweep-lock.interface';

/**
 * With `staleSweep: { cron }`: a cron job (in the app's SchedulerRegistry when ScheduleModule is
 * imported, so it can be listed and stopped like any other) that runs `syncStale`, one process
 * at a time, and logs one line per run.
 */
@Injectable()
export class StaleSweeper
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(StaleSweeper.name);
  private job?: CronJob;
  private scheduler?: SchedulerRegistry;
  private lock?: SweepLock;
  private running?: Promise<BatchSyncStats | null>;

  constructor(
    private readonly registry: CrmRegistry,
    private readonly syncService: SyncService,
    private readonly staleSync: StaleSyncService,
    private readonly moduleRef: ModuleRef,
    private readonly deletes: SyncDeleteService,
    // Operations: run history and the sweep_finished event.
    @Optional() private readonly runs?: RunHistoryService,
    @Optional() private readonly monitor?: SyncMonitor,
  ) {}

  onApplicationBootstrap(): void {
    const sweep = this.registry.options.staleSweep;
    if (!sweep) return;
    // Loaded only for a configured sweeper: an app without one need not install it.
    const schedule = requireOptionalPackage<{
      SchedulerRegistry: Type<SchedulerRegistry>;
    }>('@nestjs/schedule', 'option staleSweep');
    this.staleSync.validate();
    this.lock = this.createLock();
    const job = CronJob.from({
      cronTime: sweep.cron,
      onTick: () => {
        void this.runOnce().catch((error: unknown) =>
          this.logger.error(`stale sweep failed: ${errorMessage(error)}`),
        );
      },
      start: false,
    });
    this.scheduler = this.findScheduler(schedule.SchedulerRegistry);
    this.scheduler?.addCronJob(STALE_SWEEP_JOB_NAME, job as any);
    job.start();
    this.job = job;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.job) {
      this.job.stop();
      if (this.scheduler?.doesExist('cron', STALE_SWEEP_JOB_NAME))
        this.scheduler.deleteCronJob(STALE_SWEEP_JOB_NAME);
      this.job = undefined;
    }
    await this.running?.catch(() => undefined);
  }

  /** The lock in use: `redis` with a queue, else `database`. */
  get lockKind(): SweepLock['kind'] | undefined {
    return this.lock?.kind;
  }

  /** Resolves when the sweep in progress in this process (if any) has ended. */
  async whenIdle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /**
   * One sweep, if no other process (or call) is running one; resolves to its figures, or null
   * when it did not run.
   */
  runOnce(options: StaleRunOptions = {}): Promise<BatchSyncStats | null> {
    if (this.running) return Promise.resolve(null);
    const run = this.sweep(options).finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async sweep(
    options: StaleRunOptions,
  ): Promise<BatchSyncStats | null> {
    const sweep = this.registry.options.staleSweep;
    const lock = (this.lock ??= this.createLock());
    const token = await lock.acquire(STALE_SWEEP_LOCK_TTL_MS);
    if (!token) {
      this.logger.debug?.('stale sweep: another process is running it');
      return null;
    }
    // Renew while the sweep runs, so a long sweep keeps the lock and a crashed one frees it.
    const renewal = setInterval(() => {
      lock
        .renew(token, STALE_SWEEP_LOCK_TTL_MS)
        .catch((error: unknown) =>
          this.logger.warn(
            `stale sweep: lock renewal failed: ${errorMessage(error)}`,
          ),
        );
    }, STALE_SWEEP_LOCK_TTL_MS / 3);
    renewal.unref();
    const started = Date.now();
    try {
      // Deletes that failed (tombstones) are retried first: the finder starts from entity rows, which are gone.
      if (!options.dryRun)
        await this.deletes
          .retryTombstones(this.syncService.selectConfigs(options))
          .catch((error: unknown) =>
            this.logger.error(
              `stale sweep: retrying deletes failed: ${errorMessage(error)}`,
            ),
          );
      const stats = await this.syncService.syncStale({
        batchSize: sweep ? sweep.batchSize : undefined,
        ...options,
      });
      this.logger.log(summaryLine(stats, Date.now() - started));
      await this.runs?.record('sweep', new Date(started), stats);
      this.monitor?.sweepFinished(new Date(started), stats);
      return stats;
    } catch (error) {
      await this.runs?.record('sweep', new Date(started), null, error);
      throw error;
    } finally {
      clearInterval(renewal);
      await lock.release(token).catch(() => undefined);
    }
  }

  private createLock(): SweepLock {
    const queue = this.registry.options.queue;
    if (queue) {
      const client = this.queueClient();
      if (client)
        return new RedisSweepLock(
          client,
          `${STALE_SWEEP_LOCK_KEY}:${queue.name}`,
        );
    }
    if (!this.staleSync.hasSweepTable) {
      throw new EtlifyConfigurationError(
        'EtlifyModule: staleSweep needs the EtlifyStaleSweep entity (its lock and high-water marks); enable `autoLoadEntities: true` in TypeOrmModule.forRoot, or add EtlifyStaleSweep (exported by nestjs-etlify) to its `entities`',
      );
    }
    return new DatabaseSweepLock(
      this.registry.dataSource,
      STALE_SWEEP_LOCK_KEY,
    );
  }

  private queueClient(): SweepLockRedisClient | undefined {
    try {
      return this.moduleRef.get<{ client?: SweepLockRedisClient }>(
        ETLIFY_QUEUE,
        { strict: false },
      )?.client;
    } catch {
      return undefined;
    }
  }

  private findScheduler(
    registry: Type<SchedulerRegistry>,
  ): SchedulerRegistry | undefined {
    try {
      return this.moduleRef.get(registry, { strict: false });
    } catch {
      return undefined;
    }
  }
}

/** `stale sweep: 12 found (User 10, Company 2): 3 synced, 8 not modified, 1 skipped, 0 errors, 1 CRM call in 240 ms` */
export function summaryLine(stats: BatchSyncStats, ms: number): string {
  const entities = Object.entries(stats.perEntity)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const scans = [...new Set((stats.details ?? []).map((d) => d.scan))].join(
    '+',
  );
  const parts = [
    `${stats.synced ?? 0} synced`,
    `${stats.notModified ?? 0} not modified`,
    `${stats.skipped ?? 0} skipped`,
    `${stats.errors} errors`,
  ];
  if (stats.enqueued) parts.push(`${stats.enqueued} enqueued`);
  if (stats.disabled) parts.push(`${stats.disabled} disabled`);
  const calls = stats.crmCalls ?? 0;
  return `stale sweep (${scans || 'none'}): ${stats.total} found${entities ? ` (${entities})` : ''}: ${parts.join(', ')}, ${calls} CRM call${calls === 1 ? '' : 's'} in ${ms} ms`;
}
