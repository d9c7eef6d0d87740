import { INestApplication, Injectable } from '@nestjs/common';
import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  Repository,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmNotFoundError,
  CrmPayload,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifySerializer,
  HubspotAdapter,
  StaleSweeper,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { buildApp } from './support/app';
import {
  createTestDatabase,
  DIALECTS,
  TestDatabase,
} from './support/databases';
import { HeldHubspotAdapter } from './support/held-hubspot.adapter';
import { waitFor } from './support/queue-worker';

@Injectable()
class RaceContactSerializer implements EtlifySerializer<RaceContact> {
  toCrmPayload(contact: RaceContact): CrmPayload {
    return { email: contact.email, firstname: contact.name };
  }
}

@Entity('race_contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: RaceContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
class RaceContact {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  email!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

const TOKEN = 'race-token';
const YEARLY = '0 0 1 1 *';

/**
 * Deletes against the HubSpot sandbox over HTTP, without a queue: a delete wins over a sync in
 * flight whatever order they land in, leaves a tombstone until the CRM delete is settled, and
 * failed deletes are retried by the stale sweeper and retryDeadLetters().
 */
describe.each(DIALECTS)('deletes that win, on %s', (dialect) => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let adapter: HeldHubspotAdapter;
  let app: INestApplication;
  let sync: SyncService;
  let contacts: Repository<RaceContact>;
  let states: Repository<CrmSynchronisation>;
  let baseUrl: string;

  beforeEach(async () => {
    db = await createTestDatabase(dialect);
    sandbox = new HubspotSandbox({ accessToken: TOKEN, seed: 11 });
    ({ baseUrl } = await sandbox.start());
    adapter = new HeldHubspotAdapter({
      accessToken: TOKEN,
      baseUrl,
      maxRetries: 0,
    });
    app = await buildApp({
      db,
      entities: [RaceContact],
      providers: [RaceContactSerializer],
      etlify: {
        crms: [{ name: 'hubspot', adapter, maxSyncErrors: 2 }],
        capture: false,
        staleSweep: { cron: YEARLY, batchSize: 100 },
      },
    });
    await app.init();
    sync = app.get(SyncService);
    const ds = app.get(DataSource);
    contacts = ds.getRepository(RaceContact);
    states = ds.getRepository(CrmSynchronisation);
  });

  afterEach(async () => {
    await app.close();
    await sandbox.stop();
    await db.drop();
  });

  const stateOf = (contact: RaceContact) =>
    states.findOneBy({
      resourceType: 'RaceContact',
      resourceId: String(contact.id),
    });
  const live = () => sandbox.records('contacts');
  const save = (email: string, name = 'Ada') =>
    contacts.save(contacts.create({ email, name }));

  it('a delete landing while the first sync is creating the record deletes what that create wrote', async () => {
    const contact = await save('ada@example.com');
    const hold = adapter.hold('after');
    const syncing = sync.sync(contact);
    await hold.entered; // the contact exists in HubSpot; the sync has not heard back yet
    expect(live()).toHaveLength(1);

    await contacts.delete(contact.id);
    const deleting = sync.delete(contact);
    try {
      // The delete marks the state row as a tombstone, then waits for the sync's lease.
      await waitFor(
        'the tombstone',
        async () => (await stateOf(contact))?.state === 'deleting',
        5_000,
      );
    } finally {
      hold.release();
    }
    await syncing;
    expect(await deleting).toMatchObject({ status: 'deleted' });
    expect(live()).toHaveLength(0);
    expect(await stateOf(contact)).toBeNull();
  });

  it('a sync that lands after the tombstone never pushes, and the delete still wins', async () => {
    const contact = await save('bob@example.com', 'Bob');
    const crmId = (await sync.sync(contact)).crmId!;
    // The CRM delete fails: the tombstone stays with the CRM id.
    sandbox.injectFault({ kind: '500', path: /\/contacts\//, times: 1 });
    await expect(sync.delete(contact)).rejects.toThrow();
    expect(await stateOf(contact)).toMatchObject({ state: 'deleting', crmId });

    contact.name = 'Bob again';
    await contacts.save(contact);
    const calls = sandbox.requests.length;
    expect(await sync.sync(contact)).toMatchObject({ status: 'skipped' });
    // No call at all: no write, no read.
    expect(sandbox.requests.length).toBe(calls);
    expect(sandbox.record('contacts', crmId)?.properties.firstname).toBe('Bob');

    expect(await sync.delete(contact)).toMatchObject({ status: 'deleted' });
    expect(live()).toHaveLength(0);
    expect(await stateOf(contact)).toBeNull();
  });

  it('a sync whose record was deleted during its call does not write it again on the 404', async () => {
    const contact = await save('cy@example.com', 'Cy');
    const crmId = (await sync.sync(contact)).crmId!;
    contact.name = 'Cy 2';
    await contacts.save(contact);
    const hold = adapter.hold('before');
    const syncing = sync.sync(contact);
    await hold.entered; // leased, PATCH not sent yet
    // Meanwhile the record's delete completed (as when the sync's lease had lapsed).
    await new HubspotAdapter({ accessToken: TOKEN, baseUrl }).delete({
      objectType: 'contacts',
      crmId,
    });
    await contacts.delete(contact.id);
    await states.delete({ resourceType: 'RaceContact' });
    hold.release();

    expect(await syncing).toMatchObject({ status: 'error' });
    expect(live()).toHaveLength(0);
  });

  it('failed deletes are retried by the stale sweeper, in batches, until the CRM has none', async () => {
    const saved: RaceContact[] = [];
    for (let i = 0; i < 10; i++) saved.push(await save(`r${i}@example.com`));
    for (const contact of saved) await sync.sync(contact);
    expect(live()).toHaveLength(10);

    sandbox.injectFault({ kind: '503', path: /\/contacts\//, times: 10 });
    await contacts.delete(saved.map((c) => c.id));
    for (const contact of saved)
      await expect(sync.delete(contact)).rejects.toThrow();
    expect(await states.countBy({ state: 'deleting' })).toBe(10);
    expect(live()).toHaveLength(10);

    const archives = () =>
      sandbox.requests.filter((r) => r.path.endsWith('/batch/archive')).length;
    await app.get(StaleSweeper).runOnce({ async: false });
    expect(live()).toHaveLength(0);
    expect(await states.count()).toBe(0);
    expect(archives()).toBe(1);
    expect(sandbox.callCount({ method: 'DELETE' })).toBe(0);
  });

  it('a batch of retried deletes never archives a merged record another row still mirrors', async () => {
    const [a, b, c] = [
      await save('ma@example.com', 'A'),
      await save('mb@example.com', 'B'),
      await save('mc@example.com', 'C'),
    ];
    const idA = (await sync.sync(a)).crmId!;
    const idB = (await sync.sync(b)).crmId!;
    const idC = (await sync.sync(c)).crmId!;
    const merged = sandbox.merge('contacts', idA, idB);
    a.name = 'A merged';
    await contacts.save(a);
    expect(await sync.sync(a)).toMatchObject({ crmId: merged });
    // B has not synced since the merge: its row still holds the old id.
    expect((await stateOf(b))?.crmId).toBe(idB);

    sandbox.injectFault({ kind: '500', path: /\/contacts\//, times: 2 });
    await contacts.delete([a.id, c.id]);
    await expect(sync.delete(a)).rejects.toThrow();
    await expect(sync.delete(c)).rejects.toThrow();

    await app.get(StaleSweeper).runOnce({ async: false });
    expect(sandbox.record('contacts', merged)?.archived).toBeFalsy();
    expect(sandbox.record('contacts', idC)?.archived).toBe(true);
    expect(await states.countBy({ state: 'deleting' })).toBe(0);
    expect(
      sandbox.requests.filter((r) => r.path.endsWith('/batch/archive')),
    ).toHaveLength(1);
  });

  it('retryDeadLetters() revives dead-lettered deletes and retries them', async () => {
    const contact = await save('dee@example.com', 'Dee');
    const crmId = (await sync.sync(contact)).crmId!;
    await contacts.delete(contact.id);
    sandbox.injectFault({ kind: '500', path: /\/contacts\//, times: 2 });
    await expect(sync.delete(contact)).rejects.toThrow();
    await expect(sync.delete(contact)).rejects.toThrow();
    // Two counted failures (maxSyncErrors 2): dead-lettered; the sweeper leaves it alone.
    expect(await stateOf(contact)).toMatchObject({
      state: 'deleting',
      errorCount: 2,
      crmId,
    });
    await app.get(StaleSweeper).runOnce({ async: false });
    expect(sandbox.record('contacts', crmId)?.archived).toBeFalsy();

    expect(await sync.retryDeadLetters()).toBe(1);
    expect(sandbox.record('contacts', crmId)?.archived).toBe(true);
    expect(await stateOf(contact)).toBeNull();
  });
});

/** The adapter side of "never re-create a record deleted locally", on both write paths. */
describe('HubspotAdapter: mayRecreate on a 404', () => {
  let sandbox: HubspotSandbox;
  let adapter: HubspotAdapter;

  beforeEach(async () => {
    sandbox = new HubspotSandbox({ accessToken: TOKEN, seed: 12 });
    const { baseUrl } = await sandbox.start();
    adapter = new HubspotAdapter({ accessToken: TOKEN, baseUrl });
  });
  afterEach(async () => {
    adapter.close();
    await sandbox.stop();
  });

  async function archived(email: string): Promise<string> {
    const crmId = await adapter.upsert({
      objectType: 'contacts',
      payload: { email },
      idProperty: 'email',
    });
    await adapter.delete({ objectType: 'contacts', crmId });
    return crmId;
  }

  it('upsert: throws CrmNotFoundError instead of writing the record again', async () => {
    const crmId = await archived('gone@example.com');
    await expect(
      adapter.upsert({
        objectType: 'contacts',
        payload: { email: 'gone@example.com', firstname: 'Gone' },
        idProperty: 'email',
        crmId,
        mayRecreate: async () => false,
      }),
    ).rejects.toBeInstanceOf(CrmNotFoundError);
    expect(sandbox.records('contacts')).toHaveLength(0);
  });

  it('batchUpsert: the record deleted locally fails alone; the one still wanted is written again', async () => {
    const gone = await archived('gone@example.com');
    const wanted = await archived('wanted@example.com');
    const results = await adapter.batchUpsert({
      objectType: 'contacts',
      idProperty: 'email',
      records: [
        {
          key: 'a',
          crmId: gone,
          payload: { email: 'gone@example.com' },
          mayRecreate: async () => false,
        },
        {
          key: 'b',
          crmId: wanted,
          payload: { email: 'wanted@example.com' },
          mayRecreate: async () => true,
        },
      ],
    });
    const byKey = new Map(results.map((r) => [r.key, r]));
    expect(byKey.get('a')?.error).toBeInstanceOf(CrmNotFoundError);
    expect(byKey.get('b')?.crmId).toBeTruthy();
    expect(sandbox.records('contacts').map((r) => r.properties.email)).toEqual([
      'wanted@example.com',
    ]);
  });
});
