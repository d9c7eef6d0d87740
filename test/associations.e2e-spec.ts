import { INestApplication } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import {
  AssociationSyncService,
  CrmAssociationState,
  CrmSynchronisation,
  EtlifyConfigurationError,
  HubspotAdapter,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { buildApp } from './support/app';
import {
  ASSOCIATION_ENTITIES,
  ASSOCIATION_SERIALIZERS,
  AsCar,
  AsCompany,
  AsContact,
  AsDeal,
  CAR_NAME,
  CAR_TYPE_ID,
} from './support/association.fixtures';
import {
  createTestDatabase,
  DIALECTS,
  TestDatabase,
} from './support/databases';

const TOKEN = 'assoc-test-token';
const ASSOCIATION_CALLS = /^\/crm\/(v4\/associations|associations\/[^/]+)\//;

/** A sandbox with the portal's schema the fixtures need: the car object and a deal label. */
async function portal(options: { label?: boolean } = {}) {
  const sandbox = new HubspotSandbox({
    accessToken: TOKEN,
    tenSecondLimit: 10_000,
    searchLagMs: 0,
  });
  const { baseUrl } = await sandbox.start();
  const car = sandbox.defineObject({
    name: 'car',
    primaryDisplayProperty: 'plate',
    properties: [{ name: 'plate', type: 'string' }],
    associatedObjects: ['CONTACT'],
  });
  expect(car.objectTypeId).toBe(CAR_TYPE_ID);
  expect(car.fullyQualifiedName).toBe(CAR_NAME);
  let decisionMaker: number | undefined;
  if (options.label !== false) {
    const res = await fetch(
      `${baseUrl}/crm/v4/associations/deals/contacts/labels`,
      {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${TOKEN}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          label: 'Decision maker',
          name: 'decision_maker',
        }),
      },
    );
    decisionMaker = ((await res.json()) as any).results[0].typeId;
  }
  return { sandbox, baseUrl, decisionMaker };
}

async function startApp(db: TestDatabase, baseUrl: string) {
  // Short backoffs: the retry test plays 503s until the client gives up.
  const app = await buildApp({
    db,
    entities: [...ASSOCIATION_ENTITIES, CrmAssociationState],
    providers: ASSOCIATION_SERIALIZERS,
    etlify: {
      crms: [
        {
          name: 'hubspot',
          adapter: new HubspotAdapter({
            accessToken: TOKEN,
            baseUrl,
            retryBaseDelayMs: 5,
            retryMaxDelayMs: 20,
          }),
        },
      ],
      capture: true,
      staleSweep: false,
    },
  });
  await app.init();
  return app;
}

describe.each(DIALECTS)('associations against the sandbox on %s', (dialect) => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let app: INestApplication;
  let sync: SyncService;
  let ds: DataSource;
  let companies: Repository<AsCompany>;
  let contacts: Repository<AsContact>;
  let decisionMaker: number;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    let baseUrl: string;
    ({ sandbox, baseUrl, decisionMaker } = (await portal()) as any);
    app = await startApp(db, baseUrl);
    sync = app.get(SyncService);
    ds = app.get(DataSource);
    companies = ds.getRepository(AsCompany);
    contacts = ds.getRepository(AsContact);
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
    await db?.drop();
  });

  const crmIdOf = async (type: string, id: number) =>
    (
      await ds.getRepository(CrmSynchronisation).findOneByOrFail({
        crmName: 'hubspot',
        resourceType: type,
        resourceId: String(id),
      })
    ).crmId!;
  const associationCalls = () => sandbox.callCount({ path: ASSOCIATION_CALLS });
  const newCompany = (name: string) =>
    companies.save(companies.create({ name, domain: `${name}.example.com` }));

  it('associates contacts with their company with the declared type ids, in both directions', async () => {
    const acme = await newCompany('acme');
    const globex = await newCompany('globex');
    const saved: AsContact[] = [];
    for (let i = 0; i < 5; i++) {
      saved.push(
        await contacts.save(
          contacts.create({
            email: `c${i}-${dialect}@example.com`,
            name: `C${i}`,
            company: i < 3 ? acme : globex,
          }),
        ),
      );
    }
    await sync.idle();
    const acmeId = await crmIdOf('AsCompany', acme.id);
    const globexId = await crmIdOf('AsCompany', globex.id);
    for (const [i, contact] of saved.entries()) {
      const contactId = await crmIdOf('AsContact', contact.id);
      expect(sandbox.associations('contacts', contactId, 'companies')).toEqual([
        {
          toObjectType: 'companies',
          toObjectId: i < 3 ? acmeId : globexId,
          associationTypeIds: [1, 279],
        },
      ]);
    }
    const fromAcme = sandbox.associations('companies', acmeId, 'contacts');
    expect(fromAcme).toHaveLength(3);
    for (const a of fromAcme) expect(a.associationTypeIds).toEqual([2, 280]);
    // No text property carries the company.
    const first = sandbox.record(
      'contacts',
      await crmIdOf('AsContact', saved[0].id),
    );
    expect(first?.properties.company).toBeUndefined();
  });

  it('moves the (primary) association when a contact changes company, and costs no call when nothing changed', async () => {
    const acme = await newCompany('acme2');
    const initech = await newCompany('initech');
    const ada = await contacts.save(
      contacts.create({
        email: `ada-${dialect}@example.com`,
        name: 'Ada',
        company: acme,
      }),
    );
    await sync.idle();
    const adaId = await crmIdOf('AsContact', ada.id);
    const acmeId = await crmIdOf('AsCompany', acme.id);
    const initechId = await crmIdOf('AsCompany', initech.id);

    const before = associationCalls();
    ada.company = initech;
    await contacts.save(ada);
    await sync.idle();
    expect(sandbox.associations('contacts', adaId, 'companies')).toEqual([
      {
        toObjectType: 'companies',
        toObjectId: initechId,
        associationTypeIds: [1, 279],
      },
    ]);
    expect(
      sandbox
        .associations('companies', acmeId, 'contacts')
        .map((a) => a.toObjectId),
    ).not.toContain(adaId);
    // One create and one archive for the move.
    expect(associationCalls() - before).toBe(2);

    // A resync of unchanged records: no association call at all.
    const unchanged = associationCalls();
    const outcome = await sync.sync(ada, { async: false });
    expect(outcome.status).toBe('not_modified');
    await sync.syncStale({ fullScan: true });
    expect(associationCalls()).toBe(unchanged);

    // Removing the company removes the association.
    ada.company = null;
    await contacts.save(ada);
    await sync.idle();
    expect(sandbox.associations('contacts', adaId, 'companies')).toEqual([]);
  });

  it('associates many-to-many deals once their contacts exist, with a label resolved by name', async () => {
    const deals = ds.getRepository(AsDeal);
    const acme = await newCompany('dealco');
    // Contacts written around capture: the deal goes first and its contacts are pending.
    const inserted = await contacts
      .createQueryBuilder()
      .insert()
      .values([
        { email: `grace-${dialect}@example.com`, name: 'Grace' },
        { email: `alan-${dialect}@example.com`, name: 'Alan' },
      ])
      .callListeners(false)
      .execute();
    const people = await contacts.findBy(
      inserted.identifiers.map((i) => ({ id: i.id })),
    );
    const deal = await deals.save(
      deals.create({
        name: 'Big deal',
        amount: 1000,
        company: acme,
        contacts: people,
      }),
    );
    await sync.idle();
    const dealId = await crmIdOf('AsDeal', deal.id);
    const states = ds.getRepository(CrmAssociationState);
    const key = {
      resourceType: 'AsDeal',
      resourceId: String(deal.id),
      association: 'contacts',
    };
    expect((await states.findOneByOrFail(key)).pending).toBe(2);
    expect(sandbox.associations('deals', dealId, 'contacts')).toEqual([]);

    // As the contacts get their CRM ids, the deal's pending associations follow.
    for (const person of people)
      await sync.syncById(AsContact, person.id, { async: false });
    const contactIds = await Promise.all(
      people.map((c) => crmIdOf('AsContact', c.id)),
    );
    const linked = sandbox.associations('deals', dealId, 'contacts');
    expect(linked.map((a) => a.toObjectId).sort()).toEqual(
      [...contactIds].sort(),
    );
    for (const a of linked)
      expect(a.associationTypeIds).toEqual(
        [3, decisionMaker].sort((x, y) => x - y),
      );
    expect(sandbox.associations('deals', dealId, 'companies')).toEqual([
      {
        toObjectType: 'companies',
        toObjectId: await crmIdOf('AsCompany', acme.id),
        associationTypeIds: [5, 341],
      },
    ]);
    const state = await states.findOneByOrFail(key);
    expect([state.pending, JSON.parse(state.toCrmIds!)]).toEqual([
      0,
      [...contactIds].sort(),
    ]);

    // Taking a contact off the deal removes that association only.
    const [kept, dropped] = people;
    deal.contacts = [kept];
    await deals.save(deal);
    await sync.idle();
    expect(
      sandbox
        .associations('deals', dealId, 'contacts')
        .map((a) => a.toObjectId),
    ).toEqual([await crmIdOf('AsContact', kept.id)]);
    expect(
      sandbox.associations(
        'contacts',
        await crmIdOf('AsContact', dropped.id),
        'deals',
      ),
    ).toEqual([]);
  });

  it('associates records of a custom object named by 2-<id> and by p<portal>_<name>', async () => {
    const owner = await contacts.save(
      contacts.create({ email: `owner-${dialect}@example.com`, name: 'Owner' }),
    );
    await sync.idle();
    const cars = ds.getRepository(AsCar);
    const car = await cars.save(cars.create({ plate: 'AB-123', owner }));
    await sync.idle();
    const carId = await crmIdOf('AsCar', car.id);
    const ownerId = await crmIdOf('AsContact', owner.id);
    expect(sandbox.record(CAR_NAME, carId)?.properties.plate).toBe('AB-123');
    expect(sandbox.record(CAR_TYPE_ID, carId)?.id).toBe(carId);
    const defaultType = sandbox.associationTypes('contacts', CAR_NAME)[0]
      .typeId;
    // The contact's one-to-many to cars waited for the car's CRM id, then was pushed.
    expect(sandbox.associations('contacts', ownerId, CAR_TYPE_ID)).toEqual([
      {
        toObjectType: CAR_NAME,
        toObjectId: carId,
        associationTypeIds: [defaultType],
      },
    ]);
    const state = await ds.getRepository(CrmAssociationState).findOneByOrFail({
      resourceType: 'AsContact',
      resourceId: String(owner.id),
      association: 'cars',
    });
    expect([state.pending, JSON.parse(state.toCrmIds!)]).toEqual([0, [carId]]);
  });

  it('keeps associations consistent when HubSpot merges a contact into another', async () => {
    const first = await newCompany('mergeco');
    const second = await newCompany('mergeco2');
    const x = await contacts.save(
      contacts.create({
        email: `x-${dialect}@example.com`,
        name: 'X',
        company: first,
      }),
    );
    await sync.idle();
    const xId = await crmIdOf('AsContact', x.id);
    // A contact made in HubSpot absorbs ours (ours is the one merged away).
    const survivor = await fetch(`${sandbox.baseUrl}/crm/v3/objects/contacts`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({
        properties: { email: `y-${dialect}@example.com` },
      }),
    }).then((r) => r.json() as Promise<any>);
    const merged = sandbox.mergeRecords('contacts', survivor.id, xId);
    x.company = second;
    x.name = 'X moved';
    await contacts.save(x);
    await sync.idle();
    const now = await crmIdOf('AsContact', x.id);
    expect(now).toBe(merged.id);
    expect(sandbox.associations('contacts', now, 'companies')).toEqual([
      {
        toObjectType: 'companies',
        toObjectId: await crmIdOf('AsCompany', second.id),
        associationTypeIds: [1, 279],
      },
    ]);
    expect(
      sandbox.associations(
        'companies',
        await crmIdOf('AsCompany', first.id),
        'contacts',
      ),
    ).toEqual([]);
  });

  it('retry() pushes again what failed, and failures never fail the sync', async () => {
    const acme = await newCompany('flaky');
    const beth = await contacts.save(
      contacts.create({ email: `beth-${dialect}@example.com`, name: 'Beth' }),
    );
    await sync.idle();
    // More 503s than the client retries (4): this push fails and is kept for later.
    sandbox.injectFault({ kind: '503', path: ASSOCIATION_CALLS, times: 5 });
    beth.company = acme;
    await contacts.save(beth);
    await sync.idle();
    const bethId = await crmIdOf('AsContact', beth.id);
    expect(sandbox.associations('contacts', bethId, 'companies')).toEqual([]);
    const states = ds.getRepository(CrmAssociationState);
    const key = {
      resourceType: 'AsContact',
      resourceId: String(beth.id),
      association: 'company',
    };
    expect((await states.findOneByOrFail(key)).lastError).toContain('503');
    const record = await ds.getRepository(CrmSynchronisation).findOneByOrFail({
      resourceType: 'AsContact',
      resourceId: String(beth.id),
    });
    expect([record.state, record.lastError]).toEqual(['synced', null]);

    expect(
      await app.get(AssociationSyncService).retry(),
    ).toBeGreaterThanOrEqual(1);
    expect(sandbox.associations('contacts', bethId, 'companies')).toEqual([
      {
        toObjectType: 'companies',
        toObjectId: await crmIdOf('AsCompany', acme.id),
        associationTypeIds: [1, 279],
      },
    ]);
    expect((await states.findOneByOrFail(key)).lastError).toBeNull();
  });
});

describe('association declarations at boot', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  it('fails the boot when a label named in associations does not exist, listing those that do', async () => {
    const { sandbox, baseUrl } = await portal({ label: false });
    try {
      await expect(startApp(db, baseUrl)).rejects.toThrow(
        EtlifyConfigurationError,
      );
      await expect(startApp(db, baseUrl)).rejects.toThrow(
        /association "contacts" names the label "Decision maker".*labels are/,
      );
    } finally {
      await sandbox.stop();
    }
  });
});
