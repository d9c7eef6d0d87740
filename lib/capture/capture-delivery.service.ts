import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  CAPTURE_ENQUEUE_GRACE_MS,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  ETLIFY_SYNC_PRODUCER,
} from '../etlify.constants';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import { withTimeout } from '../queue/queue.util';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import { SyncDeleteService } from '../sync/sync-delete.service';
import { SyncEngine } from '../sync/sync-engine.service';
import type { CapturePlan } from './capture-plan.util';

/**
 * Hands one entity's captured changes over: to the queue when there is one, else synced and
 * deleted inline (both in bulk). It never throws: what fails is logged, and the records' state rows
 * (or the stale sweeper) carry the retry.
 */
@Injectable()
export class CaptureDelivery {
  private readonly logger = new Logger(CaptureDelivery.name);

  constructor(
    private readonly registry: CrmRegistry,
    private readonly engine: SyncEngine,
    private readonly deletes: SyncDeleteService,
    @Optional()
    @Inject(ETLIFY_SYNC_PRODUCER)
    private readonly producer?: SyncJobProducer,
  ) {}

  async deliver(plan: CapturePlan): Promise<void> {
    try {
      if (this.producer) await this.enqueue(this.producer, plan);
      else await this.inline(plan);
    } catch (error) {
      this.logger.error(
        `capture: ${plan.config.resourceType} → ${plan.config.crm} (${plan.upserts.length + plan.deletes.length} record(s)): ${errorMessage(error)}; the stale sweeper will catch up`,
      );
    }
  }

  private async enqueue(
    producer: SyncJobProducer,
    plan: CapturePlan,
  ): Promise<void> {
    const queue = this.registry.options.queue;
    const ms =
      (queue ? queue.enqueueTimeoutMs : DEFAULT_ENQUEUE_TIMEOUT_MS) +
      CAPTURE_ENQUEUE_GRACE_MS;
    if (plan.upserts.length)
      await withTimeout(
        producer.enqueueMany(plan.config, plan.upserts),
        ms,
        'enqueue syncs',
      );
    if (plan.deletes.length)
      await withTimeout(
        producer.enqueueDeletes(plan.config, plan.deletes),
        ms,
        'enqueue deletes',
      );
  }

  private async inline(plan: CapturePlan): Promise<void> {
    const { config } = plan;
    if (plan.upserts.length) {
      // Reloaded after the commit: the payload is computed from committed data only.
      const entities = await this.engine.loadMany(config, plan.upserts);
      if (entities.length) await this.engine.syncMany(config, entities);
    }
    if (!plan.deletes.length) return;
    // One batch for the commit's deletes; a failure stays on its tombstone for the sweeper's retry.
    const results = await this.deletes.deleteMany(config, plan.deletes, {
      wait: true,
    });
    for (const [id, result] of results)
      if (result.kind !== 'done')
        this.logger.error(
          `capture: delete ${config.resourceType}#${id} → ${config.crm}: ${errorMessage(result.error)}`,
        );
  }
}
