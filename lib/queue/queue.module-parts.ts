import { ETLIFY_SYNC_PRODUCER } from '../etlify.constants';
import type { ModulePartsBuilder } from '../module-parts.interface';
import { bullQueueModule } from './bull-queue.driver';
import { bullmqQueueModule } from './bullmq-queue.driver';
import { queueDriverOf } from './queue-driver.util';
import { QueueOptionsCheck } from './queue-options-check.service';
import { DeleteBatchService } from './delete-batch.service';
import { SyncBatchService } from './sync-batch.service';
import { BullSyncJobProducer } from './sync-job.producer';
import { SyncJobProcessor } from './sync-job.processor';

/**
 * With `queue: { name, driver }`: the queue of the chosen driver as ETLIFY_QUEUE (its Redis comes
 * from the app's `BullModule.forRoot`), the producer SyncService and the capture use, and the
 * processors. The driver's packages are imported only now, asynchronously (Nest awaits a module
 * promise among the imports), so the driver not chosen need not be installed.
 */
export const queueModuleParts: ModulePartsBuilder = (extras) => {
  const queue = extras.queue;
  // A malformed option is reported by the options validation at init.
  if (!queue || typeof queue !== 'object' || typeof queue.name !== 'string')
    return { providers: [QueueOptionsCheck] };
  const driver = queueDriverOf(queue);
  return {
    imports: [
      driver === 'bullmq'
        ? bullmqQueueModule(queue.name, queue.worker)
        : bullQueueModule(queue.name),
    ],
    providers: [
      BullSyncJobProducer,
      { provide: ETLIFY_SYNC_PRODUCER, useExisting: BullSyncJobProducer },
      SyncBatchService,
      DeleteBatchService,
      SyncJobProcessor,
    ],
  };
};
