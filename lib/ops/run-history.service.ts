import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { LessThan, Repository } from 'typeorm';
import type { BatchSyncStats } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import { EtlifyRun } from './etlify-run.entity';
import {
  DEFAULT_RUN_HISTORY_KEEP,
  DEFAULT_RUN_HISTORY_MAX_AGE_DAYS,
} from './ops.constants';

/** What a finished run reports; any BatchSyncStats fits. */
export type RunFigures = Pick<BatchSyncStats, 'total' | 'errors'> &
  Partial<
    Pick<
      BatchSyncStats,
      'synced' | 'notModified' | 'skipped' | 'enqueued' | 'crmCalls' | 'details'
    >
  >;

/**
 * Run history: one row per stale sweep and per CLI run, newest kept (500 rows, 30 days), older
 * ones pruned after each run. Off, with one warning at boot, when the EtlifyRun entity is not
 * registered with the DataSource; recording never fails the run it describes.
 */
@Injectable()
export class RunHistoryService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RunHistoryService.name);

  constructor(private readonly registry: CrmRegistry) {}

  onApplicationBootstrap(): void {
    if (!this.enabled)
      this.logger.warn(
        'run history is off: add EtlifyRun (exported by nestjs-etlify) to the DataSource entities, or enable autoLoadEntities, and run the CreateEtlifyRuns migration',
      );
  }

  get enabled(): boolean {
    return this.registry.dataSource.hasMetadata(EtlifyRun);
  }

  private get runs(): Repository<EtlifyRun> {
    return this.registry.dataSource.getRepository(EtlifyRun);
  }

  async record(
    kind: string,
    startedAt: Date,
    figures: RunFigures | null,
    failure?: unknown,
  ): Promise<EtlifyRun | null> {
    if (!this.enabled) return null;
    try {
      const run = await this.runs.save(
        this.runs.create({
          kind,
          startedAt,
          finishedAt: new Date(),
          status: failure
            ? 'failed'
            : figures && figures.errors > 0
              ? 'errors'
              : 'ok',
          total: figures?.total ?? 0,
          synced: figures?.synced ?? 0,
          notModified: figures?.notModified ?? 0,
          skipped: figures?.skipped ?? 0,
          enqueued: figures?.enqueued ?? 0,
          errors: figures?.errors ?? 0,
          crmCalls: figures?.crmCalls ?? 0,
          details: failure
            ? JSON.stringify({ error: errorMessage(failure) })
            : figures?.details
              ? JSON.stringify(figures.details)
              : null,
        }),
      );
      await this.prune();
      return run;
    } catch (error) {
      this.logger.warn(
        `could not record the ${kind} run: ${errorMessage(error)}`,
      );
      return null;
    }
  }

  /** The newest runs first. */
  async latest(limit = 10, kind?: string): Promise<EtlifyRun[]> {
    if (!this.enabled) return [];
    return this.runs.find({
      where: kind ? { kind } : {},
      order: { startedAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }

  private async prune(): Promise<void> {
    const cutoff = new Date(
      Date.now() - DEFAULT_RUN_HISTORY_MAX_AGE_DAYS * 86_400_000,
    );
    await this.runs.delete({ startedAt: LessThan(cutoff) });
    const [edge] = await this.runs.find({
      select: { id: true },
      order: { id: 'DESC' },
      skip: DEFAULT_RUN_HISTORY_KEEP,
      take: 1,
    });
    if (edge) await this.runs.delete({ id: LessThan(edge.id + 1) });
  }
}
