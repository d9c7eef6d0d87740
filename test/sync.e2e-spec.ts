import { INestApplication } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import {
  CrmAuthError,
  CrmError,
  CrmRateLimitError,
  CrmSynchronisation,
  CrmRegistry,
  NullAdapter,
  SyncService,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import {
  createTestDatabase,
  DIALECTS,
  TestDatabase,
} from './support/databases';
import { buildApp } from './support/app';
import {
  Company,
  CompanySerializer,
  User,
  UserSerializer,
} from './support/fixtures';

describe.each(DIALECTS)('inline sync on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let hubspot: InMemoryCrmAdapter;
  let audit: InMemoryCrmAdapter;
  let sync: SyncService;
  let users: Repository<User>;
  let states: Repository<CrmSynchronisation>;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await db.drop();
  });

  beforeEach(async () => {
    hubspot = new InMemoryCrmAdapter();
    audit = new InMemoryCrmAdapter();
    app = await buildApp({
      db,
      entities: [User, Company],
      providers: [UserSerializer, CompanySerializer],
      autoLoadEntities: true,
      etlify: {
        crms: [
          { name: 'hubspot', adapter: hubspot, maxSyncErrors: 2 },
          { name: 'audit', adapter: audit },
        ],
        capture: false,
        staleSweep: false,
      },
    });
    await app.init();
    sync = app.get(SyncService);
    const ds = app.get(DataSource);
    users = ds.getRepository(User);
    states = ds.getRepository(CrmSynchronisation);
    await states.clear();
  });
  afterEach(async () => {
    await app.close();
  });

  const newUser = (email: string | null, firstName = 'Ada') =>
    users.save(users.create({ email, firstName, lastName: 'Lovelace' }));

  it('stores the CRM id on the first sync', async () => {
    const user = await newUser('ada@example.com');
    const outcome = await sync.sync(user, { crm: 'hubspot' });
    expect(outcome).toEqual({ crm: 'hubspot', status: 'synced', crmId: '1' });
    const row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceType: 'User',
      resourceId: String(user.id),
    });
    expect(row.crmId).toBe('1');
    expect(row.lastDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(row.lastSyncedAt).toBeInstanceOf(Date);
    expect(row.errorCount).toBe(0);
    expect(row.state).toBe('synced');
    expect(row.serializerVersion).toBe(1);
    expect(hubspot.records('contacts')).toEqual([
      {
        id: '1',
        objectType: 'contacts',
        properties: {
          email: 'ada@example.com',
          firstname: 'Ada',
          lastname: 'Lovelace',
        },
      },
    ]);
  });

  it('makes no CRM call when nothing changed', async () => {
    const user = await newUser('ada@example.com');
    await sync.sync(user, { crm: 'hubspot' });
    const calls = hubspot.callCount();
    const again = await sync.sync(
      await users.findOneByOrFail({ id: user.id }),
      { crm: 'hubspot' },
    );
    expect(again).toEqual({
      crm: 'hubspot',
      status: 'not_modified',
      crmId: '1',
    });
    expect(hubspot.callCount()).toBe(calls);
  });

  it('updates by the stored CRM id when a field changed', async () => {
    const user = await newUser('ada@example.com');
    await sync.sync(user, { crm: 'hubspot' });
    user.lastName = 'Byron';
    await users.save(user);
    const outcome = await sync.sync(user, { crm: 'hubspot' });
    expect(outcome).toEqual({ crm: 'hubspot', status: 'synced', crmId: '1' });
    // sync(one) is syncMany([one]): one batch call, updating record 1 (no second record).
    const last = hubspot.calls[hubspot.calls.length - 1];
    expect(last.method).toBe('batchUpsert');
    expect(hubspot.record('contacts', '1')!.properties.lastname).toBe('Byron');
    expect(hubspot.records('contacts')).toHaveLength(1);
  });

  it('skips records whose syncIf is false, without a CRM call', async () => {
    const user = await newUser(null);
    const outcome = await sync.sync(user, { crm: 'hubspot' });
    expect(outcome).toEqual({ crm: 'hubspot', status: 'skipped' });
    expect(hubspot.callCount()).toBe(0);
    const row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceId: String(user.id),
    });
    expect(row.state).toBe('skipped');
    expect(row.lastSyncedAt).toBeInstanceOf(Date);
  });

  it('records a failure, then a success resets it', async () => {
    const user = await newUser('ada@example.com');
    hubspot.failNext(
      1,
      new CrmError('HubSpot is down (Bearer pat-na1-11111111-2222-3333)', {
        status: 503,
      }),
    );
    const failed = await sync.sync(user, { crm: 'hubspot' });
    expect(failed.status).toBe('error');
    expect(failed.error).toContain('HubSpot is down');
    expect(failed.error).not.toContain('pat-na1');
    let row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceId: String(user.id),
    });
    expect(row.errorCount).toBe(1);
    expect(row.lastError).toContain('HubSpot is down');
    expect(row.lastError).not.toContain('pat-na1');
    expect(row.crmId).toBeNull();

    const ok = await sync.sync(user, { crm: 'hubspot' });
    expect(ok.status).toBe('synced');
    row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceId: String(user.id),
    });
    expect(row.errorCount).toBe(0);
    expect(row.lastError).toBeNull();
    expect(row.crmId).toBe(ok.crmId);
  });

  it('dead-letters after maxSyncErrors and puts records back on retryDeadLetters', async () => {
    const user = await newUser('ada@example.com');
    hubspot.failNext(
      2,
      new CrmAuthError('Authentication credentials not found', { status: 401 }),
    );
    await sync.sync(user, { crm: 'hubspot' });
    await sync.sync(user, { crm: 'hubspot' });
    let row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceId: String(user.id),
    });
    expect(row.state).toBe('dead');
    expect(row.errorCount).toBe(2);
    expect(await sync.retryDeadLetters({ crm: 'hubspot' })).toBe(1);
    row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceId: String(user.id),
    });
    expect(row.state).toBe('error');
    expect(row.errorCount).toBe(0);
    expect(await sync.retryDeadLetters({ crm: 'hubspot' })).toBe(0);
  });

  it('never dead-letters a record for the CRM running out of quota, daily included', async () => {
    const user = await newUser('quota@example.com');
    hubspot.failNext(
      3,
      new CrmRateLimitError('You have reached your daily limit.', {
        policy: 'DAILY',
        retryAfterMs: 3_600_000,
      }),
    );
    for (let i = 0; i < 3; i++) {
      expect(await sync.sync(user, { crm: 'hubspot' })).toMatchObject({
        status: 'error',
        retryAfterMs: 3_600_000,
      });
    }
    const row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceId: String(user.id),
    });
    expect(row.state).not.toBe('dead');
    expect(row.errorCount).toBe(0);
    expect(row.lastError).toContain('daily limit');
    expect((await sync.sync(user, { crm: 'hubspot' })).status).toBe('synced');
  });

  it('keeps separate state per CRM on one entity', async () => {
    const user = await newUser('ada@example.com');
    await expect(sync.sync(user)).rejects.toThrow(/2 CRMs .*pass \{ crm \}/);
    const a = await sync.sync(user, { crm: 'hubspot' });
    const b = await sync.sync(user, { crm: 'audit' });
    expect(a.status).toBe('synced');
    expect(b.status).toBe('synced');
    expect(audit.records('people')[0].properties).toEqual({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
    });
    const rows = await states.find({
      where: { resourceId: String(user.id) },
      order: { crmName: 'ASC' },
    });
    expect(rows.map((r) => [r.crmName, r.serializerVersion])).toEqual([
      ['audit', null],
      ['hubspot', 1],
    ]);
    expect(rows[0].lastDigest).not.toBe(rows[1].lastDigest);
  });

  it('creates a new record exactly once under 20 concurrent syncs', async () => {
    const slow = new InMemoryCrmAdapter({ latencyMs: 40, batch: false });
    (app.get(CrmRegistry).getCrm('hubspot') as any).adapter = slow;
    const user = await newUser('race@example.com');
    const copies = await Promise.all(
      Array.from({ length: 20 }, () => users.findOneByOrFail({ id: user.id })),
    );
    const outcomes = await Promise.all(
      copies.map((copy) => sync.sync(copy, { crm: 'hubspot' })),
    );
    const creates = slow.calls.filter(
      (c) => c.method === 'upsert' && !(c.request as any).crmId,
    );
    expect(creates).toHaveLength(1);
    expect(slow.records('contacts')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'synced')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'not_modified')).toHaveLength(
      19,
    );
    expect(new Set(outcomes.map((o) => o.crmId))).toEqual(
      new Set([slow.records('contacts')[0].id]),
    );
  });

  it('does not mark a record synced with an older copy that raced a newer one', async () => {
    const slow = new InMemoryCrmAdapter({ latencyMs: 60, batch: false });
    (app.get(CrmRegistry).getCrm('hubspot') as any).adapter = slow;
    const user = await newUser('old@example.com');
    const stale = await users.findOneByOrFail({ id: user.id });
    await new Promise((r) => setTimeout(r, 1100)); // update timestamps have 1 s resolution on some dialects
    user.firstName = 'Newer';
    await users.save(user);
    const fresh = await users.findOneByOrFail({ id: user.id });
    const [a, b] = await Promise.all([
      sync.sync(fresh, { crm: 'hubspot' }),
      sync.sync(stale, { crm: 'hubspot' }),
    ]);
    expect([a.status, b.status]).toContain('synced');
    expect(slow.records('contacts')).toHaveLength(1);
    expect(slow.records('contacts')[0].properties.firstname).toBe('Newer');
    // The stored digest is the newer payload's: syncing the fresh copy again costs nothing.
    const calls = slow.callCount();
    expect((await sync.sync(fresh, { crm: 'hubspot' })).status).toBe(
      'not_modified',
    );
    expect(slow.callCount()).toBe(calls);
  });

  it('a copy loaded before a newer committed change: sync() sends it, and the next sweep sends the newer data', async () => {
    const user = await newUser('stale@example.com', 'Old');
    const copy = await users.findOneByOrFail({ id: user.id });
    await new Promise((r) => setTimeout(r, 1100)); // update timestamps have 1 s resolution on some dialects
    user.firstName = 'Newer';
    await users.save(user);
    expect((await sync.sync(copy, { crm: 'hubspot' })).status).toBe('synced');
    const mine = () =>
      hubspot
        .records('contacts')
        .filter((r) => r.properties.email === 'stale@example.com');
    expect(mine().map((r) => r.properties.firstname)).toEqual(['Old']);
    // The state says what the sync covered: the copy's own time, before the newer commit.
    const row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceType: 'User',
      resourceId: String(user.id),
    });
    const committed = await users.findOneByOrFail({ id: user.id });
    expect(row.lastSyncedAt!.getTime()).toBeLessThan(
      committed.updatedAt.getTime(),
    );
    await sync.syncStale({ crm: 'hubspot', entities: [User] });
    expect(mine().map((r) => r.properties.firstname)).toEqual(['Newer']);
  });

  it('a copy of a record deleted before its first sync is never created in the CRM', async () => {
    const user = await newUser('gone@example.com');
    const copy = await users.findOneByOrFail({ id: user.id });
    await users.remove(user);
    const outcome = await sync.sync(copy, { crm: 'hubspot' });
    expect(outcome).toEqual({
      crm: 'hubspot',
      status: 'skipped',
      error: `User#${copy.id} not found`,
    });
    expect(
      hubspot
        .records('contacts')
        .filter((r) => r.properties.email === 'gone@example.com'),
    ).toEqual([]);
  });

  it('syncs by id, deletes, and reports unknown records', async () => {
    const user = await newUser('ada@example.com');
    expect(
      (await sync.syncById(User, user.id, { crm: 'hubspot' })).status,
    ).toBe('synced');
    expect(await sync.syncById(User, 999999, { crm: 'hubspot' })).toMatchObject(
      { status: 'skipped' },
    );
    expect(await sync.delete(user, { crm: 'hubspot' })).toEqual({
      crm: 'hubspot',
      status: 'deleted',
    });
    expect(hubspot.records('contacts')).toHaveLength(0);
    expect(
      await states.countBy({ crmName: 'hubspot', resourceId: String(user.id) }),
    ).toBe(0);
    expect(await sync.delete(user, { crm: 'hubspot' })).toEqual({
      crm: 'hubspot',
      status: 'noop',
    });
  });

  it('isolates a record whose serializer throws', async () => {
    const good = await newUser('good@example.com');
    const bad = await newUser('bad@example.com', 'boom');
    const outcome = await sync.sync(bad, { crm: 'hubspot' });
    expect(outcome.status).toBe('error');
    expect(outcome.error).toContain('cannot serialize this user');
    expect((await sync.sync(good, { crm: 'hubspot' })).status).toBe('synced');
    const row = await states.findOneByOrFail({
      crmName: 'hubspot',
      resourceId: String(bad.id),
    });
    expect(row.lastError).toContain('cannot serialize this user');
  });

  it('throws for programming errors', async () => {
    const user = await newUser('ada@example.com');
    await expect(sync.sync(user, { crm: 'salesforce' })).rejects.toThrow(
      /Unknown CRM "salesforce"/,
    );
    await expect(sync.sync({ id: 1 } as any)).rejects.toThrow(
      /not an etlified entity/,
    );
  });
});

describe('disabled CRM', () => {
  it('returns disabled and does no I/O', async () => {
    const db = await createTestDatabase('sqlite');
    const adapter = new InMemoryCrmAdapter();
    const app = await buildApp({
      db,
      entities: [User, Company],
      etlify: {
        crms: [
          { name: 'hubspot', adapter, enabled: false },
          { name: 'audit', adapter: new NullAdapter() },
        ],
        capture: false,
        staleSweep: false,
      },
    });
    await app.init();
    try {
      const users = app.get(DataSource).getRepository(User);
      const user = await users.save(
        users.create({ email: 'a@b.c', firstName: 'A', lastName: 'B' }),
      );
      const sync = app.get(SyncService);
      expect(await sync.sync(user, { crm: 'hubspot' })).toEqual({
        crm: 'hubspot',
        status: 'disabled',
      });
      expect(await sync.delete(user, { crm: 'hubspot' })).toEqual({
        crm: 'hubspot',
        status: 'disabled',
      });
      expect(adapter.callCount()).toBe(0);
      expect(
        await app.get(DataSource).getRepository(CrmSynchronisation).count(),
      ).toBe(0);
      expect(await sync.sync(user, { crm: 'audit' })).toEqual({
        crm: 'audit',
        status: 'synced',
        crmId: 'a@b.c',
      });
    } finally {
      await app.close();
    }
  });
});
