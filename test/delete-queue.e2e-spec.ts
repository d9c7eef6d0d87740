import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { DataSource, Repository } from 'typeorm';
import { CrmSynchronisation } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import {
  createTestDatabase,
  DIALECTS,
  TestDatabase,
} from './support/databases';
import { HeldHubspotAdapter } from './support/held-hubspot.adapter';
import { getQueueToken, RawQueue } from './support/queue-driver';
import { QueuedContact, queueAppModule, waitFor } from './support/queue-worker';

const TOKEN = 'queue-delete-token';

/**
 * Captured removes through the queue against the HubSpot sandbox: delete jobs are batched like
 * sync jobs (batch/archive, never one DELETE per record), and a delete job racing a sync batch in
 * flight waits for its leases and deletes what it wrote.
 */
describe.each(DIALECTS)('queued deletes on %s', (dialect) => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let adapter: HeldHubspotAdapter;
  let app: INestApplication;
  let queue: RawQueue;
  let states: Repository<CrmSynchronisation>;
  let ds: DataSource;

  beforeEach(async () => {
    db = await createTestDatabase(dialect);
    sandbox = new HubspotSandbox({ accessToken: TOKEN, seed: 21 });
    const { baseUrl } = await sandbox.start();
    adapter = new HeldHubspotAdapter({ accessToken: TOKEN, baseUrl });
    const name = `etlify_${randomBytes(4).toString('hex')}`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        queueAppModule({
          db: db.options,
          synchronize: true,
          adapter,
          queue: { name, batchWindowMs: 100, backoffMs: 10 },
          prefix: `etlify-test-${name}`,
          capture: true,
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    queue = app.get<RawQueue>(getQueueToken(name));
    ds = app.get(DataSource);
    states = ds.getRepository(CrmSynchronisation);
  });

  afterEach(async () => {
    await queue?.obliterate({ force: true });
    await app?.close();
    await sandbox.stop();
    await db.drop();
  });

  const insert = (n: number) =>
    ds.transaction((manager) =>
      manager.save(
        Array.from({ length: n }, (_, i) =>
          manager.create(QueuedContact, {
            email: `q${i}@example.com`,
            name: `Q ${i}`,
          }),
        ),
      ),
    );

  it('archives removed records in batches through the queue, never one DELETE each', async () => {
    const saved = await insert(150);
    await waitFor(
      'the first syncs',
      async () => (await states.countBy({ state: 'synced' })) === 150,
    );
    expect(sandbox.records('contacts')).toHaveLength(150);

    const before = sandbox.requests.length;
    await ds.transaction((manager) => manager.remove(saved));
    await waitFor(
      'the deletes',
      async () => (await states.count()) === 0,
      60_000,
    );
    expect(sandbox.records('contacts')).toHaveLength(0);
    const calls = sandbox.requests.slice(before);
    const archives = calls.filter((r) => r.path.endsWith('/batch/archive'));
    // 150 records in batches of at most 100: how the jobs fall into batch windows varies, and a
    // batch of one goes the single way (a read and a DELETE, as cheap as a batch of one).
    expect(archives.length).toBeGreaterThanOrEqual(2);
    expect(calls.filter((r) => r.method === 'DELETE').length).toBeLessThan(3);
    expect(calls.length).toBeLessThanOrEqual(12); // one by one: 300
  });

  it('a delete job racing a sync batch in flight waits for it and deletes what it created', async () => {
    const hold = adapter.hold('after');
    const saved = await insert(5);
    await hold.entered; // the 5 contacts exist in HubSpot; the batch has not heard back
    expect(sandbox.records('contacts')).toHaveLength(5);

    try {
      await ds.transaction((manager) => manager.remove(saved));
      await waitFor(
        'the tombstones',
        async () => (await states.countBy({ state: 'deleting' })) === 5,
        10_000,
      );
    } finally {
      hold.release(); // also when the test fails: the app's shutdown waits for the batch
    }
    await waitFor(
      'the deletes',
      async () => (await states.count()) === 0,
      30_000,
    );
    expect(sandbox.records('contacts')).toHaveLength(0);
  });
});
