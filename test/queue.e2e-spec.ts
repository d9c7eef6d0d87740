import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import {
  CrmError,
  CrmRateLimitError,
  CrmRegistry,
  CrmSynchronisation,
  EtlifyModule,
  EtlifyQueueOptions,
  SyncService,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { ETLIFY_SYNC_PRODUCER } from '../lib/etlify.constants';
import type { EntitySyncConfig } from '../lib/interfaces/entity-sync-config.interface';
import type { SyncJobProducer } from '../lib/interfaces/sync-job-producer.interface';
import { createTestDatabase, Dialect, TestDatabase } from './support/databases';
import {
  BullModule,
  getQueueToken,
  queueOption,
  rawJobId,
  RawQueue as Queue,
} from './support/queue-driver';
import {
  QueuedContact,
  QueuedContactSerializer,
  QUEUE_CRM,
  queueAppModule,
  REDIS,
  waitFor,
} from './support/queue-worker';

interface Harness {
  app: INestApplication;
  queue: Queue;
  sync: SyncService;
  producer: SyncJobProducer;
  config: EntitySyncConfig;
  contacts: Repository<QueuedContact>;
  states: Repository<CrmSynchronisation>;
}

async function start(
  db: TestDatabase,
  adapter: InMemoryCrmAdapter,
  queue: Partial<EtlifyQueueOptions> = {},
  maxSyncErrors?: number,
  redis?: { host: string; port: number; disconnectTimeout?: number },
): Promise<Harness> {
  const name = `etlify_${randomBytes(4).toString('hex')}`;
  const moduleRef = await Test.createTestingModule({
    imports: [
      queueAppModule({
        db: db.options,
        synchronize: true,
        adapter,
        queue: { name, batchWindowMs: 50, backoffMs: 10, ...queue },
        prefix: `etlify-test-${name}`,
        maxSyncErrors,
        redis,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const ds = app.get(DataSource);
  return {
    app,
    queue: app.get<Queue>(getQueueToken(name)),
    sync: app.get(SyncService),
    producer: app.get(ETLIFY_SYNC_PRODUCER),
    config: app.get(CrmRegistry).getEntityConfig(QueuedContact),
    contacts: ds.getRepository(QueuedContact),
    states: ds.getRepository(CrmSynchronisation),
  };
}

async function stop(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.queue.obliterate({ force: true });
  await h.app.close();
}

const stateOf = (h: Harness, id: number) =>
  h.states.findOneBy({
    crmName: QUEUE_CRM,
    resourceType: 'QueuedContact',
    resourceId: String(id),
  });

/** Every job of the queue finished (completed or failed jobs are removed). */
async function queueIdle(h: Harness): Promise<boolean> {
  const counts = await h.queue.getJobCounts();
  return counts.waiting + counts.active + counts.delayed === 0;
}

/** Records of the upserts and batch upserts the adapter received, per email. */
function writesOf(adapter: InMemoryCrmAdapter, email: string): number {
  return adapter.calls.filter(
    (call) =>
      call.method === 'upsert' &&
      (call.request as { payload: { email: string } }).payload.email === email,
  ).length;
}

describe.each<Dialect>(['postgres', 'sqlite'])(
  'queued sync on %s',
  (dialect) => {
    let db: TestDatabase;
    let h: Harness | undefined;

    beforeAll(async () => {
      db = await createTestDatabase(dialect);
    });
    afterAll(async () => {
      await db.drop();
    });
    afterEach(async () => {
      await stop(h);
      h = undefined;
    });

    it('returns enqueued, and the job syncs the record', async () => {
      const crm = new InMemoryCrmAdapter();
      h = await start(db, crm);
      const contact = await h.contacts.save(
        h.contacts.create({
          email: 'ada@example.com',
          name: 'Ada',
        }),
      );
      await expect(h.sync.sync(contact)).resolves.toEqual({
        crm: QUEUE_CRM,
        status: 'enqueued',
      });
      const row = await waitFor('the state row to be synced', async () => {
        const found = await stateOf(h!, contact.id);
        return found?.state === 'synced' && found;
      });
      expect(crm.records('contacts')).toEqual([
        {
          id: row.crmId,
          objectType: 'contacts',
          properties: { email: 'ada@example.com', firstname: 'Ada' },
        },
      ]);
    });

    it('a touched but unchanged record costs no CRM call and is no longer stale', async () => {
      const crm = new InMemoryCrmAdapter();
      h = await start(db, crm);
      const contact = await h.contacts.save(
        h.contacts.create({ email: 'touch@example.com', name: 'Ada' }),
      );
      await h.sync.sync(contact);
      const first = await waitFor('the first sync', async () => {
        const found = await stateOf(h!, contact.id);
        return found?.state === 'synced' && found;
      });
      await new Promise((r) => setTimeout(r, 1100)); // 1 s timestamp resolution on some dialects
      await h.contacts.update(contact.id, { name: 'Ada' }); // bumps updated_at only
      expect(
        (await h.sync.syncStale({ dryRun: true, fullScan: true })).total,
      ).toBe(1);
      // A whole-second update time counts as newer than any sync within that second (see the finder).
      await new Promise((r) => setTimeout(r, 1100));
      const calls = crm.callCount();
      await h.sync.syncById(QueuedContact, contact.id);
      const touched = await waitFor('last_synced_at to move', async () => {
        const found = await stateOf(h!, contact.id);
        return (
          found!.lastSyncedAt!.getTime() > first.lastSyncedAt!.getTime() &&
          found
        );
      });
      expect(crm.callCount()).toBe(calls);
      expect(touched.lastDigest).toBe(first.lastDigest);
      expect(
        (await h.sync.syncStale({ dryRun: true, fullScan: true })).total,
      ).toBe(0);
    });

    it('collapses 50 rapid changes of one record into at most 2 CRM writes with the final data', async () => {
      const crm = new InMemoryCrmAdapter({ batch: false, latencyMs: 20 });
      h = await start(db, crm, { batchWindowMs: 200 });
      const contact = await h.contacts.save(
        h.contacts.create({
          email: 'burst@example.com',
          name: 'v0',
        }),
      );
      for (let i = 1; i <= 50; i++) {
        await h.contacts.update(contact.id, { name: `v${i}` });
        await h.sync.syncById(QueuedContact, contact.id);
      }
      await waitFor('the queue to drain', () => queueIdle(h!));
      const [record] = crm.records('contacts');
      expect(record.properties).toEqual({
        email: 'burst@example.com',
        firstname: 'v50',
      });
      expect(writesOf(crm, 'burst@example.com')).toBeLessThanOrEqual(2);
      expect((await stateOf(h, contact.id))?.state).toBe('synced');
    });
  },
);

describe('queued sync on postgres: batching, retries, dead letters', () => {
  let db: TestDatabase;
  let h: Harness | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await db.drop();
  });
  afterEach(async () => {
    await stop(h);
    h = undefined;
  });

  const seed = (h: Harness, n: number, tag: string) =>
    h.contacts.save(
      Array.from({ length: n }, (_, i) =>
        h.contacts.create({
          email: `${tag}${i}@example.com`,
          name: `${tag} ${i}`,
        }),
      ),
    );

  it('syncs a stream of 500 distinct records in batches of 100', async () => {
    const crm = new InMemoryCrmAdapter();
    h = await start(db, crm, { batchWindowMs: 200 });
    const contacts = await seed(h, 500, 'stream');
    for (let i = 0; i < contacts.length; i += 25) {
      await h.producer.enqueueMany(
        h.config,
        contacts.slice(i, i + 25).map((c) => String(c.id)),
      );
    }
    await waitFor(
      '500 synced rows',
      async () => (await h!.states.countBy({ state: 'synced' })) === 500,
    );
    const batches = crm.calls.filter((c) => c.method === 'batchUpsert');
    const sizes = batches.map((c) => c.request as number);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(500);
    expect(crm.callCount('upsert')).toBe(0);
    expect(batches.length).toBeLessThanOrEqual(7);
    expect(crm.records('contacts')).toHaveLength(500);
  });

  it('jobs carry identifiers only', async () => {
    const crm = new InMemoryCrmAdapter();
    h = await start(db, crm, { processors: false });
    const [contact] = await seed(h, 1, 'ids');
    await h.sync.sync(contact);
    const jobs = await h.queue.getJobs(['waiting']);
    expect(jobs.map((job) => job.data)).toEqual([
      {
        crm: QUEUE_CRM,
        resourceType: 'QueuedContact',
        resourceId: String(contact.id),
      },
    ]);
    expect(jobs[0].id).toBe(
      rawJobId(`etlify:sync:${QUEUE_CRM}:QueuedContact:${contact.id}`),
    );
    // A second enqueue of a waiting record collapses into its job.
    await h.sync.sync(contact);
    expect(await h.queue.getJobCounts()).toMatchObject({ waiting: 1 });
    expect(crm.calls).toHaveLength(0);
  });

  it('retries failures with backoff, then dead-letters after maxSyncErrors without more attempts', async () => {
    const crm = new InMemoryCrmAdapter();
    let badAttempts = 0;
    crm.failWhen((req) => {
      if (req.payload.email !== 'bad0@example.com') return undefined;
      badAttempts++;
      return new CrmError('Internal error', {
        status: 500,
        category: 'SERVER',
        retryable: true,
      });
    });
    h = await start(db, crm, { attempts: 10 }, 3);
    const [bad] = await seed(h, 1, 'bad');
    const [good] = await seed(h, 1, 'good');
    await h.sync.sync(bad);
    await h.sync.sync(good);
    await waitFor('the queue to drain', () => queueIdle(h!));
    const row = await stateOf(h, bad.id);
    expect(row).toMatchObject({
      state: 'dead',
      errorCount: 3,
      lastError: 'CrmError: Internal error',
    });
    // 3 attempts, not 10: a dead letter is not retried.
    expect(badAttempts).toBe(3);
    expect((await stateOf(h, good.id))?.state).toBe('synced');

    crm.failWhen(undefined);
    await expect(h.sync.retryDeadLetters()).resolves.toBe(1);
    const back = await waitFor('the dead letter to sync', async () => {
      const found = await stateOf(h!, bad.id);
      return found?.state === 'synced' && found;
    });
    expect(back.errorCount).toBe(0);
    expect(
      crm
        .records('contacts')
        .map((r) => r.properties.email)
        .sort(),
    ).toEqual(['bad0@example.com', 'good0@example.com']);
  });

  it('reschedules rate-limited records without counting them as failures', async () => {
    const crm = new InMemoryCrmAdapter();
    crm.failNext(
      3,
      new CrmRateLimitError('Too many requests', { retryAfterMs: 10 }),
    );
    // One attempt and one allowed error: any counted failure would dead-letter the record.
    h = await start(db, crm, { attempts: 1 }, 1);
    const [contact] = await seed(h, 1, 'limited');
    await h.sync.sync(contact);
    const row = await waitFor('the rate-limited record to sync', async () => {
      const found = await stateOf(h!, contact.id);
      return found?.state === 'synced' && found;
    });
    expect(row).toMatchObject({ errorCount: 0, lastError: null });
    expect(crm.callCount('batchUpsert')).toBe(4);
  });

  it('queues a follow-up job for a change made while the CRM call is in flight', async () => {
    const crm = new InMemoryCrmAdapter({ latencyMs: 300 });
    h = await start(db, crm);
    const [contact] = await seed(h, 1, 'inflight');
    await h.sync.sync(contact);
    // The adapter logs a call when it starts: the job has read the record and is writing it.
    await waitFor('the CRM call to start', async () => crm.calls.length === 1);
    await h.contacts.update(contact.id, { name: 'changed meanwhile' });
    await h.sync.syncById(QueuedContact, contact.id);
    await waitFor('the queue to drain', () => queueIdle(h!));
    expect(crm.records('contacts')).toMatchObject([
      {
        properties: {
          email: 'inflight0@example.com',
          firstname: 'changed meanwhile',
        },
      },
    ]);
    // The follow-up waited for the first call's lease, then wrote the newer data.
    expect(crm.calls).toHaveLength(2);
  });

  it('runs delete jobs through SyncService.deleteById', async () => {
    const crm = new InMemoryCrmAdapter();
    h = await start(db, crm);
    // Earlier tests' rows hold ids their own fake CRMs handed out ("1", …), which this fresh one hands
    // out again; a delete keeps a CRM record another row still maps to, so start from no rows.
    await h.states.clear();
    const [contact] = await seed(h, 1, 'gone');
    await h.sync.sync(contact);
    const row = await waitFor('the sync', async () => {
      const found = await stateOf(h!, contact.id);
      return found?.state === 'synced' && found;
    });
    await h.contacts.delete(contact.id);
    await h.producer.enqueueDeletes(h.config, [String(contact.id)]);
    await waitFor(
      'the state row to go',
      async () => !(await stateOf(h!, contact.id)),
    );
    expect(crm.record('contacts', row.crmId!)).toBeUndefined();
    expect(crm.callCount('delete')).toBe(1);
  });

  it('rejects an enqueue within enqueueTimeoutMs when Redis is unreachable', async () => {
    const crm = new InMemoryCrmAdapter();
    // Port 1 refuses connections; ioredis queues commands until Redis comes back.
    const app = await start(
      db,
      crm,
      { processors: false, enqueueTimeoutMs: 300 },
      undefined,
      // ioredis keeps a dead socket's 2 s disconnect timer alive past the test otherwise.
      { host: '127.0.0.1', port: 1, disconnectTimeout: 10 },
    );
    try {
      const [contact] = await seed(app, 1, 'offline');
      await expect(app.sync.sync(contact)).rejects.toThrow(
        /queue "etlify_[0-9a-f]+": no answer from Redis within 300 ms/,
      );
      expect(crm.calls).toHaveLength(0);
    } finally {
      await app.app.close();
    }
  });

  it('takes the queue option at the top level of forRootAsync', async () => {
    const crm = new InMemoryCrmAdapter();
    const name = `etlify_${randomBytes(4).toString('hex')}`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          ...db.options,
          entities: [QueuedContact, CrmSynchronisation],
          synchronize: true,
        } as any),
        BullModule.forRoot({ redis: REDIS, prefix: `etlify-test-${name}` }),
        EtlifyModule.forRootAsync({
          queue: queueOption({ name, batchWindowMs: 20 }),
          useFactory: () => ({
            crms: [{ name: QUEUE_CRM, adapter: crm }],
            capture: false,
          }),
        }),
      ],
      providers: [QueuedContactSerializer],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const harness: Harness = {
      app,
      queue: app.get<Queue>(getQueueToken(name)),
      sync: app.get(SyncService),
      producer: app.get(ETLIFY_SYNC_PRODUCER),
      config: app.get(CrmRegistry).getEntityConfig(QueuedContact),
      contacts: app.get(DataSource).getRepository(QueuedContact),
      states: app.get(DataSource).getRepository(CrmSynchronisation),
    };
    h = harness;
    const [contact] = await seed(harness, 1, 'async');
    await expect(harness.sync.sync(contact)).resolves.toEqual({
      crm: QUEUE_CRM,
      status: 'enqueued',
    });
    await waitFor(
      'the sync',
      async () => (await stateOf(harness, contact.id))?.state === 'synced',
    );
    expect(crm.records('contacts')).toHaveLength(1);
  });

  it('fails at boot when forRootAsync gets the queue from its factory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          ...db.options,
          entities: [QueuedContact, CrmSynchronisation],
          synchronize: true,
        } as any),
        EtlifyModule.forRootAsync({
          useFactory: () => ({
            crms: [{ name: QUEUE_CRM, adapter: new InMemoryCrmAdapter() }],
            queue: { name: 'too-late' },
            capture: false,
          }),
        }),
      ],
      providers: [QueuedContactSerializer],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await expect(app.init()).rejects.toThrow(
        /option "queue" \(\{ name: "too-late" \}\) came from the forRootAsync factory.*forRootAsync\(\{ queue: \{ name: "too-late" \}/,
      );
    } finally {
      await app.close();
    }
  });
});
