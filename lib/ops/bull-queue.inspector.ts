import { Inject, Injectable } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import {
  DELETE_JOB_NAME,
  ETLIFY_QUEUE,
  SYNC_JOB_NAME,
} from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { jobIds, withTimeout } from '../queue/queue.util';
import type {
  QueueBacklog,
  QueueJobView,
  SyncQueueInspector,
} from './queue-inspector.interface';

/** The sync queue as Bull keeps it: deterministic job ids per record, counts per list. */
@Injectable()
export class BullQueueInspector implements SyncQueueInspector {
  constructor(@Inject(ETLIFY_QUEUE) private readonly queue: Queue) {}

  get name(): string {
    return this.queue.name;
  }

  async jobsOf(
    config: EntitySyncConfig,
    resourceId: string,
  ): Promise<QueueJobView[]> {
    const ids = [
      ...jobIds(SYNC_JOB_NAME, config, resourceId),
      ...jobIds(DELETE_JOB_NAME, config, resourceId),
    ];
    const views: QueueJobView[] = [];
    for (const id of ids) {
      const job = await this.queue.getJob(id);
      if (job) views.push(await view(job));
    }
    return views;
  }

  async backlog(): Promise<QueueBacklog> {
    const counts = await this.queue.getJobCounts();
    const client = this.queue.client;
    // Bull pushes new jobs at the head of `wait` and `active`: the oldest sits at the tail.
    const candidates = [
      await client.lindex(this.queue.toKey('wait'), -1),
      await client.lindex(this.queue.toKey('active'), -1),
      ...(await client.zrange(this.queue.toKey('delayed'), 0, 0)),
    ].filter((id): id is string => !!id);
    let oldest: number | null = null;
    for (const id of candidates) {
      const stamp = Number(
        await client.hget(this.queue.toKey(id), 'timestamp'),
      );
      if (stamp > 0 && (oldest === null || stamp < oldest)) oldest = stamp;
    }
    return {
      waiting: counts.waiting ?? 0,
      delayed: counts.delayed ?? 0,
      active: counts.active ?? 0,
      failed: counts.failed ?? 0,
      oldestJobAt: oldest === null ? null : new Date(oldest),
    };
  }

  async ping(timeoutMs: number): Promise<boolean> {
    try {
      await withTimeout(this.queue.client.ping(), timeoutMs, 'Redis ping');
      return true;
    } catch {
      return false;
    }
  }
}

async function view(job: Job): Promise<QueueJobView> {
  const state = await job.getState();
  const delay = Number(job.opts?.delay ?? 0);
  return {
    id: String(job.id),
    name: job.name,
    state,
    enqueuedAt: new Date(job.timestamp),
    attemptsMade: job.attemptsMade,
    ...(state === 'delayed' && delay > 0
      ? { runAt: new Date(job.timestamp + delay) }
      : {}),
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
  };
}
