import { BullModule, getQueueToken } from '@nestjs/bull';
import { ETLIFY_QUEUE, ETLIFY_SYNC_PRODUCER } from '../etlify.constants';
import type { ModulePartsBuilder } from '../module-parts.interface';
import { QueueOptionsCheck } from './queue-options-check.service';
import { SyncBatchService } from './sync-batch.service';
import { BullSyncJobProducer } from './sync-job.producer';
import { SyncJobProcessor } from './sync-job.processor';

/**
 * With `queue: { name }`: the Bull queue (Bull itself comes from the app's `BullModule.forRoot`),
 * the producer SyncService and the capture use, and the processors.
 */
export const queueModuleParts: ModulePartsBuilder = (extras) => {
  const queue = extras.queue;
  // A malformed option is reported by the options validation at init.
  if (!queue || typeof queue !== 'object' || typeof queue.name !== 'string')
    return { providers: [QueueOptionsCheck] };
  return {
    imports: [BullModule.registerQueue({ name: queue.name })],
    providers: [
      { provide: ETLIFY_QUEUE, useExisting: getQueueToken(queue.name) },
      BullSyncJobProducer,
      { provide: ETLIFY_SYNC_PRODUCER, useExisting: BullSyncJobProducer },
      SyncBatchService,
      SyncJobProcessor,
    ],
  };
};
