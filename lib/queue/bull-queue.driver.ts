import type { DynamicModule } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { ETLIFY_QUEUE } from '../etlify.constants';
import { exportOf, loadDriverPackage } from './queue-driver.util';

/** Holds the Bull queue of EtlifyModule; the app's `BullModule.forRoot` (from @nestjs/bull) configures Redis. */
@Module({})
export class EtlifyBullQueueModule {}

/**
 * The 'bull' driver: the queue @nestjs/bull registers is ETLIFY_QUEUE as it is, since the queue
 * layer speaks Bull's API. @nestjs/bull is loaded only here, when the driver is configured.
 */
export async function bullQueueModule(name: string): Promise<DynamicModule> {
  const nestBull = await loadDriverPackage('bull', '@nestjs/bull');
  await loadDriverPackage('bull', 'bull');
  const BullModule = exportOf<{
    registerQueue(options: { name: string }): DynamicModule;
  }>(nestBull, 'BullModule');
  const getQueueToken = exportOf<(name: string) => string>(
    nestBull,
    'getQueueToken',
  );
  return {
    module: EtlifyBullQueueModule,
    imports: [BullModule.registerQueue({ name })],
    providers: [{ provide: ETLIFY_QUEUE, useExisting: getQueueToken(name) }],
    exports: [ETLIFY_QUEUE],
  };
}
