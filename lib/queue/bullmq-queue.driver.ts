import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ETLIFY_QUEUE } from '../etlify.constants';
import {
  BullMqLibrary,
  BullMqQueueAdapter,
  BullMqWorkerSettings,
} from './bullmq-queue.adapter';
import { exportOf, loadDriverPackage } from './queue-driver.util';

/** Holds the BullMQ queue of EtlifyModule; the app's `BullModule.forRoot` (from @nestjs/bullmq) configures Redis. */
@Module({})
export class EtlifyBullMqQueueModule {}

/**
 * The 'bullmq' driver: the queue @nestjs/bullmq registers, adapted to the queue layer's Bull-shaped
 * API. @nestjs/bullmq and bullmq are loaded only here, when the driver is configured.
 */
export async function bullmqQueueModule(
  name: string,
  settings: BullMqWorkerSettings = {},
): Promise<DynamicModule> {
  const nestBullMq = await loadDriverPackage('bullmq', '@nestjs/bullmq');
  const bullmq = await loadDriverPackage('bullmq', 'bullmq');
  const BullModule = exportOf<{
    registerQueue(options: { name: string }): DynamicModule;
  }>(nestBullMq, 'BullModule');
  const getQueueToken = exportOf<(name: string) => string>(
    nestBullMq,
    'getQueueToken',
  );
  const library: BullMqLibrary = {
    Worker: exportOf(bullmq, 'Worker'),
    UnrecoverableError: exportOf(bullmq, 'UnrecoverableError'),
  };
  return {
    module: EtlifyBullMqQueueModule,
    imports: [BullModule.registerQueue({ name })],
    providers: [
      {
        provide: ETLIFY_QUEUE,
        useFactory: (queue: Queue) =>
          new BullMqQueueAdapter(queue, library, settings),
        inject: [getQueueToken(name)],
      },
    ],
    exports: [ETLIFY_QUEUE],
  };
}
