import { CaptureApp, startCaptureApp } from './support/capture-app';
import { CapCompany, CapContact, CapLead } from './support/capture.fixtures';
import { createTestDatabase, Dialect, TestDatabase } from './support/databases';

const DIALECTS: Dialect[] = ['postgres', 'sqlite', 'mariadb'];

describe.each(DIALECTS)('captured deletes, inline, on %s', (dialect) => {
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

  async function syncedContact(email = 'ada@example.com') {
    const contacts = t.ds.getRepository(CapContact);
    const contact = await contacts.save(
      contacts.create({ email, name: 'Ada' }),
    );
    await t.sync.idle();
    const row = await t.state('CapContact', contact.id);
    expect(row?.crmId).toBeTruthy();
    return { contact, crmId: row!.crmId! };
  }

  it('remove() deletes the record in the CRM and forgets its state', async () => {
    const { contact, crmId } = await syncedContact();
    const id = contact.id;
    await t.ds.getRepository(CapContact).remove(contact);
    await t.sync.idle();
    expect(t.crm.record('contacts', crmId)).toBeUndefined();
    expect(t.crm.calls.at(-1)).toMatchObject({
      method: 'delete',
      request: { objectType: 'contacts', crmId },
    });
    expect(await t.state('CapContact', id)).toBeNull();
  });

  it('a removal rolled back with its transaction deletes nothing', async () => {
    const { contact, crmId } = await syncedContact();
    const id = contact.id;
    await expect(
      t.ds.transaction(async (manager) => {
        await manager.remove(contact);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await t.sync.idle();
    expect(t.crm.record('contacts', crmId)).toBeDefined();
    expect(t.crm.callCount('delete')).toBe(0);
    expect((await t.state('CapContact', id))?.crmId).toBe(crmId);
  });

  it('softRemove() deletes in the CRM; recover() brings the record back', async () => {
    const contacts = t.ds.getRepository(CapContact);
    const { contact, crmId } = await syncedContact();
    await contacts.softRemove(contact);
    await t.sync.idle();
    expect(t.crm.records('contacts')).toHaveLength(0);
    expect(await t.state('CapContact', contact.id)).toBeNull();
    expect(t.crm.record('contacts', crmId)).toBeUndefined();

    await contacts.recover(contact);
    await t.sync.idle();
    expect(t.crm.records('contacts')).toEqual([
      expect.objectContaining({
        properties: expect.objectContaining({ email: 'ada@example.com' }),
      }),
    ]);
    const row = await t.state('CapContact', contact.id);
    expect(row?.state).toBe('synced');
    expect(row?.crmId).toBe(t.crm.records('contacts')[0].id);
  });

  it("onSoftRemove: 'ignore' keeps the CRM record", async () => {
    const leads = t.ds.getRepository(CapLead);
    const lead = await leads.save(leads.create({ email: 'lead@example.com' }));
    await t.sync.idle();
    await leads.softRemove(lead);
    await t.sync.idle();
    expect(t.crm.records('leads')).toHaveLength(1);
    expect(t.crm.callCount('delete')).toBe(0);
    // A hard remove still deletes it.
    await leads.remove(
      await leads.findOneOrFail({ where: { id: lead.id }, withDeleted: true }),
    );
    await t.sync.idle();
    expect(t.crm.records('leads')).toHaveLength(0);
  });

  it('removing a record that never reached the CRM makes no CRM call', async () => {
    t.crm.failNext(1);
    const companies = t.ds.getRepository(CapCompany);
    const company = await companies.save(companies.create({ name: 'Acme' }));
    await t.sync.idle();
    expect((await t.state('CapCompany', company.id))?.crmId).toBeNull();
    const calls = t.crm.callCount();
    await companies.remove(company);
    await t.sync.idle();
    expect(t.crm.callCount()).toBe(calls);
    expect(await t.states.count()).toBe(0);
  });

  it('a CRM failure on delete keeps the state row (and its CRM id) with the error', async () => {
    const { contact, crmId } = await syncedContact();
    const id = contact.id;
    t.crm.failNext(1);
    await t.ds.getRepository(CapContact).remove(contact);
    await t.sync.idle();
    const row = await t.state('CapContact', id);
    expect(row?.crmId).toBe(crmId);
    expect(row?.lastError).toMatch(/Internal error/);
    expect(t.crm.record('contacts', crmId)).toBeDefined();
  });
});
