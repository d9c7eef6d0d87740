import { Injectable, OnModuleInit } from '@nestjs/common';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import { CrmRegistry } from '../registry/crm.registry';

/**
 * Present when the module was built without a queue. A `queue` returned by a `forRootAsync` factory
 * comes too late to register the Bull queue, and would otherwise silently mean "inline": fail at boot.
 */
@Injectable()
export class QueueOptionsCheck implements OnModuleInit {
  constructor(private readonly registry: CrmRegistry) {}

  onModuleInit(): void {
    const queue = this.registry.options.queue;
    if (queue) {
      throw new EtlifyConfigurationError(
        `EtlifyModule option "queue" ({ name: "${queue.name}" }) came from the forRootAsync factory, after the module was built; ` +
          `pass it at the top level instead: EtlifyModule.forRootAsync({ queue: { name: "${queue.name}" }, useFactory: ... })`,
      );
    }
  }
}
