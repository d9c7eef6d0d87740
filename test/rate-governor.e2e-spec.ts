import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BullModule, queueOption } from './support/queue-driver';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import Redis from 'ioredis';
import {
  CrmRateLimitError,
  CrmRegistry,
  CrmSynchronisation,
  EtlifyModule,
  HubspotAdapter,
  InProcessRateGovernor,
  RedisRateGovernor,
  type RateGovernor,
  type RateGovernorOptions,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase } from './support/databases';
import type {
  GovernorWorkerConfig,
  GovernorWorkerReport,
} from './support/governor-worker';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'governor-test-token';

/** True when `promise` has not settled within a short grace period. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  const winner = await Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((resolve) => setTimeout(() => resolve(marker), 80)),
  ]);
  return winner === marker;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const redisClients: Redis[] = [];
const prefixes: string[] = [];

function redis(): Redis {
  const client = new Redis(REDIS_URL);
  redisClients.push(client);
  return client;
}

function keyPrefix(): string {
  const prefix = `etlify-test:${randomUUID()}`;
  prefixes.push(prefix);
  return prefix;
}

afterAll(async () => {
  const client = redis();
  for (const prefix of prefixes) {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length) await client.del(...keys);
  }
  await Promise.all(redisClients.map((c) => c.quit()));
});

type Make = (options: RateGovernorOptions) => RateGovernor;

const implementations: Array<[string, () => Make]> = [
  ['InProcessRateGovernor', () => (o) => new InProcessRateGovernor(o)],
  [
    'RedisRateGovernor',
    () => {
      const client = redis();
      const prefix = keyPrefix();
      return (o) =>
        new RedisRateGovernor(client, {
          ...o,
          name: 'hubspot',
          keyPrefix: prefix,
        });
    },
  ],
];

describe.each(implementations)('%s', (_name, factory) => {
  it('grants maxRequests per window, then makes the next caller wait', async () => {
    const make = factory();
    const governor = make({
      maxRequests: 3,
      intervalMs: 1_500,
      safetyMarginMs: 0,
    });
    for (let i = 0; i < 3; i++) await governor.acquire();
    const fourth = governor.acquire();
    expect(await pending(fourth)).toBe(true);
    await fourth;
    expect((await governor.snapshot!()).callsMade).toBe(4);
  });

  it('keeps search apart from the 10-second window', async () => {
    const make = factory();
    const governor = make({
      maxRequests: 1,
      intervalMs: 1_500,
      searchPerSecond: 2,
    });
    await governor.acquire('standard');
    const standard = governor.acquire('standard');
    await governor.acquire('search');
    await governor.acquire('search');
    expect(await pending(standard)).toBe(true);
    const thirdSearch = governor.acquire('search');
    expect(await pending(thirdSearch)).toBe(true);
    await Promise.all([standard, thirdSearch]);
  });

  it('rejects with a non-retryable CrmRateLimitError once the daily quota is spent', async () => {
    const make = factory();
    const governor = make({
      maxRequests: 100,
      intervalMs: 10_000,
      dailyLimit: 2,
    });
    await governor.acquire();
    await governor.acquire();
    const error = await rejection(governor.acquire());
    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect((error as CrmRateLimitError).retryable).toBe(false);
    expect((error as CrmRateLimitError).policy).toBe('DAILY');
    expect((error as CrmRateLimitError).retryAfterMs).toBeGreaterThan(0);
  });

  it('follows what HubSpot reports: remaining calls, a 429 wait and a DAILY stop', async () => {
    const make = factory();
    const governor = make({
      maxRequests: 10,
      intervalMs: 1_500,
      safetyMarginMs: 0,
    });
    await governor.acquire();
    // HubSpot counts 8 calls in its window (another client shares the token): 2 remain.
    await governor.observe({ bucket: 'standard', max: 10, remaining: 2 });
    await governor.acquire();
    await governor.acquire();
    const blocked = governor.acquire();
    expect(await pending(blocked)).toBe(true);
    await blocked;

    const other = make({ maxRequests: 10, intervalMs: 10_000 });
    await other.observe({
      bucket: 'search',
      retryAfterMs: 600,
      policy: 'SECONDLY',
    });
    const search = other.acquire('search');
    expect(await pending(search)).toBe(true);
    await search;
    await other.observe({
      bucket: 'standard',
      policy: 'DAILY',
      retryAfterMs: 60_000,
    });
    const daily = await rejection(other.acquire());
    expect((daily as CrmRateLimitError).retryAfterMs).toBeGreaterThan(50_000);
  });
});

describe('RedisRateGovernor', () => {
  it('is one budget for every governor on the same Redis keys', async () => {
    const prefix = keyPrefix();
    const options = {
      name: 'hubspot',
      keyPrefix: prefix,
      maxRequests: 5,
      intervalMs: 1_500,
    };
    const a = new RedisRateGovernor(redis(), options);
    const b = new RedisRateGovernor(redis(), options);
    for (let i = 0; i < 3; i++) await a.acquire();
    await b.acquire();
    await b.acquire();
    const sixth = b.acquire();
    expect(await pending(sixth)).toBe(true);
    await sixth;
    expect((await a.snapshot()).callsMade).toBe(6);
  });
});

describe('HubspotAdapter with a governor', () => {
  it('feeds X-HubSpot-RateLimit headers to the governor: no 429 when another client used the token', async () => {
    const sandbox = new HubspotSandbox({
      accessToken: TOKEN,
      tenSecondLimit: 20,
      searchLagMs: 0,
    });
    const { baseUrl } = await sandbox.start();
    try {
      // Another client spends 15 of the 20 calls.
      for (let i = 0; i < 15; i++) {
        await fetch(`${baseUrl}/crm/v3/objects/contacts/${i + 1}`, {
          headers: { Authorization: `Bearer ${TOKEN}` },
        });
      }
      const adapter = new HubspotAdapter({
        accessToken: TOKEN,
        baseUrl,
        logger: { log() {}, warn() {}, error() {} },
      });
      adapter.attach({
        crmName: 'hubspot',
        rateGovernor: new InProcessRateGovernor({
          maxRequests: 20,
          intervalMs: 10_000,
        }),
      });
      for (let i = 0; i < 7; i++) {
        await adapter.upsert({
          objectType: 'contacts',
          payload: { email: `h${i}@example.com` },
          idProperty: 'email',
        });
      }
      adapter.close();
      expect(sandbox.rejected429()).toBe(0);
      expect(sandbox.records('contacts')).toHaveLength(7);
    } finally {
      await sandbox.stop();
    }
  }, 30_000);
});

describe('EtlifyModule builds each CRM governor from rateLimit', () => {
  async function boot(queue: { name: string } | false) {
    const db = await createTestDatabase('sqlite');
    const adapter = new HubspotAdapter({
      accessToken: TOKEN,
      baseUrl: 'http://127.0.0.1:9',
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          ...db.options,
          entities: [CrmSynchronisation],
          synchronize: true,
        } as any),
        // EtlifyModule registers the queue itself; the app provides Bull's connection.
        ...(queue ? [BullModule.forRoot({ redis: REDIS_URL })] : []),
        EtlifyModule.forRoot({
          crms: [
            {
              name: 'hubspot',
              adapter,
              rateLimit: { maxRequests: 190, intervalMs: 10_000 },
            },
          ],
          queue: queue && queueOption(queue),
          capture: false,
          staleSweep: false,
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  it('in process without a queue', async () => {
    const app = await boot(false);
    try {
      const crm = app.get(CrmRegistry).getCrm('hubspot');
      expect(crm.rateGovernor).toBeInstanceOf(InProcessRateGovernor);
    } finally {
      await app.close();
    }
  });

  it('in the Bull queue Redis when a queue is configured', async () => {
    const name = `etlify-gov-${randomUUID().slice(0, 8)}`;
    const app = await boot({ name });
    try {
      const governor = app.get(CrmRegistry).getCrm('hubspot').rateGovernor;
      expect(governor).toBeInstanceOf(RedisRateGovernor);
      await governor!.acquire();
      const keys = await redis().keys(`etlify:rate:${name}:{hubspot}:*`);
      prefixes.push(`etlify:rate:${name}`);
      prefixes.push(`bull:${name}`);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await app.close();
    }
  });
});

describe('four OS processes sharing the Redis governor', () => {
  const workerPath = join(__dirname, 'support', 'governor-worker.ts');

  async function runWorkers(
    governor: GovernorWorkerConfig['governor'],
    durationMs: number,
  ): Promise<{ sandbox: HubspotSandbox; reports: GovernorWorkerReport[] }> {
    const sandbox = new HubspotSandbox({
      accessToken: TOKEN,
      tenSecondLimit: 190,
      latencyMs: 20,
      searchLagMs: 0,
    });
    const { baseUrl } = await sandbox.start();
    const prefix = keyPrefix();
    const children: ChildProcess[] = [];
    try {
      for (let worker = 0; worker < 4; worker++) {
        children.push(
          fork(workerPath, [], {
            execArgv: ['-r', 'ts-node/register/transpile-only'],
            stdio: 'inherit',
          }),
        );
      }
      await Promise.all(
        children.map((child, worker) => {
          const ready = new Promise<void>((resolve, reject) => {
            child.once('error', reject);
            child.on(
              'message',
              (m: { type: string }) => m.type === 'ready' && resolve(),
            );
          });
          child.send({
            type: 'config',
            config: {
              baseUrl,
              accessToken: TOKEN,
              governor,
              redisUrl: REDIS_URL,
              keyPrefix: prefix,
              maxRequests: 190,
              intervalMs: 10_000,
              concurrency: 4,
              worker,
            } satisfies GovernorWorkerConfig,
          });
          return ready;
        }),
      );
      const until = Date.now() + durationMs;
      const reports = await Promise.all(
        children.map(
          (child) =>
            new Promise<GovernorWorkerReport>((resolve, reject) => {
              child.on(
                'message',
                (m: { type: string; report: GovernorWorkerReport }) =>
                  m.type === 'report' && resolve(m.report),
              );
              child.once(
                'exit',
                (code) =>
                  code !== 0 && reject(new Error(`worker exited with ${code}`)),
              );
              child.send({ type: 'go', until });
            }),
        ),
      );
      return { sandbox, reports };
    } finally {
      await Promise.all(
        children.map((child) =>
          child.exitCode === null
            ? new Promise((resolve) => child.once('exit', resolve))
            : undefined,
        ),
      );
      await sandbox.stop();
    }
  }

  it('at 190 per 10 s make 0 calls the sandbox rejects with 429', async () => {
    const { sandbox, reports } = await runWorkers('redis', 18_000);
    const synced = reports.reduce((n, r) => n + r.synced, 0);
    expect(sandbox.rejected429()).toBe(0);
    expect(reports.every((r) => r.synced > 0 && r.failed === 0)).toBe(true);
    // The run spans two windows: every process pushed against the shared limit.
    expect(synced).toBeGreaterThanOrEqual(380);
    expect(sandbox.records('contacts')).toHaveLength(synced);
  }, 60_000);

  it('control: a budget per process overruns the account limit', async () => {
    // Long enough that even a loaded machine's four processes together pass 190 calls.
    const { sandbox } = await runWorkers('process', 4_000);
    expect(sandbox.rejected429()).toBeGreaterThan(0);
  }, 60_000);
});
