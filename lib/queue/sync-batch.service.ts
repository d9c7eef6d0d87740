import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { ETLIFY_QUEUE, ETLIFY_SYNC_PRODUCER } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import { SyncEngine } from '../sync/sync-engine.service';
import type { SyncJobData } from './sync-job.interface';
import { markLoading } from './queue.util';
import { crmTypeKey } from '../util/crm-key.util';
import { SyncMonitor } from '../events/sync-monitor.service';
import { batchLine } from '../events/log-lines.util';

interface Waiter {
  job: Job<SyncJobData>;
  resolve(outcome: SyncOutcome): void;
  reject(error: unknown): void;
}

interface PendingBatch {
  config: EntitySyncConfig;
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
}

/** How one record of a batch ended, from the queue's point of view. */
type RecordResult =
  | { kind: 'done'; outcome: SyncOutcome }
  /** Failed without counting (rate limit, lease wait): enqueued again, the job completes. */
  | { kind: 'rescheduled'; outcome: SyncOutcome }
  /** Counted failure: the job fails and Bull retries it with backoff. */
  | { kind: 'retry'; outcome: SyncOutcome }
  /** Dead-lettered (maxSyncErrors reached): the job fails and is not retried. */
  | { kind: 'dead'; outcome: SyncOutcome };

/**
 * The batching worker. Each Bull 'sync' handler hands its job here and waits; jobs of one CRM and
 * entity type are synced together by one `SyncEngine.syncMany` (one batchUpsert per 100 records)
 * when `batchSize` of them are waiting or `batchWindowMs` after the first arrived.
 */
@Injectable()
export class SyncBatchService {
  private readonly logger = new Logger(SyncBatchService.name);
  private readonly pending = new Map<string, PendingBatch>();
  private readonly running = new Set<Promise<void>>();
  private draining = false;

  constructor(
    @Inject(ETLIFY_QUEUE) private readonly queue: Queue,
    private readonly registry: CrmRegistry,
    private readonly engine: SyncEngine,
    @Inject(ETLIFY_SYNC_PRODUCER) private readonly producer: SyncJobProducer,
    @Optional() private readonly monitor?: SyncMonitor,
  ) {}

  /** Settles when the batch holding the job is synced: resolves with its outcome, rejects to retry. */
  handle(
    job: Job<SyncJobData>,
    config: EntitySyncConfig,
  ): Promise<SyncOutcome> {
    const { batchSize, batchWindowMs } = this.queueOptions;
    return new Promise<SyncOutcome>((resolve, reject) => {
      const key = crmTypeKey(config.crm, config.resourceType);
      let batch = this.pending.get(key);
      if (!batch) {
        batch = { config, waiters: [] };
        this.pending.set(key, batch);
      }
      batch.waiters.push({ job, resolve, reject });
      if (this.draining || batch.waiters.length >= batchSize) this.flush(key);
      else batch.timer ??= setTimeout(() => this.flush(key), batchWindowMs);
    });
  }

  /** Shutdown: sync what is waiting now, then wait for every batch in flight. */
  async drain(): Promise<void> {
    this.draining = true;
    for (const key of [...this.pending.keys()]) this.flush(key);
    await Promise.allSettled([...this.running]);
  }

  private get queueOptions() {
    const queue = this.registry.options.queue;
    if (!queue) throw new Error('SyncBatchService used without a queue option');
    return queue;
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
    const byId = new Map<string, Waiter[]>();
    for (const waiter of batch.waiters) {
      const id = String(waiter.job.data.resourceId);
      byId.set(id, [...(byId.get(id) ?? []), waiter]);
    }
    let results: Map<string, RecordResult>;
    const startedAt = Date.now();
    try {
      // Before the read: from now on a new change gets a follow-up job instead of collapsing here.
      await markLoading(
        this.queue,
        batch.waiters.map((waiter) => waiter.job.id),
      );
      results = await this.syncIds(batch.config, [...byId.keys()]);
    } catch (error) {
      // Database or Redis trouble: every job of the batch fails and Bull retries it.
      this.logger.warn(
        `batch of ${batch.config.resourceType} → ${batch.config.crm} failed: ${errorMessage(error)}`,
      );
      for (const waiter of batch.waiters) waiter.reject(error);
      return;
    }
    for (const [id, waiters] of byId) {
      const result = results.get(id)!;
      for (const waiter of waiters) settle(waiter, result);
    }
    // Operations: change-to-CRM latency from each job's enqueue (right after its commit), one log line.
    this.monitor?.delivered(
      batch.config,
      batch.waiters
        .filter(
          (w) =>
            results.get(String(w.job.data.resourceId))?.outcome.status ===
            'synced',
        )
        .map((w) => w.job.timestamp),
    );
    this.logger.log(
      batchLine(
        batch.config,
        [...results.values()].map((r) => r.outcome.status),
        Date.now() - startedAt,
      ),
    );
  }

  /** Loads the records fresh, syncs them in one go and sorts each outcome into done / retry / dead. */
  private async syncIds(
    config: EntitySyncConfig,
    ids: string[],
  ): Promise<Map<string, RecordResult>> {
    const results = new Map<string, RecordResult>();
    const entities = await this.engine.loadMany(config, ids);
    const loaded = new Map(
      entities.map((entity) => [
        this.engine.resourceId(config, entity),
        entity,
      ]),
    );
    for (const id of ids) {
      if (!loaded.has(id)) {
        // Deleted since it was enqueued: nothing to sync (the delete job handles the CRM side).
        results.set(id, {
          kind: 'done',
          outcome: {
            crm: config.crm,
            status: 'skipped',
            error: `${config.resourceType}#${id} not found`,
          },
        });
      }
    }
    const found = [...loaded.keys()];
    if (!found.length) return results;
    const run = await this.engine.run(
      config,
      found.map((id) => loaded.get(id)),
      { followUps: 'return' },
    );
    // Parents a record waits for, dependants a parent released: jobs of their own.
    for (const followUp of run.followUps)
      await this.producer.enqueueMany(followUp.config, followUp.resourceIds);
    const rescheduled: string[] = [];
    // A rate-limited batch waits as long as the CRM asked (never less than the configured backoff).
    let delayMs = this.queueOptions.backoffMs;
    found.forEach((id, i) => {
      const outcome = run.outcomes[i];
      if (outcome.status !== 'error')
        results.set(id, { kind: 'done', outcome });
      else if (outcome.deadLettered) results.set(id, { kind: 'dead', outcome });
      else if (outcome.counted === false) {
        // Not counted (rate limit, or a concurrent sync held it past our wait): later, not a retry.
        rescheduled.push(id);
        delayMs = Math.max(delayMs, outcome.retryAfterMs ?? 0);
        results.set(id, { kind: 'rescheduled', outcome });
      } else results.set(id, { kind: 'retry', outcome });
    });
    if (rescheduled.length) {
      await this.producer.enqueueMany(config, rescheduled, { delayMs });
    }
    return results;
  }
}

function settle(waiter: Waiter, result: RecordResult): void {
  switch (result.kind) {
    case 'done':
    case 'rescheduled':
      waiter.resolve(result.outcome);
      return;
    case 'dead':
      // Bull would retry up to `attempts`; a dead letter waits for retryDeadLetters() instead.
      void waiter.job.discard();
      waiter.reject(new Error(`dead-lettered: ${result.outcome.error}`));
      return;
    case 'retry':
      waiter.reject(new Error(result.outcome.error ?? 'sync failed'));
  }
}
