import { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { DataSource, Repository } from 'typeorm';
import {
  EtlifyHealthIndicator,
  ETLIFY_EVENTS,
  METRIC_NAMES,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase, TestDatabase } from './support/databases';
import { installInMemoryMetrics, sumOf } from './support/otel';
import {
  OpsCompany,
  OpsContact,
  OpsContactHooks,
  opsImports,
} from './support/ops-app.module';

const otel = installInMemoryMetrics();

describe('operations on PostgreSQL + the HubSpot sandbox (inline)', () => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let app: INestApplication;
  let sync: SyncService;
  let contacts: Repository<OpsContact>;
  let companies: Repository<OpsCompany>;
  let hooks: OpsContactHooks;
  const events: Array<{ name: string; payload: any }> = [];
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    sandbox = new HubspotSandbox({ accessToken: 'test-token', searchLagMs: 0 });
    const { baseUrl } = await sandbox.start();
    const moduleRef = await Test.createTestingModule({
      imports: opsImports({ db: db.options, hubspotUrl: baseUrl }),
      providers: [OpsContactHooks],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    sync = app.get(SyncService);
    hooks = app.get(OpsContactHooks);
    const ds = app.get(DataSource);
    contacts = ds.getRepository(OpsContact);
    companies = ds.getRepository(OpsCompany);
    app.get(EventEmitter2).onAny((name, payload) => {
      events.push({ name: String(name), payload });
    });
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
    await db?.drop();
    await otel.shutdown();
  });

  const contact = (extra: Partial<OpsContact> = {}) =>
    contacts.save(
      contacts.create({
        email: `c${++n}@example.com`,
        firstName: 'Ada',
        lastName: 'Lovelace',
        company: null,
        ...extra,
      }),
    );
  const explain = (id: number, options = {}) =>
    sync.explain([OpsContact, id], options);

  it('says why a record is not in the CRM, without calling it: never synced, syncIf, buffered', async () => {
    const calls = sandbox.requests.length;
    const fresh = await contact();
    const never = await explain(fresh.id);
    expect(never).toMatchObject({
      state: 'never_synced',
      syncState: null,
      crmId: null,
    });
    expect(never.sentence).toContain(
      `OpsContact#${fresh.id} in hubspot has never been synced`,
    );
    expect(never.payload).toMatchObject({ email: fresh.email });

    const skipped = await contact({ email: 'nobody@skip.test' });
    expect((await explain(skipped.id)).state).toBe('skipped');
    expect((await explain(skipped.id)).sentence).toContain(
      'syncIf returns false',
    );

    const company = await companies.save(
      companies.create({ name: 'Acme', domain: 'acme.test' }),
    );
    const child = await contact({ company });
    const buffered = await explain(child.id);
    expect(buffered.state).toBe('buffered');
    expect(buffered.waitingOn).toEqual([
      { relation: 'company', entity: 'OpsCompany', id: String(company.id) },
    ]);
    expect(buffered.sentence).toContain(
      `waits for OpsCompany#${company.id} (company)`,
    );

    const missing = await explain(999_999);
    expect(missing.state).toBe('not_found');
    expect(sandbox.requests.length).toBe(calls);
  });

  it('synced, then not modified, then stale by its own row or a dependency; remote shows the diff', async () => {
    const company = await companies.save(
      companies.create({ name: 'Globex', domain: 'globex.test' }),
    );
    const record = await contact({ company });
    const outcome = await sync.sync(record);
    expect(outcome.status).toBe('synced');
    const synced = await explain(record.id);
    expect(synced).toMatchObject({ state: 'synced', crmId: outcome.crmId });
    expect(synced.sentence).toContain(
      `as CRM id ${outcome.crmId}, unchanged since`,
    );

    // crmIdColumn: written back, update timestamp kept, nothing stale, capture not involved.
    const stored = await contacts.findOneByOrFail({ id: record.id });
    expect(stored.hubspotId).toBe(outcome.crmId);
    expect(stored.updatedAt.getTime()).toBe(record.updatedAt.getTime());
    const dry = await sync.syncStale({
      entities: [OpsContact],
      dryRun: true,
      fullScan: true,
    });
    expect(dry.perEntity.OpsContact).toBe(dry.total);
    expect((await explain(record.id)).state).toBe('synced');
    expect(
      hooks.synced.some(
        (h) => h.event.id === String(record.id) && h.email === record.email,
      ),
    ).toBe(true);

    // Touched, same payload.
    await contacts.update(record.id, {
      updatedAt: new Date(Date.now() + 1000),
    });
    const touched = await explain(record.id);
    expect(touched.state).toBe('not_modified');
    expect(touched.staleReasons).toEqual([
      expect.objectContaining({ kind: 'own_change' }),
    ]);

    await contacts.update(record.id, {
      lastName: 'Byron',
      updatedAt: new Date(Date.now() + 2000),
    });
    const stale = await explain(record.id);
    expect(stale.state).toBe('stale');
    expect(stale.sentence).toContain('its row changed at');

    const before = sandbox.requests.length;
    const remote = await explain(record.id, { remote: true });
    expect(sandbox.requests.length).toBe(before + 1);
    expect(remote.remote).toEqual({
      found: true,
      crmId: outcome.crmId,
      diff: [{ property: 'lastname', local: 'Byron', remote: 'Lovelace' }],
    });
    expect(remote.sentence).toContain('the CRM record differs in lastname');

    await sync.sync(await contacts.findOneByOrFail({ id: record.id }));
    await contacts.update(record.id, {
      updatedAt: new Date(Date.now() - 60_000),
    });
    await companies.update(company.id, {
      name: 'Globex Corp',
      updatedAt: new Date(Date.now() + 5000),
    });
    const viaDependency = await explain(record.id);
    expect(viaDependency.state).toBe('stale');
    expect(viaDependency.staleReasons).toEqual([
      expect.objectContaining({ kind: 'dependency', dependency: 'company' }),
    ]);
    expect(viaDependency.sentence).toContain(
      'its dependency "company" changed at',
    );
  });

  it('dead-letters with the category and correlation id, lists, counts, retries and discards them', async () => {
    const bad = await Promise.all(
      [1, 2, 3].map(() => contact({ firstName: 'reject' })),
    );
    for (const record of bad) {
      expect((await sync.sync(record)).status).toBe('error');
      expect((await explain(record.id)).state).toBe('error');
      await sync.sync(record);
    }
    const dead = await explain(bad[0].id);
    expect(dead).toMatchObject({
      state: 'dead_lettered',
      errorCount: 2,
      errorCategory: 'VALIDATION',
    });
    expect(dead.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(dead.sentence).toContain(`dead-lettered after 2 errors`);
    expect(dead.sentence).toContain(`correlation id ${dead.correlationId}`);

    const deadEvents = events.filter(
      (e) => e.name === ETLIFY_EVENTS.deadLettered,
    );
    expect(deadEvents.map((e) => e.payload.id)).toEqual(
      bad.map((r) => String(r.id)),
    );
    expect(deadEvents[0].payload).toMatchObject({
      crm: 'hubspot',
      entity: 'OpsContact',
      status: 400,
      deadLettered: true,
    });
    expect(
      events.filter(
        (e) =>
          e.name === ETLIFY_EVENTS.failed && e.payload.id === String(bad[0].id),
      ),
    ).toHaveLength(2);
    expect(
      hooks.failed
        .filter((f) => f.id === String(bad[0].id))
        .map((f) => f.deadLettered),
    ).toEqual([false, true]);

    const first = await sync.deadLetters({ limit: 2, category: 'VALIDATION' });
    expect(first.total).toBe(3);
    expect(first.items.map((d) => d.id)).toEqual(
      [bad[0].id, bad[1].id].map(String),
    );
    expect(first.items[0]).toMatchObject({
      entity: 'OpsContact',
      errorCount: 2,
      category: 'VALIDATION',
    });
    const second = await sync.deadLetters({
      limit: 2,
      category: 'VALIDATION',
      after: first.next!,
    });
    expect(second).toMatchObject({ next: null, total: 3 });
    expect(second.items.map((d) => d.id)).toEqual([String(bad[2].id)]);
    expect(await sync.countDeadLetters({ category: 'AUTHENTICATION' })).toBe(0);
    expect(await sync.countDeadLetters({ entities: ['OpsContact'] })).toBe(3);

    // Fixed data, then one retry: synced inline (no queue).
    await contacts.update(bad[0].id, { firstName: 'Fixed' });
    expect((await sync.retryDeadLetter(OpsContact, bad[0].id)).status).toBe(
      'synced',
    );
    expect((await explain(bad[0].id)).state).toBe('synced');
    await expect(sync.retryDeadLetter(OpsContact, bad[0].id)).rejects.toThrow(
      /is not dead-lettered/,
    );

    await expect(
      sync.discardDeadLetter(OpsContact, bad[1].id, { reason: ' ' }),
    ).rejects.toThrow(/give a reason/);
    const staleBefore = await sync.syncStale({
      entities: [OpsContact],
      dryRun: true,
      fullScan: true,
    });
    await sync.discardDeadLetter(OpsContact, bad[1].id, {
      reason: 'test account, never in HubSpot',
    });
    const discarded = await explain(bad[1].id);
    expect(discarded).toMatchObject({
      state: 'discarded',
      discardReason: 'test account, never in HubSpot',
    });
    expect(discarded.sentence).toContain('test account, never in HubSpot');
    expect((await sync.deadLetters()).items.map((d) => d.id)).toEqual([
      String(bad[2].id),
    ]);
    // Left alone by the sweeper until it changes.
    const dry = () =>
      sync.syncStale({ entities: [OpsContact], dryRun: true, fullScan: true });
    expect((await dry()).total).toBe(staleBefore.total);
    await contacts.update(bad[1].id, { lastName: 'Changed' });
    expect((await dry()).total).toBe(staleBefore.total + 1);
  });

  it('the health indicator goes down past the dead-letter threshold and comes back up', async () => {
    const health = app.get(EtlifyHealthIndicator);
    await expect(
      health.isHealthy('etlify', { maxDeadLetters: 0 }),
    ).rejects.toMatchObject({
      causes: {
        etlify: {
          status: 'down',
          deadLetters: 1,
          dailyQuotaLeft: { hubspot: expect.any(Number) },
        },
      },
    });
    await expect(
      health.isHealthy('etlify', { maxDeadLetters: 1 }),
    ).resolves.toMatchObject({
      etlify: { status: 'up', deadLetters: 1 },
    });
    const [left] = (await sync.deadLetters()).items;
    await sync.discardDeadLetter(OpsContact, left.id, { reason: 'cleanup' });
    await expect(
      health.isHealthy('etlify', { maxDeadLetters: 0 }),
    ).resolves.toMatchObject({
      etlify: { status: 'up', deadLetters: 0 },
    });
  });

  it('a delete pending, deleted events, serializer errors as LOCAL; metrics carry CRM, entity and status', async () => {
    const record = await contact();
    const { crmId } = await sync.sync(record);
    await contacts.delete(record.id);
    const pending = await explain(record.id);
    expect(pending).toMatchObject({ state: 'delete_pending', crmId });
    expect(pending.sentence).toContain(
      `its CRM record ${crmId} is not deleted yet`,
    );
    await sync.delete(record);
    expect((await explain(record.id)).state).toBe('not_found');
    expect(
      events.find((e) => e.name === ETLIFY_EVENTS.deleted)?.payload,
    ).toMatchObject({ id: String(record.id), crmId, existed: true });

    const broken = await contact({ firstName: 'boom' });
    await sync.sync(broken);
    const local = await explain(broken.id);
    expect(local).toMatchObject({
      state: 'error',
      errorCategory: 'LOCAL',
      correlationId: null,
    });
    expect(local.payloadError).toContain('cannot serialize');

    await Promise.all([1, 2, 3].map(() => contact()));
    const stats = await sync.syncStale({
      entities: [OpsContact],
      fullScan: true,
    });
    expect(stats.synced).toBeGreaterThanOrEqual(3);

    const records = await otel.points(METRIC_NAMES.records);
    // The three rejected ones, and the serializer failure the sweep tried a second time.
    expect(
      sumOf(records, {
        crm: 'hubspot',
        entity: 'OpsContact',
        status: 'dead_lettered',
      }),
    ).toBe(events.filter((e) => e.name === ETLIFY_EVENTS.deadLettered).length);
    expect(
      events.filter((e) => e.name === ETLIFY_EVENTS.deadLettered),
    ).toHaveLength(4);
    expect(sumOf(records, { entity: 'OpsContact', status: 'synced' })).toBe(
      events.filter(
        (e) =>
          e.name === ETLIFY_EVENTS.synced && e.payload.entity === 'OpsContact',
      ).length,
    );
    expect(sumOf(records, { entity: 'OpsContact', status: 'deleted' })).toBe(1);
    expect(
      sumOf(records, { entity: 'OpsContact', status: 'failed' }),
    ).toBeGreaterThanOrEqual(4);
    const calls = await otel.points(METRIC_NAMES.crmCallDuration);
    expect(
      sumOf(calls, { crm: 'hubspot', operation: 'batchUpsert', outcome: 'ok' }),
    ).toBeGreaterThan(0);
    expect(sumOf(calls, { crm: 'hubspot', operation: 'read' })).toBe(1);
    const sizes = await otel.points(METRIC_NAMES.batchSize);
    const batch = sizes.find((p) => p.attributes.operation === 'batchUpsert');
    expect(
      batch && typeof batch.value !== 'number' && batch.value.max,
    ).toBeGreaterThanOrEqual(3);
  });
});
