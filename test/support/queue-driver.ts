import type { DynamicModule } from '@nestjs/common';
import { BullModule as NestBullModule } from '@nestjs/bull';
import { BullModule as NestBullMqModule } from '@nestjs/bullmq';
import type { EtlifyQueueDriver } from 'nestjs-etlify';
import { encodeJobId } from '../../lib/queue/bullmq-queue.adapter';

/**
 * The queue tests run once per driver: `ETLIFY_QUEUE_DRIVER=bullmq` (as `npm test` does for the
 * queue files) switches the app's BullModule, the `queue.driver` option and the raw queue the
 * tests inspect from Bull to BullMQ.
 */
export const QUEUE_DRIVER: EtlifyQueueDriver =
  process.env.ETLIFY_QUEUE_DRIVER === 'bullmq' ? 'bullmq' : 'bull';

/** Bull's connection options, or a redis:// URL, as the tests write them. */
type RedisOption =
  string | { host: string; port: number; [key: string]: unknown };

/** BullMQ wants ioredis options: a URL becomes host, port and db. */
function connectionOf(redis: RedisOption): Record<string, unknown> {
  if (typeof redis !== 'string') return { ...redis };
  const url = new URL(redis);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
  };
}

/** The app's `BullModule.forRoot` of the driver under test. */
export const BullModule = {
  forRoot(
    options: {
      redis: RedisOption;
      prefix?: string;
      settings?: { lockDuration?: number; stalledInterval?: number };
    },
    driver: EtlifyQueueDriver = QUEUE_DRIVER,
  ): DynamicModule {
    if (driver === 'bull') return NestBullModule.forRoot(options);
    return NestBullMqModule.forRoot({
      connection: connectionOf(options.redis),
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
  },
};

/** Both packages name a queue's provider `BullQueue_<name>`. */
export { getQueueToken } from '@nestjs/bull';

/** The queue option for the driver under test; Bull's worker settings become BullMQ's. */
export function queueOption<T extends { name: string }>(
  queue: T,
  settings?: { lockDuration?: number; stalledInterval?: number },
  driver: EtlifyQueueDriver = QUEUE_DRIVER,
): T & { driver: EtlifyQueueDriver } {
  return {
    ...queue,
    driver,
    ...(driver === 'bullmq' && settings
      ? {
          worker: {
            lockDurationMs: settings.lockDuration,
            stalledIntervalMs: settings.stalledInterval,
          },
        }
      : {}),
  };
}

/** A record's job id as the raw queue shows it (BullMQ's ids cannot hold `:`). */
export const rawJobId = (id: string): string =>
  QUEUE_DRIVER === 'bullmq' ? encodeJobId(id) : id;

/** The raw queue the tests inspect: counts, jobs, obliterate. Both libraries have these. */
export interface RawQueue {
  getJobCounts(): Promise<Record<string, number>>;
  getJobs(types: string[]): Promise<Array<{ id?: string | number; data: any }>>;
  obliterate(options: { force: boolean }): Promise<void>;
}
