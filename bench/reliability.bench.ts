import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bull';
import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DataSource, In, Repository } from 'typeorm';
import {
  CrmRegistry,
  CrmSynchronisation,
  HubspotAdapter,
  SyncService,
} from 'nestjs-etlify';
import {
  HubspotSandbox,
  type HubspotSandboxOptions,
} from 'nestjs-etlify/testing';
import { ETLIFY_SYNC_PRODUCER } from '../lib/etlify.constants';
import type { SyncJobProducer } from '../lib/interfaces/sync-job-producer.interface';
import { createTestDatabase, TestDatabase } from '../test/support/databases';
import {
  exited,
  FaultCompany,
  faultAppModule,
  FaultWorkerConfig,
  startFaultWorker,
} from '../test/reliability/support/fault-app';
import {
  exactlyOnce,
  freePort,
  LONG_TOKEN,
  OwnRedis,
  waitUntil,
} from '../test/reliability/support/fault-harness';

/**
 * `npm run bench reliability`: the fault suite at full scale. 4 worker processes sync N companies
 * (default 20,000) at HubSpot Professional limits (190 calls / 10 s: a 1,900 records/s ceiling with
 * 100-record batches), first without faults (the baseline), then under fault mix 1 (5 % 5xx half
 * of them ghost writes, 2 % 429, 1 % timeouts, 1 % 423, 30 s search lag). Then each disruption is
 * played on 2,000 changed records and timed until the sandbox and the state table agree again.
 */
const N = Number(process.env.ETLIFY_BENCH_RECORDS ?? 20_000);
const CHANGED = Math.min(2_000, N);
const WORKERS = 4;
const CEILING = 1_900;

const FAULT_MIX: HubspotSandboxOptions['faults'] = [
  { rate: 0.05, kinds: ['500', '502', '503', '504'], ghostRate: 0.5 },
  { rate: 0.02, kinds: ['429'] },
  { rate: 0.01, kinds: ['timeout'], ghostRate: 0.5 },
  { rate: 0.01, kinds: ['423'] },
];

interface Rig {
  redis: OwnRedis;
  db: TestDatabase;
  appName: string;
  sandbox: HubspotSandbox;
  app: INestApplication;
  companies: Repository<FaultCompany>;
  states: Repository<CrmSynchronisation>;
  producer: SyncJobProducer;
  config: FaultWorkerConfig;
  workers: ChildProcess[];
  lines: string[];
}

async function rig(faults: boolean): Promise<Rig> {
  const redis = new OwnRedis(await freePort());
  await redis.start();
  const appName = `etlify-bench-${randomBytes(4).toString('hex')}`;
  const created = await createTestDatabase('postgres');
  const db = {
    ...created,
    options: { ...created.options, applicationName: appName } as any,
  };
  const sandbox = new HubspotSandbox({
    accessToken: LONG_TOKEN,
    tenSecondLimit: 190,
    searchLagMs: 30_000,
    seed: 5,
    faults: faults ? FAULT_MIX : undefined,
    maxLogEntries: 1_000_000,
  });
  const { baseUrl } = await sandbox.start();
  const queueName = `etlify_bench_${randomBytes(4).toString('hex')}`;
  const config: FaultWorkerConfig = {
    db: db.options,
    redis: { host: '127.0.0.1', port: redis.port },
    prefix: `etlify-bench-${queueName}`,
    queueName,
    adapter: { accessToken: LONG_TOKEN, baseUrl },
  };
  // The observing process connects under another name: only the workers' connections are cut.
  const moduleRef = await Test.createTestingModule({
    imports: [
      faultAppModule({
        ...config,
        db: { ...db.options, applicationName: `${appName}-observer` },
        processors: false,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const adapter = app.get(CrmRegistry).getAdapter('hubspot') as HubspotAdapter;
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
  const lines: string[] = [];
  const workers = await Promise.all(
    Array.from({ length: WORKERS }, () => startFaultWorker(config, lines)),
  );
  const ds = app.get(DataSource);
  return {
    redis,
    db,
    appName,
    sandbox,
    app,
    companies: ds.getRepository(FaultCompany),
    states: ds.getRepository(CrmSynchronisation),
    producer: app.get<SyncJobProducer>(ETLIFY_SYNC_PRODUCER),
    config,
    workers,
    lines,
  };
}

async function teardown(r: Rig): Promise<void> {
  for (const w of r.workers) {
    w.kill('SIGKILL');
    await exited(w);
  }
  await r.app
    .get<Queue>(getQueueToken(r.config.queueName))
    .obliterate({ force: true })
    .catch(() => undefined);
  await r.app.close();
  await r.sandbox.stop();
  await r.redis.kill();
  await r.db.drop();
}

async function enqueue(r: Rig, ids: number[]): Promise<void> {
  const config = r.app.get(CrmRegistry).getEntityConfig(FaultCompany);
  for (let i = 0; i < ids.length; i += 1_000) {
    await r.producer
      .enqueueMany(config, ids.slice(i, i + 1_000).map(String))
      .catch(() => undefined);
  }
}

/** Ms until every id is exactly once in the sandbox and the state table agrees (sweeping as cron would). */
async function converge(r: Rig, ids: number[], from: number): Promise<number> {
  const sync = r.app.get(SyncService);
  let sweep = Date.now();
  await waitUntil(
    'convergence',
    async () => {
      // The full check reads every row and record: only once every row says synced.
      const synced = await r.states
        .countBy({ resourceType: 'FaultCompany', state: 'synced' as never })
        .catch(() => 0);
      if (
        synced >= ids.length &&
        (
          await exactlyOnce(r.sandbox, r.companies, r.states, ids).catch(
            () => ({ ok: false }),
          )
        ).ok
      )
        return true;
      if (Date.now() - sweep > 15_000) {
        sweep = Date.now();
        await sync
          .syncStale({ entities: ['FaultCompany'], async: false })
          .catch((error: Error) =>
            console.warn(`stale sweep failed: ${error.message}`),
          );
      }
      return false;
    },
    900_000,
    1_000,
  );
  return Date.now() - from;
}

const writes = (s: HubspotSandbox) =>
  s.requests.filter(
    (q) => q.method !== 'GET' && !q.path.includes('/properties'),
  ).length;

async function throughput(faults: boolean) {
  const r = await rig(faults);
  try {
    const saved: FaultCompany[] = [];
    for (let i = 0; i < N; i += 1_000) {
      saved.push(
        ...(await r.companies.save(
          Array.from({ length: Math.min(1_000, N - i) }, (_, k) =>
            r.companies.create({ name: `Bench ${i + k}`, revision: 0 }),
          ),
        )),
      );
    }
    const ids = saved.map((c) => c.id);
    const before = writes(r.sandbox);
    const started = Date.now();
    await enqueue(r, ids);
    const ms = await converge(r, ids, started);
    const calls = writes(r.sandbox) - before;
    const row = {
      profile: faults ? 'fault mix 1' : 'no faults (baseline)',
      records: N,
      's to converge': +(ms / 1000).toFixed(1),
      'rec/s': Math.round((N / ms) * 1000),
      '% of 1,900 ceiling': +(((N / ms) * 1000 * 100) / CEILING).toFixed(1),
      'write calls / record': +(calls / N).toFixed(4),
      'faults played': r.sandbox.requests.filter((q) => q.fault).length,
      duplicates: r.sandbox.records('companies').length - N,
    };
    const disruptions = faults ? await disrupt(r, ids) : [];
    return { row, calls, disruptions };
  } finally {
    await teardown(r);
  }
}

/** Each disruption on CHANGED freshly changed records: ms until they converge again. */
async function disrupt(r: Rig, ids: number[]) {
  const rows: Array<Record<string, string | number>> = [];
  const play = async (name: string, fault: () => Promise<void>) => {
    const changed = ids.slice(0, CHANGED);
    await r.companies.increment({ id: In(changed) }, 'revision', 1);
    const started = Date.now();
    await enqueue(r, changed);
    await fault();
    const ms = await converge(r, ids, started);
    rows.push({
      disruption: name,
      records: CHANGED,
      's to converge': +(ms / 1000).toFixed(1),
      duplicates: r.sandbox.records('companies').length - N,
    });
  };
  await play('none (fault mix only)', async () => undefined);
  await play('Redis killed 3 s, restarted empty', async () => {
    await r.redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await r.redis.start();
  });
  await play('PostgreSQL connections terminated', async () => {
    const admin = new DataSource({
      ...(r.db.options as any),
      applicationName: 'etlify-bench-admin',
      entities: [],
    });
    await admin.initialize();
    await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [r.appName],
    );
    await admin.destroy();
  });
  await play('worker SIGKILLed mid-batch', async () => {
    const victim = r.workers.shift()!;
    victim.kill('SIGKILL');
    await exited(victim);
    r.workers.push(await startFaultWorker(r.config, r.lines));
  });
  return rows;
}

async function main(): Promise<void> {
  const baseline = await throughput(false);
  console.table([baseline.row]);
  const faulty = await throughput(true);
  console.table([baseline.row, faulty.row]);
  console.log(
    `extra write calls per record caused by the faults: ${((faulty.calls - baseline.calls) / N).toFixed(4)}`,
  );
  console.table(faulty.disruptions);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
