import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { ETLIFY_QUEUE } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { DeleteOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import { DeleteResult, SyncDeleteService } from '../sync/sync-delete.service';
import { markLoading } from './queue.util';
import { crmTypeKey } from '../util/crm-key.util';
import type { SyncJobData } from './sync-job.interface';

interface Waiter {
  job: Job<SyncJobData>;
  resolve(outcome: DeleteOutcome): void;
  reject(error: unknown): void;
}

interface PendingBatch {
  config: EntitySyncConfig;
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
}

/**
 * The batching worker of delete jobs. Each Bull 'delete' handler hands its job here and waits;
 * jobs of one CRM and entity type are deleted together (one `batchDelete` per 100 records) when
 * `batchSize` of them are waiting or `batchWindowMs` after the first arrived.
 */
@Injectable()
export class DeleteBatchService {
  private readonly logger = new Logger(DeleteBatchService.name);
  private readonly pending = new Map<string, PendingBatch>();
  private readonly running = new Set<Promise<void>>();
  private draining = false;

  constructor(
    @Inject(ETLIFY_QUEUE) private readonly queue: Queue,
    private readonly registry: CrmRegistry,
    private readonly deletes: SyncDeleteService,
  ) {}

  /** Settles when the batch holding the job is done: resolves with its outcome, rejects to retry. */
  handle(
    job: Job<SyncJobData>,
    config: EntitySyncConfig,
  ): Promise<DeleteOutcome> {
    const queue = this.registry.options.queue;
    if (!queue)
      throw new Error('DeleteBatchService used without a queue option');
    return new Promise<DeleteOutcome>((resolve, reject) => {
      const key = crmTypeKey(config.crm, config.resourceType);
      let batch = this.pending.get(key);
      if (!batch) {
        batch = { config, waiters: [] };
        this.pending.set(key, batch);
      }
      batch.waiters.push({ job, resolve, reject });
      if (this.draining || batch.waiters.length >= queue.batchSize)
        this.flush(key);
      else
        batch.timer ??= setTimeout(() => this.flush(key), queue.batchWindowMs);
    });
  }

  /** Shutdown: delete what is waiting now, then wait for every batch in flight. */
  async drain(): Promise<void> {
    this.draining = true;
    for (const key of [...this.pending.keys()]) this.flush(key);
    await Promise.allSettled([...this.running]);
  }

  private flush(key: string): void {
    const batch = this.pending.get(key);
    if (!batch) return;
    this.pending.delete(key);
    clearTimeout(batch.timer);
    const run: Promise<void> = this.run(batch).finally(() =>
      this.running.delete(run),
    );
    this.running.add(run);
  }

  private async run(batch: PendingBatch): Promise<void> {
    const ids = [
      ...new Set(batch.waiters.map((w) => String(w.job.data.resourceId))),
    ];
    let results: Map<string, DeleteResult>;
    try {
      // From now on a new delete of these records gets a follow-up job instead of collapsing here.
      await markLoading(
        this.queue,
        batch.waiters.map((waiter) => waiter.job.id),
      );
      results = await this.deletes.deleteMany(batch.config, ids, {
        wait: true,
      });
    } catch (error) {
      // Database or Redis trouble: every job of the batch fails and Bull retries it.
      this.logger.warn(
        `delete batch of ${batch.config.resourceType} → ${batch.config.crm} failed: ${errorMessage(error)}`,
      );
      for (const waiter of batch.waiters) waiter.reject(error);
      return;
    }
    for (const waiter of batch.waiters)
      settle(waiter, results.get(String(waiter.job.data.resourceId))!);
  }
}

function settle(waiter: Waiter, result: DeleteResult): void {
  if (result.kind === 'done') return waiter.resolve(result.outcome);
  // A dead-lettered delete waits for retryDeadLetters(); Bull would retry up to `attempts`.
  if (result.kind === 'failed' && result.dead) void waiter.job.discard();
  // Bull retries with backoff; the tombstone is also retried by the stale sweeper.
  waiter.reject(result.error);
}
