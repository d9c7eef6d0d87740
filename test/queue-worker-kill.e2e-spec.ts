import { INestApplication } from '@nestjs/common';
import { getQueueToken, RawQueue as Queue } from './support/queue-driver';
import { Test } from '@nestjs/testing';
import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource, Not, IsNull, Repository } from 'typeorm';
import { CrmRegistry, CrmSynchronisation, HubspotAdapter } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { ETLIFY_SYNC_PRODUCER } from '../lib/etlify.constants';
import type { SyncJobProducer } from '../lib/interfaces/sync-job-producer.interface';
import { createTestDatabase, TestDatabase } from './support/databases';
import {
  QueuedContact,
  queueAppModule,
  QueueWorkerConfig,
  waitFor,
} from './support/queue-worker';

const RECORDS = 10;

/** A worker process running the app with the queue processors; resolves once it is up. */
async function startWorker(config: QueueWorkerConfig): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'support', 'queue-worker.ts'), [], {
    execArgv: [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
    ],
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json'),
      QUEUE_WORKER_CONFIG: JSON.stringify(config),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (message) =>
      message === 'ready' ? resolve() : reject(new Error(String(message))),
    );
    child.once('exit', (code) =>
      reject(new Error(`worker exited with ${code}`)),
    );
  });
  return child;
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));

describe('a queue worker killed mid-batch', () => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let app: INestApplication | undefined;
  let workers: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await db.drop();
  });
  afterEach(async () => {
    for (const worker of workers) {
      worker.kill('SIGKILL');
      await exited(worker);
    }
    workers = [];
    if (app) {
      await app
        .get<Queue>(getQueueToken(queueName))
        .obliterate({ force: true });
      await app.close();
    }
    await sandbox?.stop();
  });

  let queueName = '';

  it('syncs its records once after a restart, without duplicates in the CRM', async () => {
    // The CRM applies a write, then answers after 800 ms: the kill lands while the answer is on its way.
    sandbox = new HubspotSandbox({ latencyMs: 800, tenSecondLimit: 1000 });
    const { baseUrl } = await sandbox.start();
    queueName = `etlify_${randomBytes(4).toString('hex')}`;
    const prefix = `etlify-test-${queueName}`;
    const queue = { name: queueName, batchWindowMs: 100, backoffMs: 100 };
    const bullSettings = { lockDuration: 1000, stalledInterval: 500 };

    // This process only enqueues; the workers are separate processes.
    const moduleRef = await Test.createTestingModule({
      imports: [
        queueAppModule({
          db: db.options,
          synchronize: true,
          adapter: new HubspotAdapter({ accessToken: 'test-token', baseUrl }),
          queue: { ...queue, processors: false },
          prefix,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const ds = app.get(DataSource);
    const contacts = ds.getRepository(QueuedContact);
    const states: Repository<CrmSynchronisation> =
      ds.getRepository(CrmSynchronisation);
    const saved = await contacts.save(
      Array.from({ length: RECORDS }, (_, i) =>
        contacts.create({ email: `killed${i}@example.com`, name: `K ${i}` }),
      ),
    );
    const producer = app.get<SyncJobProducer>(ETLIFY_SYNC_PRODUCER);
    await producer.enqueueMany(
      app.get(CrmRegistry).getEntityConfig(QueuedContact),
      saved.map((c) => String(c.id)),
    );

    const workerConfig: QueueWorkerConfig = {
      db: db.options,
      prefix,
      queue,
      baseUrl,
      bullSettings,
    };
    const first = await startWorker(workerConfig);
    workers.push(first);
    await waitFor(
      'the batch to reach the CRM',
      async () => sandbox.records('contacts').length === RECORDS,
    );
    first.kill('SIGKILL');
    await exited(first);

    // Killed between the CRM's write and its answer: the state table knows nothing yet.
    expect(await states.countBy({ state: 'synced' })).toBe(0);
    expect(await states.countBy({ leaseToken: Not(IsNull()) })).toBe(RECORDS);

    const beforeRestart = sandbox.requests.length;
    workers.push(await startWorker(workerConfig));
    // The restarted worker takes over the stalled jobs once the dead worker's record leases lapse.
    await waitFor(
      'the restarted worker to sync every record',
      async () => (await states.countBy({ state: 'synced' })) === RECORDS,
      120_000,
    );
    // The recovered records go out together, as one batch, not one call each.
    const recoveryWrites = sandbox.requests
      .slice(beforeRestart)
      .filter((r) => r.method !== 'GET' && r.status < 400);
    expect(recoveryWrites).toHaveLength(1);
    expect(recoveryWrites[0].bodyInputs).toBe(RECORDS);
    const records = sandbox.records('contacts');
    const emails = records.map((r) => r.properties.email);
    expect(new Set(emails).size).toBe(RECORDS);
    expect(records).toHaveLength(RECORDS);
    const rows = await states.find();
    for (const row of rows) {
      const contact = saved.find((c) => String(c.id) === row.resourceId)!;
      expect(sandbox.record('contacts', row.crmId!)?.properties.email).toBe(
        contact.email,
      );
    }
  }, 180_000);
});
