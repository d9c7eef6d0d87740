import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { OwnRedis } from './support/own-redis';
import { queueAppModule } from './support/queue-worker';

/**
 * Redis stopped under a running worker, then the app closed: shutdown must end cleanly, with no
 * unhandled `Connection is closed.` rejection (exit code 1 under plain Node). The moment Redis
 * goes away decides which Bull call is cut off, so the test walks through several moments.
 */
describe('Redis stopped, then app.close()', () => {
  let redis: OwnRedis;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    redis = await OwnRedis.create();
    process.on('unhandledRejection', onRejection);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await redis?.stop('SIGKILL');
  });

  async function boot(): Promise<INestApplication> {
    const name = `etlify_${randomBytes(4).toString('hex')}`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        queueAppModule({
          db: { type: 'better-sqlite3', database: ':memory:' },
          synchronize: true,
          adapter: new InMemoryCrmAdapter(),
          queue: { name, enqueueTimeoutMs: 300 },
          prefix: `etlify-test-${name}`,
          // ioredis otherwise keeps a closed socket's 2 s disconnect timer alive past the suite.
          redis: { ...redis.options, disconnectTimeout: 10 },
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  it.each([0, 5, 10, 15, 20, 30, 50, 100, 200])(
    'closes cleanly when Redis is told to stop, then close() comes %i ms later',
    async (afterMs) => {
      await redis.start();
      const app = await boot();
      const stopped = redis.stop();
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      await app.close();
      await stopped;
      // Rejections of a closed connection surface a few ticks after close.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(rejections.map(String)).toEqual([]);
    },
  );
});
