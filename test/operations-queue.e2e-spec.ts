import { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bull';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  EtlifyHealthIndicator,
  METRIC_NAMES,
  StatusService,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase, TestDatabase } from './support/databases';
import { installInMemoryMetrics, sumOf } from './support/otel';
import {
  OpsAppSettings,
  OpsContact,
  OpsContactHooks,
  opsImports,
} from './support/ops-app.module';

const otel = installInMemoryMetrics();

async function boot(settings: OpsAppSettings): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: opsImports(settings),
    providers: [OpsContactHooks],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

async function waitFor(check: () => Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('operations with a Bull queue (PostgreSQL + Redis + sandbox)', () => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let settings: OpsAppSettings;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    sandbox = new HubspotSandbox({ accessToken: 'test-token', searchLagMs: 0 });
    const { baseUrl } = await sandbox.start();
    const name = `etlify_ops_${randomBytes(4).toString('hex')}`;
    settings = {
      db: db.options,
      hubspotUrl: baseUrl,
      queue: { name, prefix: `etlify-test-${name}`, processors: false },
    };
  });
  afterAll(async () => {
    const queue = apps[0]?.get<Queue>(getQueueToken(settings.queue!.name));
    await queue?.obliterate({ force: true });
    for (const app of apps.reverse()) await app.close();
    await sandbox?.stop();
    await db?.drop();
    await otel.shutdown();
  });

  it('explain shows the job, health goes down on backlog and up once a worker drains it; latency is measured', async () => {
    const producer = await boot(settings);
    apps.push(producer);
    const sync = producer.get(SyncService);
    const contacts = producer.get(DataSource).getRepository(OpsContact);
    const record = await contacts.save(
      contacts.create({
        email: 'queued@example.com',
        firstName: 'Q',
        lastName: 'Ueue',
        company: null,
      }),
    );
    await sync.idle();
    const queued = await sync.explain([OpsContact, record.id]);
    expect(queued.state).toBe('queued');
    expect(queued.jobs).toEqual([
      expect.objectContaining({
        id: `etlify:sync:hubspot:OpsContact:${record.id}`,
        name: 'sync',
        state: 'waiting',
      }),
    ]);
    expect(queued.sentence).toContain(
      `sync job etlify:sync:hubspot:OpsContact:${record.id} (waiting since`,
    );

    const health = producer.get(EtlifyHealthIndicator);
    await expect(
      health.isHealthy('etlify', { maxQueueBacklog: 0 }),
    ).rejects.toMatchObject({
      causes: {
        etlify: { status: 'down', redis: 'reachable', queueBacklog: 1 },
      },
    });
    const status = await producer.get(StatusService).status();
    expect(status.queue).toMatchObject({ reachable: true, waiting: 1 });
    expect(status.queue!.oldestJobAgeMs).toBeGreaterThanOrEqual(0);

    const worker = await boot({
      ...settings,
      queue: { ...settings.queue!, processors: true },
    });
    apps.push(worker);
    await waitFor(
      async () =>
        (await sync.explain([OpsContact, record.id])).state === 'synced',
    );
    await waitFor(
      async () =>
        (await producer.get(StatusService).queueStatus())!.active === 0,
    );
    await expect(
      health.isHealthy('etlify', { maxQueueBacklog: 0 }),
    ).resolves.toMatchObject({
      etlify: { status: 'up', queueBacklog: 0 },
    });
    const latency = await otel.points(METRIC_NAMES.changeToCrm);
    expect(sumOf(latency, { crm: 'hubspot', entity: 'OpsContact' })).toBe(1);
  });

  it('health reports an unreachable Redis', async () => {
    const app = await boot({
      ...settings,
      redis: { host: '127.0.0.1', port: 1, disconnectTimeout: 10 },
    });
    apps.push(app);
    const result = await app
      .get(EtlifyHealthIndicator)
      .isHealthy('etlify')
      .catch((error: { causes: unknown }) => error.causes);
    expect(result).toMatchObject({
      etlify: {
        status: 'down',
        redis: 'unreachable',
        problems: [expect.stringContaining('does not answer')],
      },
    });
  });
});
