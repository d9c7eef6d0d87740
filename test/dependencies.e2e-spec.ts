import { CaptureApp, startCaptureApp } from './support/capture-app';
import {
  CapCompany,
  CapContact,
  CapDeal,
  CapPerson,
  CapProfile,
  CapTag,
} from './support/capture.fixtures';
import { createTestDatabase, Dialect, TestDatabase } from './support/databases';

const DIALECTS: Dialect[] = ['postgres', 'sqlite', 'mariadb'];

describe.each(DIALECTS)(
  'dependencies and syncDependencies, inline, on %s',
  (dialect) => {
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

    const contactIn = (email: string) =>
      t.crm.records('contacts').find((c) => c.properties.email === email)
        ?.properties;
    const companyIn = (name: string) =>
      t.crm.records('companies').find((c) => c.properties.name === name);

    async function seedContact(extra: Partial<CapContact> = {}) {
      const company = await t.ds
        .getRepository(CapCompany)
        .save(t.ds.getRepository(CapCompany).create({ name: 'Acme' }));
      const contact = await t.ds.getRepository(CapContact).save(
        t.ds.getRepository(CapContact).create({
          email: 'ada@example.com',
          name: 'Ada',
          company,
          ...extra,
        }),
      );
      await t.sync.idle();
      return { company, contact };
    }

    it('many-to-one: renaming the company re-syncs its contacts', async () => {
      const { company } = await seedContact();
      expect(contactIn('ada@example.com')?.company).toBe('Acme');
      company.name = 'Acme Corp';
      await t.ds.getRepository(CapCompany).save(company);
      await t.sync.idle();
      expect(contactIn('ada@example.com')?.company).toBe('Acme Corp');
    });

    it('one-to-one: changing the profile re-syncs the contact', async () => {
      const profile = await t.ds
        .getRepository(CapProfile)
        .save(t.ds.getRepository(CapProfile).create({ title: 'Engineer' }));
      await seedContact({ profile });
      expect(contactIn('ada@example.com')?.title).toBe('Engineer');
      profile.title = 'CTO';
      await t.ds.getRepository(CapProfile).save(profile);
      await t.sync.idle();
      expect(contactIn('ada@example.com')?.title).toBe('CTO');
    });

    it('many-to-many: renaming a tag re-syncs every contact carrying it', async () => {
      const tags = t.ds.getRepository(CapTag);
      const vip = await tags.save(tags.create({ label: 'vip' }));
      await seedContact({ tags: [vip] });
      const other = await t.ds.getRepository(CapContact).save(
        t.ds.getRepository(CapContact).create({
          email: 'bob@example.com',
          name: 'Bob',
          tags: [vip],
        }),
      );
      await t.sync.idle();
      expect(contactIn('bob@example.com')?.tags).toBe('vip');
      vip.label = 'gold';
      await tags.save(vip);
      await t.sync.idle();
      expect(contactIn('ada@example.com')?.tags).toBe('gold');
      expect(contactIn('bob@example.com')?.tags).toBe('gold');
      expect(other.id).toBeGreaterThan(0);
    });

    it('many-to-many: tagging and untagging a contact re-syncs it', async () => {
      const tags = t.ds.getRepository(CapTag);
      const vip = await tags.save(tags.create({ label: 'vip' }));
      const { contact } = await seedContact();
      expect(contactIn('ada@example.com')?.tags).toBe('');
      contact.tags = [vip];
      await t.ds.getRepository(CapContact).save(contact);
      await t.sync.idle();
      expect(contactIn('ada@example.com')?.tags).toBe('vip');
      contact.tags = [];
      await t.ds.getRepository(CapContact).save(contact);
      await t.sync.idle();
      expect(contactIn('ada@example.com')?.tags).toBe('');
    });

    it('one-to-many: adding, moving and removing a deal re-syncs the companies involved', async () => {
      const companies = t.ds.getRepository(CapCompany);
      const deals = t.ds.getRepository(CapDeal);
      const acme = await companies.save(companies.create({ name: 'Acme' }));
      const globex = await companies.save(companies.create({ name: 'Globex' }));
      const deal = await deals.save(
        deals.create({ amount: 100, company: acme }),
      );
      await t.sync.idle();
      expect(companyIn('Acme')?.properties.deal_total).toBe(100);

      deal.company = globex;
      await deals.save(deal);
      await t.sync.idle();
      expect(companyIn('Globex')?.properties.deal_total).toBe(100);
      // The company the deal left is stale too.
      expect(companyIn('Acme')?.properties.deal_total).toBe(0);

      await deals.remove(deal);
      await t.sync.idle();
      expect(companyIn('Globex')?.properties.deal_total).toBe(0);
    });

    it('syncDependencies: a company and its contact saved together reach the CRM parent first', async () => {
      await t.ds.transaction(async (manager) => {
        const company = await manager.save(
          manager.create(CapCompany, { name: 'Acme' }),
        );
        await manager.save(
          manager.create(CapContact, {
            email: 'ada@example.com',
            name: 'Ada',
            company,
          }),
        );
      });
      await t.sync.idle();
      const order = t.crm.calls
        .filter((c) => c.method !== 'delete')
        .map((c) => c.objectType);
      expect(order.indexOf('companies')).toBeLessThan(
        order.indexOf('contacts'),
      );
      expect(contactIn('ada@example.com')?.company_crm_id).toBe(
        companyIn('Acme')?.id,
      );
    });

    it('syncDependencies: a contact whose company cannot be created is buffered, then synced when it is', async () => {
      const company = await t.ds.getRepository(CapCompany).save(
        t.ds.getRepository(CapCompany).create({
          name: 'Acme',
        }),
      );
      t.crm.failWhen((req) =>
        req.objectType === 'companies'
          ? new Error('companies are down')
          : undefined,
      );
      await t.sync.idle();
      const contact = await t.ds.getRepository(CapContact).save(
        t.ds.getRepository(CapContact).create({
          email: 'ada@example.com',
          name: 'Ada',
          company,
        }),
      );
      await t.sync.idle();
      expect((await t.state('CapContact', contact.id))?.state).toBe('buffered');
      expect(contactIn('ada@example.com')).toBeUndefined();
      expect(
        await t.sync.sync(
          await t.ds.getRepository(CapContact).findOneOrFail({
            where: { id: contact.id },
            relations: { company: true },
          }),
        ),
      ).toEqual({ crm: 'hubspot', status: 'buffered' });

      t.crm.failWhen(undefined);
      const outcome = await t.sync.sync(company);
      expect(outcome.status).toBe('synced');
      // The buffered contact went as soon as its company had a CRM id.
      expect(contactIn('ada@example.com')?.company_crm_id).toBe(outcome.crmId);
      const row = await t.state('CapContact', contact.id);
      expect(row?.state).toBe('synced');
      expect(await t.sync.crmIdOf(company)).toBe(outcome.crmId);
    });

    it('syncDependencies: a contact whose company has no CRM id yet syncs the company first', async () => {
      t.crm.failWhen((req) =>
        req.objectType === 'companies'
          ? new Error('companies are down')
          : undefined,
      );
      const companies = t.ds.getRepository(CapCompany);
      const company = await companies.save(companies.create({ name: 'Acme' }));
      await t.sync.idle();
      expect((await t.state('CapCompany', company.id))?.state).toBe('error');
      t.crm.failWhen(undefined);
      t.crm.calls.length = 0;
      const contacts = t.ds.getRepository(CapContact);
      await contacts.save(
        contacts.create({ email: 'ada@example.com', name: 'Ada', company }),
      );
      await t.sync.idle();
      expect(t.crm.calls.map((c) => c.objectType)).toEqual([
        'companies',
        'contacts',
      ]);
      expect(contactIn('ada@example.com')?.company_crm_id).toBe(
        companyIn('Acme')?.id,
      );
    });

    it('syncDependencies: a cycle does not deadlock', async () => {
      const people = t.ds.getRepository(CapPerson);
      await t.ds.transaction(async (manager) => {
        const a = await manager.save(manager.create(CapPerson, { name: 'A' }));
        const b = await manager.save(
          manager.create(CapPerson, { name: 'B', partner: a }),
        );
        a.partner = b;
        await manager.save(a);
      });
      await t.sync.idle();
      const synced = t.crm.records('people');
      expect(synced.map((p) => p.properties.name).sort()).toEqual(['A', 'B']);
      const rows = await t.states.findBy({ resourceType: 'CapPerson' });
      expect(rows.map((r) => r.state)).toEqual(['synced', 'synced']);
      // At least one of the two could link to the other.
      expect(synced.some((p) => p.properties.partner_crm_id)).toBe(true);
      expect(await people.count()).toBe(2);
    });
  },
);
