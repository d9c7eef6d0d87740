import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import type { Job, Queue } from 'bull';
import {
  DELETE_JOB_NAME,
  ETLIFY_QUEUE,
  SYNC_JOB_NAME,
} from '../etlify.constants';
import type { DeleteOutcome } from '../interfaces/sync-outcome.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import { DeleteBatchService } from './delete-batch.service';
import { SyncBatchService } from './sync-batch.service';
import type { SyncJobData } from './sync-job.interface';
import { closeQueue } from './queue.util';
import { crmTypeKey } from '../util/crm-key.util';

/**
 * Attaches the 'sync' and 'delete' handlers to the queue at bootstrap (unless `queue.processors`
 * is false) and closes the queue on shutdown, after the batches waiting in this process are synced
 * (before TypeORM's DataSource is destroyed, which happens at onApplicationShutdown).
 */
@Injectable()
export class SyncJobProcessor
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(SyncJobProcessor.name);
  private configs?: Map<string, EntitySyncConfig>;
  private started = false;

  constructor(
    @Inject(ETLIFY_QUEUE) private readonly queue: Queue,
    private readonly registry: CrmRegistry,
    private readonly batches: SyncBatchService,
    private readonly deleteBatches: DeleteBatchService,
  ) {}

  onApplicationBootstrap(): void {
    const options = this.registry.options.queue;
    if (!options || !options.processors) return;
    this.started = true;
    // A batch fills only if its jobs are all active at once: batchSize handlers per batch in flight.
    const syncHandlers = options.concurrency * options.batchSize;
    const log = (error: unknown) =>
      this.logger.error(
        `queue "${this.queue.name}" processor stopped: ${errorMessage(error)}`,
      );
    guardWorkerName(this.queue);
    // process() settles only when the queue closes, so it is not awaited.
    this.queue
      .process(SYNC_JOB_NAME, syncHandlers, (job: Job<SyncJobData>) =>
        this.handleSync(job),
      )
      .catch(log);
    // Deletes are batched the same way (one batchDelete per 100 records).
    this.queue
      .process(DELETE_JOB_NAME, syncHandlers, (job: Job<SyncJobData>) =>
        this.handleDelete(job),
      )
      .catch(log);
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.started)
      await Promise.all([this.batches.drain(), this.deleteBatches.drain()]);
    await closeQueue(this.queue, this.registry.options.queue);
  }

  private async handleSync(job: Job<SyncJobData>): Promise<SyncOutcome> {
    return this.batches.handle(job, this.configOf(job));
  }

  private async handleDelete(job: Job<SyncJobData>): Promise<DeleteOutcome> {
    return this.deleteBatches.handle(job, this.configOf(job));
  }

  /** The entity configuration a job names; a job for an entity no longer etlified is dropped. */
  private configOf(job: Job<SyncJobData>): EntitySyncConfig {
    this.configs ??= new Map(
      this.registry
        .getEntityConfigs()
        .map((config) => [crmTypeKey(config.crm, config.resourceType), config]),
    );
    const { crm, resourceType } = job.data ?? {};
    const config = this.configs.get(
      crmTypeKey(String(crm), String(resourceType)),
    );
    if (!config) {
      void job.discard();
      throw new Error(
        `job ${job.id}: ${resourceType} is not mirrored into CRM "${crm}" in this app; dropped`,
      );
    }
    return config;
  }
}

/**
 * Bull's process() names the worker's blocking connection (CLIENT SETNAME) and drops that
 * promise: when Redis goes away before the answer, shutdown ends in an unhandled
 * `Connection is closed.` rejection. Naming is cosmetic, so its failure is swallowed here.
 */
function guardWorkerName(queue: Queue): void {
  const named = queue as Queue & { setWorkerName?: () => Promise<unknown> };
  const setWorkerName = named.setWorkerName;
  if (typeof setWorkerName !== 'function') return;
  named.setWorkerName = () => setWorkerName.call(queue).catch(() => undefined);
}
