import { INestApplication, Injectable, LoggerService } from '@nestjs/common';
import { BullModule, queueOption } from './support/queue-driver';
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  CrmSynchronisation,
  EtlifyConfigurationError,
  EtlifyModuleOptions,
  StaleSweeper,
  SyncService,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { DIALECTS, TestDatabase } from './support/databases';
import { buildStaleApp, clearStaleTables } from './support/stale-app';
import { createSharedTestDatabase } from './support/stale-db';
import { Ledger } from './support/stale-fixtures';
import { GatedCrmAdapter } from './support/stale-gate.adapter';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const YEARLY = '0 0 1 1 *';

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown) {
    this.lines.push(String(message));
  }
  error() {}
  warn() {}
  debug() {}
  verbose() {}
}

const options = (
  adapter: InMemoryCrmAdapter,
  extra: Partial<EtlifyModuleOptions> = {},
): EtlifyModuleOptions => ({
  crms: [{ name: 'hubspot', adapter }],
  capture: false,
  staleSweep: { cron: YEARLY, batchSize: 50 },
  ...extra,
});

async function seedLedgers(app: INestApplication, n: number) {
  const ds = app.get(DataSource);
  await clearStaleTables(ds);
  await ds.getRepository(Ledger).save(
    Array.from({ length: n }, (_, i) => ({
      email: `l${i}@example.com`,
      name: `l${i}`,
    })),
  );
}

/** Two apps on one database: while one sweeps, the other's sweep does not run. */
async function singleFlight(
  build: (adapter: InMemoryCrmAdapter) => Promise<INestApplication>,
  expectedLock: 'redis' | 'database',
) {
  const gated = new GatedCrmAdapter();
  const other = new GatedCrmAdapter();
  const a = await build(gated);
  const b = await build(other);
  await a.init();
  await b.init();
  try {
    await seedLedgers(a, 5);
    const sweeperA = a.get(StaleSweeper);
    const sweeperB = b.get(StaleSweeper);
    expect(sweeperA.lockKind).toBe(expectedLock);
    const first = sweeperA.runOnce({ async: false });
    await gated.entered; // A holds the lock and is inside its CRM call
    expect(await sweeperB.runOnce({ async: false })).toBeNull();
    expect(await sweeperA.runOnce({ async: false })).toBeNull(); // one sweep per process too
    gated.open();
    const stats = await first;
    expect(stats).toMatchObject({ total: 5, synced: 5 });
    expect(gated.upserted).toBe(5);
    expect(other.upserted).toBe(0);
    // The lock is free again: B runs, and has nothing to send (SQLite may list records inserted
    // in the second of their sync again, and the digest guard drops them).
    other.open();
    expect(await sweeperB.runOnce({ async: false })).toMatchObject({
      synced: 0,
      errors: 0,
    });
    expect(other.upserted).toBe(0);
    const states = await a
      .get(DataSource)
      .getRepository(CrmSynchronisation)
      .countBy({ resourceType: 'Ledger', state: 'synced' });
    expect(states).toBe(5);
  } finally {
    await a.close();
    await b.close();
  }
}

describe.each(DIALECTS)('stale sweeper on %s', (dialect) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createSharedTestDatabase(dialect);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('runs one sweep at a time across two app instances (database lease)', async () => {
    await singleFlight(
      (adapter) => buildStaleApp({ db, etlify: options(adapter) }),
      'database',
    );
  });

  it('registers its cron job in the app SchedulerRegistry, logs one line per run, stops on close', async () => {
    @Injectable()
    class UserJobs {
      @Cron(YEARLY, { name: 'user-job' })
      tick() {}
    }
    const logger = new CapturingLogger();
    const adapter = new InMemoryCrmAdapter();
    const app = await buildStaleApp({
      db,
      etlify: options(adapter),
      imports: [ScheduleModule.forRoot()],
      logger,
    });
    const moduleProviders = app.get(SchedulerRegistry);
    app.useLogger(logger);
    await app.init();
    try {
      void UserJobs;
      await seedLedgers(app, 3);
      const registry = app.get(SchedulerRegistry);
      expect(registry).toBe(moduleProviders);
      const job = registry.getCronJob('etlify-stale-sweep');
      expect(job.isActive).toBe(true);
      expect(job.cronTime.source).toBe(YEARLY);
      await job.fireOnTick();
      await app.get(StaleSweeper).whenIdle();
      expect(adapter.records('companies')).toHaveLength(3);
      expect(
        logger.lines.filter((line) => line.startsWith('stale sweep')),
      ).toEqual([
        expect.stringMatching(
          /^stale sweep \(full\): 3 found \(Ledger 3\): 3 synced, 0 not modified, 0 skipped, 0 errors, 1 CRM call in \d+ ms$/,
        ),
      ]);
      await app.close();
      expect(job.isActive).toBe(false);
      expect(registry.doesExist('cron', 'etlify-stale-sweep')).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('keeps the app @Cron jobs single when the app imports ScheduleModule too', async () => {
    if (dialect !== 'sqlite') return;
    @Injectable()
    class UserJobs {
      @Cron(YEARLY, { name: 'user-job' })
      tick() {}
    }
    const app = await buildStaleApp({
      db,
      etlify: options(new InMemoryCrmAdapter()),
      imports: [
        ScheduleModule.forRoot({ intervals: false }),
        {
          module: class UserJobsModule {},
          providers: [UserJobs],
        },
      ],
    });
    await app.init();
    try {
      const names = [...app.get(SchedulerRegistry).getCronJobs().keys()];
      expect(names.sort()).toEqual(['etlify-stale-sweep', 'user-job']);
    } finally {
      await app.close();
    }
  });

  it('runs without ScheduleModule in the app', async () => {
    const adapter = new InMemoryCrmAdapter();
    const app = await buildStaleApp({ db, etlify: options(adapter) });
    await app.init();
    try {
      await seedLedgers(app, 2);
      expect(await app.get(StaleSweeper).runOnce()).toMatchObject({
        total: 2,
        synced: 2,
      });
    } finally {
      await app.close();
    }
  });

  it('fails the boot on a bad cron', async () => {
    const app = await buildStaleApp({
      db,
      etlify: options(new InMemoryCrmAdapter(), {
        staleSweep: { cron: 'every now and then' },
      }),
    });
    const error = await app.init().then(
      () => null,
      (e: Error) => e,
    );
    await app.close().catch(() => undefined);
    // A failed init does not shut the DataSource down.
    const ds = app.get(DataSource);
    if (ds.isInitialized) await ds.destroy();
    expect(error).toBeInstanceOf(EtlifyConfigurationError);
    expect(error!.message).toMatch(
      /staleSweep\.cron "every now and then" is not a valid cron expression/,
    );
  });
});

describe('stale sweeper with a queue', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createSharedTestDatabase('postgres');
  });
  afterAll(async () => {
    await db.drop();
  });

  it('runs one sweep at a time across two app instances (Redis lock on the queue client)', async () => {
    const queue = `stale-${randomBytes(4).toString('hex')}`;
    await singleFlight(
      (adapter) =>
        buildStaleApp({
          db,
          imports: [BullModule.forRoot({ redis: REDIS_URL, prefix: queue })],
          etlify: options(adapter, { queue: queueOption({ name: queue }) }),
        }),
      'redis',
    );
  });

  it('enqueues stale records in bulk when a queue is configured', async () => {
    const queue = `stale-${randomBytes(4).toString('hex')}`;
    const adapter = new InMemoryCrmAdapter();
    const app = await buildStaleApp({
      db,
      imports: [BullModule.forRoot({ redis: REDIS_URL, prefix: queue })],
      etlify: options(adapter, { queue: queueOption({ name: queue }) }),
    });
    await app.init();
    try {
      await seedLedgers(app, 4);
      const stats = await app.get(SyncService).syncStale();
      expect(stats).toMatchObject({
        total: 4,
        enqueued: 4,
        synced: 0,
        perEntity: { Ledger: 4 },
      });
      const dry = await app.get(SyncService).syncStale({ dryRun: true });
      expect(dry.enqueued).toBe(0);
    } finally {
      await app.close();
    }
  });
});
