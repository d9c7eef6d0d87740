import { INestApplication } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import {
  CrmSynchronisation,
  EtlifyConfigurationError,
  EtlifyStaleSweep,
  SyncService,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { DIALECTS, TestDatabase } from './support/databases';
import { createSharedTestDatabase } from './support/stale-db';
import {
  backdate,
  buildStaleApp,
  clearStaleTables,
  staleIds,
} from './support/stale-app';
import {
  Account,
  AccountSerializer,
  Deal,
  Group,
  Ledger,
  Owner,
  Passport,
  Profile,
  STALE_ENTITIES,
  Tag,
} from './support/stale-fixtures';

const CHANGED = new Date('2020-01-01T00:00:00.000Z');
const SYNCED = new Date('2020-06-01T00:00:00.000Z');
const MARK = new Date('2021-01-01T00:00:00.000Z');

const sorted = (ids: Array<string | number>) =>
  ids.map(String).sort((a, b) => Number(a) - Number(b));

describe.each(DIALECTS)('stale-record finder on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let crm: InMemoryCrmAdapter;
  let sync: SyncService;
  let ds: DataSource;
  let accounts: Repository<Account>;
  let states: Repository<CrmSynchronisation>;

  beforeAll(async () => {
    db = await createSharedTestDatabase(dialect);
  });
  afterAll(async () => {
    await db.drop();
  });

  const boot = async (keepCrm = false) => {
    if (!keepCrm) crm = new InMemoryCrmAdapter();
    app = await buildStaleApp({
      db,
      etlify: {
        crms: [{ name: 'hubspot', adapter: crm, maxSyncErrors: 2 }],
        capture: false,
        staleSweep: false,
      },
    });
    await app.init();
    sync = app.get(SyncService);
    ds = app.get(DataSource);
    accounts = ds.getRepository(Account);
    states = ds.getRepository(CrmSynchronisation);
  };

  beforeEach(async () => {
    AccountSerializer.currentVersion = 1;
    await boot();
    await clearStaleTables(ds);
  });
  afterEach(async () => {
    await app.close();
  });

  /** `n` accounts, each with one related row of every kind. */
  async function seed(n: number) {
    const created: Array<{
      account: Account;
      owner: Owner;
      profile: Profile;
      passport: Passport;
      deal: Deal;
      tag: Tag;
      group: Group;
    }> = [];
    for (let i = 0; i < n; i++) {
      const owner = await ds.getRepository(Owner).save({ name: `o${i}` });
      const profile = await ds.getRepository(Profile).save({ name: `p${i}` });
      const tag = await ds.getRepository(Tag).save({ name: `t${i}` });
      const account = await accounts.save(
        accounts.create({
          email: `a${i}@example.com`,
          name: `a${i}`,
          owner,
          profile,
          tags: [tag],
        }),
      );
      const passport = await ds
        .getRepository(Passport)
        .save({ name: `pp${i}`, account });
      const deal = await ds
        .getRepository(Deal)
        .save({ name: `d${i}`, account });
      const group = await ds
        .getRepository(Group)
        .save({ name: `g${i}`, members: [account] });
      created.push({ account, owner, profile, passport, deal, tag, group });
    }
    return created;
  }

  const rename = async (target: Function, id: number, name: string) => {
    const repo = ds.getRepository(target);
    const row: any = await repo.findOneByOrFail({ id });
    row.name = name;
    await repo.save(row);
  };

  it('finds each cause of staleness, and nothing else, in full and incremental scans', async () => {
    const rows = await seed(15);
    const first = await sync.syncStale();
    expect(first.total).toBe(15);
    expect(first.synced).toBe(15);
    const id = (i: number) => rows[i].account.id;
    // Skipped (syncIf false) before the clocks are set back.
    await accounts.update(id(11), { name: 'skip-me' });
    await accounts.update(id(12), { name: 'skip-me' });
    expect((await sync.syncStale()).skipped).toBe(2);
    await states.update(
      { resourceType: 'Account', resourceId: String(id(13)) },
      { state: 'dead', errorCount: 2 },
    );
    await backdate(ds, { changed: CHANGED, synced: SYNCED });
    expect(await staleIds(app, Account)).toEqual([]);
    expect(await staleIds(app, Account, { since: MARK })).toEqual([]);

    await rename(Account, id(1), 'renamed'); // own update time
    await rename(Owner, rows[2].owner.id, 'o-new'); // many-to-one
    await rename(Profile, rows[3].profile.id, 'p-new'); // one-to-one (owner side)
    await rename(Passport, rows[4].passport.id, 'pp-new'); // one-to-one (inverse side)
    await rename(Deal, rows[5].deal.id, 'd-new'); // one-to-many
    await rename(Tag, rows[6].tag.id, 't-new'); // many-to-many (owning side)
    await rename(Group, rows[7].group.id, 'g-new'); // many-to-many (inverse side)
    await states.update(
      { resourceType: 'Account', resourceId: String(id(8)) },
      { state: 'error', errorCount: 1, updatedAt: new Date() },
    ); // a failed sync to retry
    await rename(Account, id(12), 'skip-me-changed'); // skipped, then changed
    await rename(Account, id(13), 'dead-but-changed'); // dead: never returned
    const fresh = await accounts.save({ email: 'new@example.com', name: 'n' }); // no state row
    await states.update(
      { resourceType: 'Account', resourceId: String(id(9)) },
      { lastSyncedAt: null, state: 'pending', updatedAt: new Date() },
    ); // state row never synced

    const expected = sorted([
      id(1),
      id(2),
      id(3),
      id(4),
      id(5),
      id(6),
      id(7),
      id(8),
      id(9),
      id(12),
      fresh.id,
    ]);
    expect(sorted(await staleIds(app, Account))).toEqual(expected);
    expect(sorted(await staleIds(app, Account, { since: MARK }))).toEqual(
      expected,
    );
    // Rows only a full scan sees: a state row deleted behind the library's back, an older version.
    await states.delete({
      resourceType: 'Account',
      resourceId: String(id(10)),
    });
    await states.update(
      { resourceType: 'Account', resourceId: String(id(14)) },
      { serializerVersion: 0 },
    );
    expect(sorted(await staleIds(app, Account))).toEqual(
      sorted([...expected, id(10), id(14)]),
    );
    expect(await staleIds(app, Ledger)).toEqual([]);
  });

  it('incremental sweep from the stored mark finds the same ids as a full scan (random changes)', async () => {
    const rows = await seed(12);
    await sync.syncStale();
    await backdate(ds, { changed: CHANGED, synced: SYNCED });
    await ds.getRepository(EtlifyStaleSweep).save({
      sweepKey: 'hubspot:Account',
      highWaterMark: MARK,
      serializerVersion: 1,
      fullScanAt: new Date(),
    });
    let seed32 = dialect.length * 7919;
    const random = (n: number) => {
      seed32 = (seed32 * 1103515245 + 12345) % 2147483648;
      return seed32 % n;
    };
    const operations: Array<(i: number) => Promise<unknown>> = [
      (i) => rename(Account, rows[i].account.id, `r${i}`),
      (i) => accounts.update(rows[i].account.id, { name: `u${i}` }),
      (i) => rename(Owner, rows[i].owner.id, `o${i}x`),
      (i) => rename(Profile, rows[i].profile.id, `p${i}x`),
      (i) => rename(Passport, rows[i].passport.id, `pp${i}x`),
      (i) => rename(Tag, rows[i].tag.id, `t${i}x`),
      (i) => rename(Group, rows[i].group.id, `g${i}x`),
      (i) =>
        ds
          .getRepository(Deal)
          .save({ name: `new-deal-${i}`, account: rows[i].account }),
      (i) =>
        states.update(
          { resourceType: 'Account', resourceId: String(rows[i].account.id) },
          { state: 'error', errorCount: 1 },
        ),
      (i) => accounts.save({ email: `extra${i}@example.com`, name: `e${i}` }),
    ];
    for (let k = 0; k < 10; k++)
      await operations[random(operations.length)](random(12));

    const full = sorted(await staleIds(app, Account));
    expect(full.length).toBeGreaterThan(0);
    expect(sorted(await staleIds(app, Account, { since: MARK }))).toEqual(full);
    const stats = await sync.syncStale({ entities: [Account] });
    expect(stats.details![0]).toMatchObject({
      scan: 'incremental',
      found: full.length,
    });
  });

  it('finds a repository.update() that fired no subscriber, even in the second of the sync', async () => {
    const rows = await seed(3);
    await sync.syncStale();
    await backdate(ds, { changed: CHANGED, synced: SYNCED });
    // As if synced just now; MariaDB and SQLite store CURRENT_TIMESTAMP to the whole second.
    await states.update(
      { resourceType: 'Account' },
      { lastSyncedAt: new Date() },
    );
    await accounts.update(rows[1].account.id, { name: 'quiet' });
    expect(await staleIds(app, Account)).toEqual([String(rows[1].account.id)]);
    const stats = await sync.syncStale();
    expect(stats).toMatchObject({
      total: 1,
      synced: 1,
      updated: 1,
      perEntity: { Account: 1, Ledger: 0 },
    });
    expect(
      crm.records('contacts').find((r) => r.properties.name === 'quiet'),
    ).toBeDefined();
  });

  it('resyncs the parent when a dependency changes through each relation kind', async () => {
    const rows = await seed(1);
    await sync.syncStale();
    const account = rows[0].account;
    const changes: Array<[Function, number, string]> = [
      [Owner, rows[0].owner.id, 'owner'],
      [Profile, rows[0].profile.id, 'profile'],
      [Passport, rows[0].passport.id, 'passport'],
      [Deal, rows[0].deal.id, 'deals'],
      [Tag, rows[0].tag.id, 'tags'],
      [Group, rows[0].group.id, 'groups'],
    ];
    for (const [target, relatedId, property] of changes) {
      await backdate(ds, { changed: CHANGED, synced: SYNCED });
      expect(await staleIds(app, Account)).toEqual([]);
      await rename(target, relatedId, `${property}-changed`);
      const stats = await sync.syncStale();
      expect({ property, total: stats.total, synced: stats.synced }).toEqual({
        property,
        total: 1,
        synced: 1,
      });
      const record = crm
        .records('contacts')
        .find((r) => r.properties.email === account.email)!;
      expect(record.properties[property]).toBe(`${property}-changed`);
    }
  });

  it('re-syncs only the entity whose serializer version was bumped', async () => {
    await seed(3);
    await ds.getRepository(Ledger).save([
      { email: 'l1@example.com', name: 'l1' },
      { email: 'l2@example.com', name: 'l2' },
    ]);
    await sync.syncStale();
    await backdate(ds, { changed: CHANGED, synced: SYNCED });
    await app.close();
    AccountSerializer.currentVersion = 2;
    await boot(true);
    const calls = crm.callCount();
    const stats = await sync.syncStale();
    expect(stats.perEntity).toEqual({ Account: 3, Ledger: 0 });
    expect(stats.synced).toBe(3);
    expect(stats.details!.find((d) => d.entity === 'Account')!.scan).toBe(
      'full',
    );
    expect(crm.callCount()).toBeGreaterThan(calls);
    const account = await states.findOneByOrFail({ resourceType: 'Account' });
    expect(account.serializerVersion).toBe(2);
    expect(await staleIds(app, Account)).toEqual([]);
  });

  it('pages by primary key: every id exactly once while rows are inserted during the scan', async () => {
    const initial = await accounts.save(
      Array.from({ length: 10 }, (_, i) =>
        accounts.create({ email: `k${i}@example.com`, name: `k${i}` }),
      ),
    );
    const config = app.get(SyncService).selectConfigs({
      entities: [Account],
    })[0];
    const finder = app.get(
      (await import('../lib/stale/stale-record.finder')).StaleRecordFinder,
    );
    const seen: string[] = [];
    const inserted: Account[] = [];
    let page = 0;
    for await (const ids of finder.pages(config, { batchSize: 3 })) {
      seen.push(...ids);
      if (page++ < 2) {
        inserted.push(
          await accounts.save({ email: `x${page}@example.com`, name: 'x' }),
        );
      }
    }
    expect(seen).toEqual(sorted(seen));
    expect(new Set(seen).size).toBe(seen.length);
    expect(sorted(seen)).toEqual(
      sorted([...initial, ...inserted].map((a) => a.id)),
    );
  });

  it('compares timestamps at their stored precision', async () => {
    const [row] = await seed(1);
    await sync.syncStale();
    const id = row.account.id;
    const at = (iso: string) => new Date(iso);
    const setTimes = async (changed: Date, synced: Date) => {
      await backdate(ds, { changed: CHANGED, synced: SYNCED });
      await accounts.update(id, { updatedAt: changed } as any);
      await states.update(
        { resourceType: 'Account', resourceId: String(id) },
        { lastSyncedAt: synced },
      );
    };
    const isStale = async () =>
      (await staleIds(app, Account)).includes(String(id));
    const synced = at('2022-03-04T05:06:07.250Z');
    await setTimes(at('2022-03-04T05:06:07.250Z'), synced);
    expect(await isStale()).toBe(false); // same instant
    await setTimes(at('2022-03-04T05:06:07.251Z'), synced);
    expect(await isStale()).toBe(true); // 1 ms later
    await setTimes(at('2022-03-04T05:06:07.249Z'), synced);
    expect(await isStale()).toBe(false); // 1 ms earlier
    await setTimes(at('2022-03-04T05:06:07.000Z'), synced);
    expect(await isStale()).toBe(true); // whole second: may hide a later change in that second
    await setTimes(at('2022-03-04T05:06:06.000Z'), synced);
    expect(await isStale()).toBe(false); // whole second before the sync's second
    if (dialect !== 'sqlite') {
      // One microsecond after the sync (PostgreSQL timestamp, MariaDB datetime(6)).
      await setTimes(at('2022-03-04T05:06:07.250Z'), synced);
      const table =
        dialect === 'postgres'
          ? `"${(db.options as any).schema}"."stale_accounts"`
          : '`stale_accounts`';
      await ds.query(
        dialect === 'postgres'
          ? `UPDATE ${table} SET updated_at = updated_at + interval '1 microsecond' WHERE id = $1`
          : `UPDATE ${table} SET updated_at = updated_at + INTERVAL 1 MICROSECOND WHERE id = ?`,
        [id],
      );
      expect(await isStale()).toBe(true);
    }
  });

  it('dry run: counts what would happen, writes nothing, and matches the real run', async () => {
    const rows = await seed(8);
    await sync.syncStale();
    await backdate(ds, { changed: CHANGED, synced: SYNCED });
    await rename(Account, rows[0].account.id, 'changed-0'); // update
    await rename(Account, rows[1].account.id, 'changed-1'); // update
    await accounts.update(rows[2].account.id, { updatedAt: new Date() } as any); // touched, same payload
    await rename(Account, rows[3].account.id, 'skip-me'); // skipped
    await accounts.save({ email: 'n1@example.com', name: 'n1' }); // create
    await accounts.save({ email: 'n2@example.com', name: 'n2' }); // create
    await accounts.save({ email: 'n3@example.com', name: 'n3' }); // create
    const stateBefore = await states.find({ order: { id: 'ASC' } });
    const calls = crm.callCount();

    const dry = await sync.syncStale({ dryRun: true });
    expect(crm.callCount()).toBe(calls);
    expect(await states.find({ order: { id: 'ASC' } })).toEqual(stateBefore);
    expect(dry).toMatchObject({
      total: 7,
      wouldCreate: 3,
      wouldUpdate: 2,
      notModified: 1,
      skipped: 1,
      synced: 0,
      errors: 0,
    });

    const real = await sync.syncStale();
    expect(real).toMatchObject({
      total: 7,
      created: 3,
      updated: 2,
      notModified: 1,
      skipped: 1,
      synced: 5,
      errors: 0,
    });
  });

  it('sweeps incrementally from the stored mark, with full scans on demand', async () => {
    await seed(2);
    const first = await sync.syncStale();
    expect(first.details!.map((d) => d.scan)).toEqual(['full', 'full']);
    await backdate(ds, { changed: CHANGED, synced: SYNCED });
    const second = await sync.syncStale();
    expect(second.details!.map((d) => d.scan)).toEqual([
      'incremental',
      'incremental',
    ]);
    expect(second.total).toBe(0);
    const forced = await sync.syncStale({ fullScan: true });
    expect(forced.details!.map((d) => d.scan)).toEqual(['full', 'full']);
    const dry = await sync.syncStale({ dryRun: true, entities: ['Ledger'] });
    expect(dry.details!.map((d) => d.scan)).toEqual(['incremental']);
  });

  it('fails the boot when an etlified entity has no update timestamp', async () => {
    if (dialect !== 'sqlite') return;
    const { Entity, PrimaryGeneratedColumn, Column } = await import('typeorm');
    const { EtlifiedEntity } = await import('nestjs-etlify');
    class TimelessSerializer {
      toCrmPayload() {
        return { name: 'x' };
      }
    }
    @Entity('stale_timeless')
    @EtlifiedEntity({
      crm: 'hubspot',
      serializer: TimelessSerializer,
      crmObjectType: 'deals',
    })
    class Timeless {
      @PrimaryGeneratedColumn() id!: number;
      @Column({ type: 'varchar', nullable: true }) name!: string;
    }
    const broken = await buildStaleApp({
      db,
      entities: [...STALE_ENTITIES, Timeless],
      etlify: {
        crms: [{ name: 'hubspot', adapter: new InMemoryCrmAdapter() }],
        capture: false,
        staleSweep: false,
      },
    });
    const error = await broken.init().then(
      () => null,
      (e: Error) => e,
    );
    await broken.close().catch(() => undefined);
    const brokenDs = broken.get(DataSource);
    if (brokenDs.isInitialized) await brokenDs.destroy();
    expect(error).toBeInstanceOf(EtlifyConfigurationError);
    expect(error!.message).toMatch(
      /@EtlifiedEntity on Timeless \(CRM "hubspot"\): the stale-record finder needs the record's update time; add an @UpdateDateColumn\(\) to Timeless or name a timestamp column with updatedAtColumn/,
    );
  });
});
