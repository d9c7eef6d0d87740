import { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bull';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CrmRegistry, CrmSynchronisation, HubspotAdapter } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { ETLIFY_SYNC_PRODUCER } from '../../lib/etlify.constants';
import type { SyncJobProducer } from '../../lib/interfaces/sync-job-producer.interface';
import { createTestDatabase, TestDatabase } from '../support/databases';
import { REDIS } from '../support/queue-worker';
import { FaultCompany, faultAppModule } from './support/fault-app';
import {
  exactlyOnce,
  fragmentsIn,
  LONG_TOKEN,
  waitUntil,
} from './support/fault-harness';

/**
 * Scenario 6 of the fault suite: the daily quota runs out in a portal west of UTC (Los Angeles)
 * 40 s before the portal's midnight, on the sandbox's controlled clock. The library must stop,
 * learn the portal's reset from the account-info API, and resume right after that midnight —
 * not at UTC midnight (hours away, or already past), and without hammering HubSpot meanwhile.
 */
const RECORDS = 500;
const BEFORE_MIDNIGHT_MS = 40_000;

describe('fault suite 6: daily quota in a portal west of UTC', () => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let app: INestApplication | undefined;
  let queueName = '';

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    if (app) {
      await app
        .get<Queue>(getQueueToken(queueName))
        .obliterate({ force: true });
      await app.close();
    }
    await sandbox?.stop();
    await db.drop();
  });

  it("pauses until the portal's midnight, then syncs every record exactly once", async () => {
    let shift = 0;
    sandbox = new HubspotSandbox({
      accessToken: LONG_TOKEN,
      timeZone: 'America/Los_Angeles',
      // Provisioning (2 calls), the properties read (1) and 2 of the 5 batches fit today.
      dailyLimit: 5,
      tenSecondLimit: 190,
      searchLagMs: 0,
      now: () => Date.now() + shift,
    });
    const midnight = sandbox.nextDailyReset(Date.now() + 3 * 3_600_000);
    shift = midnight - BEFORE_MIDNIGHT_MS - Date.now();
    expect(midnight - sandbox.now()).toBeGreaterThan(
      BEFORE_MIDNIGHT_MS - 1_000,
    );
    // The portal's midnight is not UTC's: a client that waited for UTC midnight would be wrong.
    expect(new Date(midnight).getUTCHours()).not.toBe(0);
    const { baseUrl } = await sandbox.start();

    queueName = `etlify_daily_${randomBytes(4).toString('hex')}`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        faultAppModule({
          db: db.options,
          redis: REDIS,
          prefix: `etlify-test-${queueName}`,
          queueName,
          processors: true,
          synchronize: true,
          adapter: { accessToken: LONG_TOKEN, baseUrl },
        }),
      ],
    }).compile();
    const lines: string[] = [];
    app = moduleRef.createNestApplication({
      logger: {
        log: () => undefined,
        warn: (m: unknown) => lines.push(String(m)),
        error: (m: unknown) => lines.push(String(m)),
      },
    });
    await app.init();
    const adapter = app
      .get(CrmRegistry)
      .getAdapter('hubspot') as HubspotAdapter;
    expect(
      (await adapter.provisionKeyProperty('companies', { apply: true })).status,
    ).toBe('created');

    const ds = app.get(DataSource);
    const companies = ds.getRepository(FaultCompany);
    const states = ds.getRepository(CrmSynchronisation);
    const saved = await companies.save(
      Array.from({ length: RECORDS }, (_, i) =>
        companies.create({ name: `Daily ${i}`, revision: 0 }),
      ),
    );
    const ids = saved.map((c) => c.id);
    await app
      .get<SyncJobProducer>(ETLIFY_SYNC_PRODUCER)
      .enqueueMany(
        app.get(CrmRegistry).getEntityConfig(FaultCompany),
        ids.map(String),
      );

    const verdict = await waitUntil(
      "every record after the portal's midnight",
      async () => {
        const v = await exactlyOnce(sandbox, companies, states, ids);
        return v.ok ? v : false;
      },
      BEFORE_MIDNIGHT_MS + 60_000,
      500,
    );
    expect(verdict.problems).toEqual([]);
    expect(sandbox.records('companies')).toHaveLength(RECORDS);

    const daily = sandbox.requests.filter((r) => r.policy === 'DAILY');
    expect(daily.length).toBeGreaterThan(0);
    // Paused, not hammering: a DAILY answer or two per in-flight call, not a retry loop.
    expect(daily.length).toBeLessThanOrEqual(5);
    const writes = sandbox.requests.filter(
      (r) => r.path.endsWith('/batch/upsert') && r.status === 200,
    );
    const afterDaily = writes.filter((r) => r.at > daily[0].at);
    expect(afterDaily.length).toBeGreaterThan(0);
    // Resumed at the portal's midnight, not before it (and not hours later).
    expect(Math.min(...afterDaily.map((r) => r.at))).toBeGreaterThanOrEqual(
      midnight,
    );
    expect(Math.min(...afterDaily.map((r) => r.at))).toBeLessThan(
      midnight + 30_000,
    );
    // Rate limits are never failures: no record counted an error toward dead letters.
    expect(await states.countBy({ state: 'dead' as never })).toBe(0);
    expect(fragmentsIn(lines.join('\n'))).toEqual([]);
  }, 180_000);
});
