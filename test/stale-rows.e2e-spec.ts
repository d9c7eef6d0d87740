import { INestApplication } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { CrmSynchronisation, SyncService } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { DIALECTS, TestDatabase } from './support/databases';
import { buildStaleApp, staleIds } from './support/stale-app';
import { createSharedTestDatabase } from './support/stale-db';
import { STALE_ENTITIES } from './support/stale-fixtures';
import {
  Customer,
  Employee,
  Firm,
  Member,
  Party,
  STALE_ROW_ENTITIES,
  Vendor,
  WideKey,
} from './support/stale-rows.fixtures';

/** Past 2^53: 992 and 993 are one and the same JS number. */
const WIDE_IDS = [
  '12',
  '9007199254740992',
  '9007199254740993',
  '9007199254740995',
];

describe.each(DIALECTS)(
  'stale finder: rows it must judge right, on %s',
  (dialect) => {
    let db: TestDatabase;
    let app: INestApplication;
    let crm: InMemoryCrmAdapter;
    let sync: SyncService;
    let ds: DataSource;
    let states: Repository<CrmSynchronisation>;

    beforeAll(async () => {
      db = await createSharedTestDatabase(dialect);
    });
    afterAll(async () => {
      await db.drop();
    });

    beforeEach(async () => {
      crm = new InMemoryCrmAdapter();
      app = await buildStaleApp({
        db,
        // The stale fixtures are etlified too (decorators register globally), so they are declared.
        entities: [...STALE_ENTITIES, ...STALE_ROW_ENTITIES],
        etlify: {
          crms: [{ name: 'hubspot', adapter: crm, maxSyncErrors: 3 }],
          capture: false,
          staleSweep: false,
        },
      });
      await app.init();
      sync = app.get(SyncService);
      ds = app.get(DataSource);
      states = ds.getRepository(CrmSynchronisation);
      for (const table of [
        'stale_employees',
        'stale_firms',
        'stale_wide_keys',
        'stale_parties',
        'stale_members',
        'crm_synchronisations',
        'etlify_stale_sweeps',
      ]) {
        await ds.query(
          `DELETE FROM ${dialect === 'postgres' ? `"${(db.options as any).schema}"."${table}"` : ds.driver.escape(table)}`,
        );
      }
    });
    afterEach(async () => {
      await app.close();
    });

    /** Changes made in the second of a sync count as newer (SQLite stores whole seconds): move them back. */
    const settle = (target: Function) =>
      ds
        .createQueryBuilder()
        .update(target)
        .set({ updatedAt: new Date('2020-01-01T00:00:00.000Z') } as any)
        .execute();

    const emails = () =>
      crm
        .records('contacts')
        .map((r) => String(r.properties.email))
        .sort();

    it('leaves soft-deleted rows out of every sweep', async () => {
      const members = ds.getRepository(Member);
      const saved = await members.save(
        ['a', 'b', 'c'].map((n) =>
          members.create({ email: `${n}@members.test`, name: n }),
        ),
      );
      await members.softDelete(saved[1].id);

      const first = await sync.syncStale({ entities: [Member] });
      expect(first).toMatchObject({ total: 2, synced: 2, errors: 0 });
      expect(emails()).toEqual(['a@members.test', 'c@members.test']);
      await settle(Member);
      expect(await staleIds(app, Member)).toEqual([]);
      const again = await sync.syncStale({
        entities: [Member],
        fullScan: true,
      });
      expect(again.total).toBe(0);
      expect(await states.countBy({ resourceType: 'Member' })).toBe(2);
    });

    it('counts only the etlified entity of a single-table hierarchy', async () => {
      await ds.getRepository(Customer).save([
        { email: 'c1@parties.test', name: 'c1' },
        { email: 'c2@parties.test', name: 'c2' },
      ]);
      await ds.getRepository(Vendor).save([
        { email: 'v1@parties.test', name: 'v1' },
        { email: 'v2@parties.test', name: 'v2' },
        { email: 'v3@parties.test', name: 'v3' },
      ]);

      const first = await sync.syncStale({ entities: [Customer] });
      expect(first).toMatchObject({
        total: 2,
        synced: 2,
        perEntity: { Customer: 2 },
      });
      expect(emails()).toEqual(['c1@parties.test', 'c2@parties.test']);
      await settle(Party);
      expect(await staleIds(app, Customer)).toEqual([]);
      const again = await sync.syncStale({
        entities: [Customer],
        fullScan: true,
      });
      expect(again.total).toBe(0);
      const dry = await sync.syncStale({ entities: [Customer], dryRun: true });
      expect(dry.total).toBe(0);
    });

    it('syncs bigint keys past 2^53 exactly, page after page', async () => {
      await ds.getRepository(WideKey).insert(
        WIDE_IDS.map((id) => ({
          id,
          email: `w${id}@wide.test`,
          name: `w${id}`,
        })),
      );
      expect(await staleIds(app, WideKey, { batchSize: 2 })).toEqual(WIDE_IDS);

      const stats = await sync.syncStale({ entities: [WideKey], batchSize: 2 });
      expect(stats).toMatchObject({ total: 4, synced: 4, errors: 0 });
      expect(emails()).toEqual(WIDE_IDS.map((id) => `w${id}@wide.test`).sort());
      const rows = await states.findBy({ resourceType: 'WideKey' });
      expect(rows.map((r) => r.resourceId).sort()).toEqual(
        [...WIDE_IDS].sort(),
      );
      expect(rows.every((r) => r.state === 'synced' && r.crmId)).toBe(true);
      await settle(WideKey);
      const again = await sync.syncStale({
        entities: [WideKey],
        fullScan: true,
        batchSize: 2,
      });
      expect(again.total).toBe(0);
    });

    it('dry run of an entity with syncDependencies predicts exactly what the real run does', async () => {
      const firms = await ds.getRepository(Firm).save([
        { name: 'f1', domain: 'f1.test' },
        { name: 'f2', domain: 'f2.test' },
      ]);
      const employees = ds.getRepository(Employee);
      const saved = await employees.save(
        [0, 1, 2].map((i) =>
          employees.create({
            email: `e${i}@firms.test`,
            name: `e${i}`,
            firm: firms[i % 2],
          }),
        ),
      );
      const first = await sync.syncStale({ entities: [Firm, Employee] });
      expect(first).toMatchObject({ synced: 5, errors: 0 });
      const firmIds = crm.records('companies').map((r) => r.id);
      expect(
        crm
          .records('contacts')
          .every((r) => firmIds.includes(String(r.properties.firm_crm_id))),
      ).toBe(true);

      // Touched with the same payload, renamed, and a new employee of a firm not in the CRM yet.
      const later = new Date(Date.now() + 2_000);
      await employees.update(saved[0].id, { updatedAt: later } as any);
      await employees.update(saved[1].id, { updatedAt: later } as any);
      await employees.update(saved[2].id, {
        name: 'renamed',
        updatedAt: later,
      });
      const firm3 = await ds
        .getRepository(Firm)
        .save({ name: 'f3', domain: 'f3.test' });
      await employees.save({ email: 'e3@firms.test', name: 'e3', firm: firm3 });
      const before = await states.find({ order: { id: 'ASC' } });
      const calls = crm.callCount();

      const dry = await sync.syncStale({ entities: [Employee], dryRun: true });
      expect(crm.callCount()).toBe(calls);
      expect(await states.find({ order: { id: 'ASC' } })).toEqual(before);
      expect(dry).toMatchObject({
        total: 4,
        notModified: 2,
        wouldUpdate: 1,
        wouldCreate: 1,
        errors: 0,
      });

      const real = await sync.syncStale({ entities: [Employee] });
      expect(real).toMatchObject({
        total: 4,
        notModified: 2,
        updated: 1,
        created: 1,
        errors: 0,
      });
    });

    it('stamps only rows the sweep verified: a row in error keeps its time and count', async () => {
      const members = ds.getRepository(Member);
      const [member] = await members.save([
        members.create({ email: 'e@members.test', name: 'same' }),
      ]);
      await sync.syncStale({ entities: [Member] });
      // A later attempt failed; the record is back to the payload the CRM has.
      const failedAt = new Date('2021-02-03T04:05:06.000Z');
      await states.update(
        { resourceType: 'Member', resourceId: String(member.id) },
        { state: 'error', errorCount: 1, lastSyncedAt: failedAt },
      );
      const stats = await sync.syncStale({
        entities: [Member],
        fullScan: true,
      });
      expect(stats).toMatchObject({ total: 1, notModified: 1 });
      const row = await states.findOneByOrFail({ resourceType: 'Member' });
      expect(row).toMatchObject({ state: 'error', errorCount: 1 });
      expect(row.lastSyncedAt!.getTime()).toBe(failedAt.getTime());
    });

    it('pipelined backfill: every record once, progress after each page, bad concurrency refused', async () => {
      const members = ds.getRepository(Member);
      await members.insert(
        Array.from({ length: 250 }, (_, i) => ({
          email: `p${i}@pipeline.test`,
          name: `p${i}`,
        })),
      );
      const progress: number[] = [];
      const stats = await sync.syncStale({
        entities: [Member],
        batchSize: 120,
        concurrency: 3,
        onProgress: (p) => progress.push(p.processed),
      });
      expect(stats).toMatchObject({ total: 250, synced: 250, created: 250 });
      expect(progress).toHaveLength(3);
      expect(progress[progress.length - 1]).toBe(250);
      expect(new Set(emails()).size).toBe(250);
      expect(
        await states.countBy({ resourceType: 'Member', state: 'synced' }),
      ).toBe(250);
      await expect(
        sync.syncStale({ entities: [Member], concurrency: 0 }),
      ).rejects.toThrow(
        'syncStale: concurrency must be a positive integer, got 0',
      );
    });
  },
);
