import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';
import {
  DELETE_JOB_NAME,
  ETLIFY_QUEUE,
  FOLLOW_UP_DELAY_MS,
  JOB_LOADING_FIELD,
  SYNC_JOB_NAME,
} from '../etlify.constants';
import type { ResolvedEtlifyOptions } from '../etlify-options.util';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import type { SyncJobData } from './sync-job.interface';
import { redisJobId } from './bullmq-queue.adapter';
import { jobIds, withTimeout } from './queue.util';

type QueueOptions = Exclude<ResolvedEtlifyOptions['queue'], false>;

/** Where a job id stands, read from the job hash and the delayed set. */
type SlotState = 'free' | 'pending' | 'busy';

/** A repeated queue error is logged at most this often. */
const ERROR_LOG_INTERVAL_MS = 60_000;

/** Ids checked per Redis round trip. */
const PIPELINE_CHUNK = 500;

/**
 * Enqueues sync and delete jobs on the Bull queue, one pending job per record.
 *
 * Bull ignores `add()` for a job id that still exists. A job that has not loaded the record yet
 * (waiting, delayed, or held in a filling batch) will read this change, so the change collapses
 * into it; one that has loaded may hold older data, so the change gets a follow-up id instead
 * (see JOB_ID_SLOTS), delayed by FOLLOW_UP_DELAY_MS so a record changing in a burst is written about
 * once a second. Jobs are removed when they finish, which frees their id.
 */
@Injectable()
export class BullSyncJobProducer implements SyncJobProducer {
  private readonly logger = new Logger(BullSyncJobProducer.name);

  constructor(
    @Inject(ETLIFY_QUEUE) private readonly queue: Queue,
    private readonly registry: CrmRegistry,
  ) {
    // An EventEmitter without an 'error' listener would crash the process on a Redis outage;
    // ioredis repeats the same error on every reconnect, so each message is logged once a minute.
    const lastLogged = new Map<string, number>();
    queue.on('error', (error) => {
      const message = errorMessage(error);
      const now = Date.now();
      if (now - (lastLogged.get(message) ?? 0) < ERROR_LOG_INTERVAL_MS) return;
      lastLogged.set(message, now);
      this.logger.error(`queue "${queue.name}": ${message}`);
    });
  }

  async enqueueMany(
    config: EntitySyncConfig,
    resourceIds: string[],
    options: { delayMs?: number } = {},
  ): Promise<void> {
    await this.enqueue(SYNC_JOB_NAME, config, resourceIds, options.delayMs);
  }

  async enqueueDeletes(
    config: EntitySyncConfig,
    resourceIds: string[],
  ): Promise<void> {
    await this.enqueue(DELETE_JOB_NAME, config, resourceIds);
  }

  private get options(): QueueOptions {
    const queue = this.registry.options.queue;
    if (!queue)
      throw new Error('BullSyncJobProducer used without a queue option');
    return queue;
  }

  private async enqueue(
    jobName: string,
    config: EntitySyncConfig,
    resourceIds: Array<string | number>,
    delayMs?: number,
  ): Promise<void> {
    const ids = [...new Set(resourceIds.map(String))];
    if (!ids.length) return;
    const { enqueueTimeoutMs } = this.options;
    await withTimeout(
      this.add(jobName, config, ids, delayMs),
      enqueueTimeoutMs,
      `enqueue on queue "${this.queue.name}"`,
    );
  }

  private async add(
    jobName: string,
    config: EntitySyncConfig,
    ids: string[],
    delayMs?: number,
  ): Promise<void> {
    await this.queue.isReady();
    const options = this.options;
    const base: JobOptions = {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    };
    for (let i = 0; i < ids.length; i += PIPELINE_CHUNK) {
      const chunk = ids.slice(i, i + PIPELINE_CHUNK);
      const slots = chunk.map((id) => jobIds(jobName, config, id));
      const states = await this.slotStates(slots.flat());
      const jobs: Array<{ name: string; data: SyncJobData; opts: JobOptions }> =
        [];
      chunk.forEach((resourceId, index) => {
        const candidates = slots[index];
        if (candidates.some((id) => states.get(id) === 'pending')) return;
        // Every slot running (a rare pile-up): a unique id still never loses the change.
        const jobId =
          candidates.find((id) => states.get(id) === 'free') ??
          `${candidates[0]}:${Date.now()}:${Math.random().toString(36).slice(2)}`;
        const followUp = candidates.some((id) => states.get(id) === 'busy');
        const delay = Math.max(delayMs ?? 0, followUp ? FOLLOW_UP_DELAY_MS : 0);
        jobs.push({
          name: jobName,
          data: {
            crm: config.crm,
            resourceType: config.resourceType,
            resourceId,
          },
          opts: { ...base, jobId, ...(delay > 0 ? { delay } : {}) },
        });
      });
      if (jobs.length) await this.queue.addBulk(jobs);
    }
  }

  /**
   * One pipelined read. A job is pending while waiting, delayed, or active but not yet reading the
   * record (JOB_LOADING_FIELD unset): its worker reads after this change was committed.
   */
  private async slotStates(ids: string[]): Promise<Map<string, SlotState>> {
    const pipeline = this.queue.client.pipeline();
    const delayedKey = this.queue.toKey('delayed');
    for (const id of ids) {
      pipeline.hmget(
        this.queue.toKey(id),
        'timestamp',
        'finishedOn',
        JOB_LOADING_FIELD,
      );
      pipeline.zscore(delayedKey, redisJobId(this.queue, id));
    }
    const replies = (await pipeline.exec()) ?? [];
    const states = new Map<string, SlotState>();
    ids.forEach((id, index) => {
      const [hashError, hash] = replies[index * 2] ?? [];
      const [delayedError, delayed] = replies[index * 2 + 1] ?? [];
      if (hashError) throw hashError;
      if (delayedError) throw delayedError;
      const [timestamp, finishedOn, loading] = (hash ?? []) as Array<
        string | null
      >;
      if (!timestamp) states.set(id, 'free');
      else if (finishedOn) states.set(id, 'busy');
      else if (!loading || delayed !== null) states.set(id, 'pending');
      else states.set(id, 'busy');
    });
    return states;
  }
}
