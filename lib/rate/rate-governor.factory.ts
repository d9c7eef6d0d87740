import { Inject, Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ETLIFY_MODULE_EXTRAS, ETLIFY_QUEUE } from '../etlify.constants';
import type { EtlifyModuleExtras } from '../etlify.module-definition';
import type { RateGovernor } from '../interfaces/rate-governor.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import { InProcessRateGovernor } from './in-process-rate.governor';
import { DEFAULT_RATE_KEY_PREFIX } from './rate.constants';
import type { RateRedisClient } from './rate-governor-options.interface';
import { RedisRateGovernor } from './redis-rate.governor';

/**
 * Builds each CRM's governor from its `rateLimit` option at boot. With a queue configured the
 * budget lives in the Redis of that Bull queue (every process of the app shares it, keys under
 * `etlify:rate:<queue>:{<crm>}`); without a queue it is per process.
 */
@Injectable()
export class RateGovernorFactory {
  private readonly logger = new Logger(RateGovernorFactory.name);

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(ETLIFY_MODULE_EXTRAS) private readonly extras: EtlifyModuleExtras,
  ) {}

  create(crm: RegisteredCrm): RateGovernor | undefined {
    if (!crm.rateLimit) return undefined;
    const queue = this.extras.queue;
    if (!queue) return new InProcessRateGovernor(crm.rateLimit);
    const redis = this.queueRedis();
    if (!redis) {
      this.logger.warn(
        `CRM "${crm.name}": Bull queue "${queue.name}" not found, so its rate limit is kept per process; register the queue to share it`,
      );
      return new InProcessRateGovernor(crm.rateLimit);
    }
    return new RedisRateGovernor(redis, {
      ...crm.rateLimit,
      name: crm.name,
      keyPrefix: `${DEFAULT_RATE_KEY_PREFIX}:${queue.name}`,
    });
  }

  /** The queue's own ioredis client: non-blocking scripts only, so sharing it is safe. */
  private queueRedis(): RateRedisClient | undefined {
    try {
      const queue = this.moduleRef.get<{ client?: RateRedisClient }>(
        ETLIFY_QUEUE,
        { strict: false },
      );
      return queue?.client;
    } catch {
      return undefined;
    }
  }
}
