import { INestApplication, type LoggerService } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bull';
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource, In, Repository } from 'typeorm';
import {
  CrmRegistry,
  CrmSynchronisation,
  HubspotAdapter,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { ETLIFY_SYNC_PRODUCER } from '../../lib/etlify.constants';
import type { SyncJobProducer } from '../../lib/interfaces/sync-job-producer.interface';
import { createTestDatabase, TestDatabase } from '../support/databases';
import {
  exited,
  FaultCompany,
  faultAppModule,
  FaultWorkerConfig,
  startFaultWorker,
} from './support/fault-app';
import {
  exactlyOnce,
  fragmentsIn,
  freePort,
  LONG_TOKEN,
  OwnRedis,
  waitUntil,
} from './support/fault-harness';

/**
 * The fault suite: 4 worker processes share our own Redis and one PostgreSQL schema, and sync
 * companies (first writes are upserts by the key property) into a sandbox that plays HubSpot's
 * faults: 30 s search lag, 5 % 5xx of which half are ghost writes, 2 % 429, 1 % timeouts, 423s.
 * Each scenario adds one disruption while a writer keeps changing 10 % of the records, and ends
 * with the same check: every company in HubSpot exactly once, with its current payload, and the
 * state table agreeing. CI scale; `npm run bench reliability` runs the large version.
 */
const RECORDS = Number(process.env.ETLIFY_FAULT_RECORDS ?? 2000);
const WORKERS = 4;
const CONVERGE_MS = 150_000;

class Lines implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.log(message);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.lines.push([message, ...rest].map(String).join(' '));
  }
}

describe('fault suite: exactly once under HubSpot faults (PostgreSQL, 4 workers)', () => {
  let redis: OwnRedis;
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let app: INestApplication;
  let companies: Repository<FaultCompany>;
  let states: Repository<CrmSynchronisation>;
  let producer: SyncJobProducer;
  let config: FaultWorkerConfig;
  let appName: string;
  const workers: ChildProcess[] = [];
  const workerLines: string[] = [];
  const parentLog = new Lines();
  const allIds: number[] = [];

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    appName = `etlify-fault-${randomBytes(4).toString('hex')}`;
    const created = await createTestDatabase('postgres');
    db = {
      ...created,
      options: { ...created.options, applicationName: appName } as any,
    };
    sandbox = new HubspotSandbox({
      accessToken: LONG_TOKEN,
      tenSecondLimit: 190,
      searchLagMs: 30_000,
      seed: 11,
      faults: [
        { rate: 0.05, kinds: ['500', '502', '503', '504'], ghostRate: 0.5 },
        { rate: 0.02, kinds: ['429'] },
        { rate: 0.01, kinds: ['timeout'], ghostRate: 0.5 },
        { rate: 0.01, kinds: ['423'] },
      ],
    });
    const { baseUrl } = await sandbox.start();
    const queueName = `etlify_fault_${randomBytes(4).toString('hex')}`;
    config = {
      db: db.options,
      redis: { host: '127.0.0.1', port: redis.port },
      prefix: `etlify-fault-${queueName}`,
      queueName,
      adapter: { accessToken: LONG_TOKEN, baseUrl },
    };
    // The test's own process observes under another connection name: pg_terminate_backend below
    // cuts the workers' connections, not the assertions'.
    const moduleRef = await Test.createTestingModule({
      imports: [
        faultAppModule({
          ...config,
          db: { ...db.options, applicationName: `${appName}-observer` } as any,
          processors: false,
          logger: parentLog,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: parentLog });
    await app.init();
    const ds = app.get(DataSource);
    companies = ds.getRepository(FaultCompany);
    states = ds.getRepository(CrmSynchronisation);
    producer = app.get<SyncJobProducer>(ETLIFY_SYNC_PRODUCER);
    // The key property, as `etlify provision --apply` makes it (faults may need a second try).
    const adapter = app
      .get(CrmRegistry)
      .getAdapter('hubspot') as HubspotAdapter;
    await waitUntil(
      'the key property',
      async () =>
        ['created', 'ok'].includes(
          (await adapter.provisionKeyProperty('companies', { apply: true }))
            .status,
        ),
      30_000,
      200,
    );
    for (let i = 0; i < WORKERS; i++)
      workers.push(await startFaultWorker(config, workerLines));
  }, 240_000);

  afterAll(async () => {
    for (const worker of workers) {
      worker.kill('SIGKILL');
      await exited(worker);
    }
    await app
      ?.get<Queue>(getQueueToken(config.queueName))
      .obliterate({ force: true })
      .catch(() => undefined);
    await app?.close();
    await sandbox?.stop();
    await redis?.kill();
    await db?.drop();
  }, 60_000);

  const entityConfig = () => app.get(CrmRegistry).getEntityConfig(FaultCompany);

  async function enqueue(ids: number[]): Promise<void> {
    try {
      await producer.enqueueMany(entityConfig(), ids.map(String));
    } catch {
      // Redis down: the change is saved; the stale sweep below picks it up, as in production.
    }
  }

  /** Changes 10 % of the records over and over until stopped, enqueuing each change. */
  function startWriter(ids: number[]): () => Promise<void> {
    const hot = ids.slice(0, Math.max(1, Math.floor(ids.length / 10)));
    let running = true;
    const loop = (async () => {
      while (running) {
        const pick = hot.filter(() => Math.random() < 0.3);
        try {
          if (pick.length)
            await companies.increment({ id: In(pick) }, 'revision', 1);
        } catch {
          // A terminated connection: the next round writes again.
        }
        await enqueue(pick);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    return async () => {
      running = false;
      await loop;
    };
  }

  /**
   * Saves `count` companies, enqueues them, runs the writer and the disruption, then waits for
   * convergence (sweeping stale records now and then, as the cron sweeper would) and checks.
   */
  async function scenario(
    label: string,
    count: number,
    disrupt: (ids: number[]) => Promise<void>,
  ): Promise<void> {
    const saved = await companies.save(
      Array.from({ length: count }, (_, i) =>
        companies.create({ name: `${label} ${i}`, revision: 0 }),
      ),
    );
    const ids = saved.map((c) => c.id);
    allIds.push(...ids);
    for (let i = 0; i < ids.length; i += 500)
      await enqueue(ids.slice(i, i + 500));
    const stopWriter = startWriter(ids);
    try {
      await disrupt(ids);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    } finally {
      await stopWriter();
    }
    const sync = app.get(SyncService);
    let lastSweep = Date.now();
    const verdict = await waitUntil(
      `${label} to converge`,
      async () => {
        const v = await exactlyOnce(sandbox, companies, states, ids);
        if (v.ok) return v;
        if (Date.now() - lastSweep > 15_000) {
          lastSweep = Date.now();
          await sync
            .syncStale({ entities: ['FaultCompany'], async: false })
            .catch((error: Error) =>
              console.warn(`stale sweep failed: ${error.message}`),
            );
        }
        return false;
      },
      CONVERGE_MS,
      1_000,
    ).catch(async (error: Error) => {
      const v = await exactlyOnce(sandbox, companies, states, ids);
      throw new Error(
        `${error.message}: ${v.problems.slice(0, 10).join('; ')}`,
      );
    });
    expect(verdict.problems).toEqual([]);
    // Earlier scenarios' records stay exactly once too.
    expect(
      (await exactlyOnce(sandbox, companies, states, allIds)).problems,
    ).toEqual([]);
  }

  const syncedCount = async (ids: number[]) =>
    states
      .createQueryBuilder('s')
      .where(
        's.resource_type = :t AND s.state = :s AND s.resource_id IN (:...ids)',
        {
          t: 'FaultCompany',
          s: 'synced',
          ids: ids.map(String),
        },
      )
      .getCount();

  it('1. fault mix with a writer changing 10 % of the records', async () => {
    await scenario('mix', RECORDS, async (ids) => {
      await waitUntil(
        'half the records',
        async () => (await syncedCount(ids)) >= ids.length / 2,
        CONVERGE_MS,
        500,
      );
    });
  }, 300_000);

  it('2. Redis killed mid-run and restarted', async () => {
    await scenario('redis', RECORDS, async (ids) => {
      await waitUntil(
        'a quarter of the records',
        async () => (await syncedCount(ids)) >= ids.length / 4,
        CONVERGE_MS,
        200,
      );
      await redis.kill();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await redis.start();
    });
  }, 300_000);

  it('3. PostgreSQL connections of the app terminated mid-run', async () => {
    await scenario('pg', RECORDS, async (ids) => {
      await waitUntil(
        'a quarter of the records',
        async () => (await syncedCount(ids)) >= ids.length / 4,
        CONVERGE_MS,
        200,
      );
      const admin = new DataSource({
        ...(db.options as any),
        applicationName: 'etlify-fault-admin',
        entities: [],
      });
      await admin.initialize();
      try {
        for (let round = 0; round < 3; round++) {
          const killed: unknown[] = await admin.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
            [appName],
          );
          if (round === 0) expect(killed.length).toBeGreaterThan(0);
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      } finally {
        await admin.destroy();
      }
    });
  }, 300_000);

  it('4. a worker SIGKILLed while its batch is in flight', async () => {
    await scenario('kill', RECORDS, async () => {
      const before = sandbox.requests.length;
      await waitUntil(
        'batches in flight',
        async () => sandbox.requests.length > before + 3,
        CONVERGE_MS,
        20,
      );
      const victim = workers.shift()!;
      victim.kill('SIGKILL');
      await exited(victim);
      workers.push(await startFaultWorker(config, workerLines));
    });
  }, 300_000);

  it('5. records merged in HubSpot while syncing: the state follows the new ids, no duplicate, no orphan', async () => {
    const merged: string[] = [];
    await scenario('merge', RECORDS, async (ids) => {
      await waitUntil(
        'a quarter of the records',
        async () => (await syncedCount(ids)) >= ids.length / 4,
        CONVERGE_MS,
        200,
      );
      const rows = await states.find({
        where: { resourceType: 'FaultCompany', state: 'synced' as any },
        take: 2_000,
      });
      const mine = rows
        .filter((r) => ids.includes(Number(r.resourceId)) && r.crmId)
        .slice(0, 40);
      const touched: number[] = [];
      for (const [n, row] of mine.entries()) {
        // A duplicate someone made by hand in HubSpot, merged with ours (each side primary in turn).
        const dup = await createByHand(sandbox, `Hand-made ${row.resourceId}`);
        const live = sandbox.record('companies', row.crmId!)!.id;
        merged.push(
          n % 2
            ? sandbox.merge('companies', live, dup)
            : sandbox.merge('companies', dup, live),
        );
        touched.push(Number(row.resourceId));
      }
      await companies.increment({ id: In(touched) }, 'revision', 1);
      await enqueue(touched);
    });
    // No orphan: every merged record is held by exactly one state row.
    const held = await states.findBy({ resourceType: 'FaultCompany' });
    for (const id of merged)
      expect(held.filter((r) => r.crmId === id)).toHaveLength(1);
  }, 300_000);

  it('7. the long token never appears, not even 12 characters of it, in logs, errors, jobs, Redis keys or state rows', async () => {
    const rows = await states.find();
    const client = new Redis({ port: redis.port, lazyConnect: true });
    await client.connect();
    const redisText: string[] = [];
    try {
      for (const key of await client.keys('*')) {
        redisText.push(key);
        const type = await client.type(key);
        if (type === 'string') redisText.push(String(await client.get(key)));
        else if (type === 'hash')
          redisText.push(JSON.stringify(await client.hgetall(key)));
        else if (type === 'list')
          redisText.push((await client.lrange(key, 0, -1)).join('\n'));
        else if (type === 'zset')
          redisText.push((await client.zrange(key, 0, -1)).join('\n'));
        else if (type === 'set')
          redisText.push((await client.smembers(key)).join('\n'));
      }
    } finally {
      client.disconnect();
    }
    expect(workerLines.length + parentLog.lines.length).toBeGreaterThan(0);
    expect(redisText.length).toBeGreaterThan(0);
    const haystack = [
      workerLines.join('\n'),
      parentLog.lines.join('\n'),
      rows.map((r) => `${r.lastError ?? ''} ${r.crmId ?? ''}`).join('\n'),
      redisText.join('\n'),
    ].join('\n');
    expect(fragmentsIn(haystack)).toEqual([]);
  }, 60_000);
});

/** A company created straight through the API (as a person would), retried through faults. */
async function createByHand(
  sandbox: HubspotSandbox,
  name: string,
): Promise<string> {
  return waitUntil(
    'a hand-made company',
    async () => {
      const before = new Set(sandbox.records('companies').map((r) => r.id));
      const res = await fetch(`${sandbox.baseUrl}/crm/v3/objects/companies`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${LONG_TOKEN}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ properties: { name } }),
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      // Ghost writes apply without answering: find the record by name rather than trusting the answer.
      const made =
        sandbox
          .records('companies')
          .find((r) => !before.has(r.id) && r.properties.name === name) ??
        sandbox.records('companies').find((r) => r.properties.name === name);
      if (res) await res.text().catch(() => undefined);
      return made?.id;
    },
    30_000,
    300,
  );
}
