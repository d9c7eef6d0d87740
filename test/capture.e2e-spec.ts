import { DataSource } from 'typeorm';
import { EtlifyEntitySubscriber } from '../lib/capture/etlify-entity.subscriber';
import { CaptureApp, startCaptureApp } from './support/capture-app';
import { CapCompany, CapLead } from './support/capture.fixtures';
import { createTestDatabase, Dialect, TestDatabase } from './support/databases';

const DIALECTS: Dialect[] = ['postgres', 'sqlite', 'mariadb'];

describe.each(DIALECTS)('after-commit capture, inline, on %s', (dialect) => {
  let db: TestDatabase;
  let t: CaptureApp;

  beforeEach(async () => {
    db = await createTestDatabase(dialect);
    t = await startCaptureApp(db);
  });
  afterEach(async () => {
    await t?.app.close();
    await db.drop();
  });

  const companies = () => t.crm.records('companies');

  it('registers one subscriber on the DataSource', () => {
    const ds = t.app.get(DataSource);
    expect(
      ds.subscribers.filter((s) => s instanceof EtlifyEntitySubscriber),
    ).toHaveLength(1);
  });

  it('syncs nothing before COMMIT and once after it', async () => {
    await t.ds.transaction(async (manager) => {
      await manager.save(manager.create(CapCompany, { name: 'Acme' }));
      await manager.save(manager.create(CapCompany, { name: 'Globex' }));
      // Whatever was captured so far has been handled: nothing may have left yet.
      await t.sync.idle();
      expect(t.crm.callCount()).toBe(0);
      expect(await t.states.count()).toBe(0);
    });
    await t.sync.idle();
    expect(
      companies()
        .map((c) => c.properties.name)
        .sort(),
    ).toEqual(['Acme', 'Globex']);
    // Two records changed in one transaction: one bulk call.
    expect(t.crm.callCount()).toBe(1);
    const rows = await t.states.find();
    expect(rows.map((r) => r.state)).toEqual(['synced', 'synced']);
  });

  it('drops the changes of a rolled-back transaction', async () => {
    await expect(
      t.ds.transaction(async (manager) => {
        await manager.save(manager.create(CapCompany, { name: 'Ghost' }));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await t.sync.idle();
    expect(t.crm.callCount()).toBe(0);
    expect(await t.states.count()).toBe(0);
    // The next transaction on the same connection starts clean.
    await t.ds.getRepository(CapCompany).save({ name: 'Real' });
    await t.sync.idle();
    expect(companies().map((c) => c.properties.name)).toEqual(['Real']);
  });

  it('waits for the outermost commit; a rolled-back savepoint loses only its own changes', async () => {
    let inside = -1;
    await t.ds.transaction(async (outer) => {
      await outer.save(outer.create(CapCompany, { name: 'Outer' }));
      await outer.transaction(async (inner) => {
        await inner.save(inner.create(CapCompany, { name: 'Released' }));
      });
      await expect(
        outer.transaction(async (inner) => {
          await inner.save(inner.create(CapCompany, { name: 'RolledBack' }));
          throw new Error('inner abort');
        }),
      ).rejects.toThrow('inner abort');
      await t.sync.idle();
      inside = t.crm.callCount();
    });
    expect(inside).toBe(0);
    await t.sync.idle();
    expect(
      companies()
        .map((c) => c.properties.name)
        .sort(),
    ).toEqual(['Outer', 'Released']);
    expect(t.crm.callCount()).toBe(1);
  });

  it('syncs a plain save, then its update, with the committed payload', async () => {
    const repo = t.ds.getRepository(CapCompany);
    const acme = await repo.save(repo.create({ name: 'Acme' }));
    await t.sync.idle();
    expect(companies()).toEqual([
      expect.objectContaining({
        properties: { name: 'Acme', deal_total: 0 },
      }),
    ]);
    acme.name = 'Acme Inc';
    await repo.save(acme);
    await t.sync.idle();
    expect(companies()).toHaveLength(1);
    expect(companies()[0].properties.name).toBe('Acme Inc');
    const row = await t.state('CapCompany', acme.id);
    expect(row?.crmId).toBe(companies()[0].id);
  });

  it('leaves the last of a burst of saves in the CRM', async () => {
    const repo = t.ds.getRepository(CapCompany);
    const acme = await repo.save(repo.create({ name: 'v0' }));
    for (let i = 1; i < 20; i++) {
      acme.name = `v${i}`;
      await repo.save(acme);
    }
    await t.sync.idle();
    expect(companies()).toHaveLength(1);
    expect(companies()[0].properties.name).toBe('v19');
    const row = await t.state('CapCompany', acme.id);
    expect(row?.crmId).toBe(companies()[0].id);
  });

  it('syncs a save made outside any transaction ({ transaction: false })', async () => {
    const repo = t.ds.getRepository(CapLead);
    await repo.save(repo.create({ email: 'lead@example.com' }), {
      transaction: false,
    });
    await t.sync.idle();
    expect(t.crm.records('leads')).toEqual([
      expect.objectContaining({
        properties: { email: 'lead@example.com' },
      }),
    ]);
  });

  it('ignores writes that bypass entity events (left to the stale sweeper)', async () => {
    const repo = t.ds.getRepository(CapCompany);
    const acme = await repo.save(repo.create({ name: 'Acme' }));
    await t.sync.idle();
    const calls = t.crm.callCount();
    await repo.update(acme.id, { name: 'Renamed' });
    await t.sync.idle();
    expect(t.crm.callCount()).toBe(calls);
    expect(companies()[0].properties.name).toBe('Acme');
  });

  it('never throws into save() when the CRM fails; the failure is on the state row', async () => {
    t.crm.failNext(1);
    const repo = t.ds.getRepository(CapCompany);
    const acme = await repo.save(repo.create({ name: 'Acme' }));
    await t.sync.idle();
    const row = await t.state('CapCompany', acme.id);
    expect(row?.state).toBe('error');
    expect(row?.lastError).toMatch(/Internal error/);
    expect(companies()).toHaveLength(0);
  });
});
