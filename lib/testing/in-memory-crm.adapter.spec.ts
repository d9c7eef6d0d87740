import { NullAdapter } from '../adapters/null/null.adapter';
import { describeCrmAdapterContract } from './crm-adapter-contract';
import { InMemoryCrmAdapter } from './in-memory-crm.adapter';

const memory = new InMemoryCrmAdapter();
describeCrmAdapterContract('InMemoryCrmAdapter', () => ({
  adapter: memory,
  objectType: 'contacts',
  idProperty: 'email',
  payload: (email) => ({ email, firstname: 'Contract' }),
  read: async (id) => memory.record('contacts', id)?.properties,
}));

describe('NullAdapter', () => {
  it('returns the idProperty value, or the known id', async () => {
    const adapter = new NullAdapter();
    expect(await adapter.upsert({ objectType: 'contacts', payload: { email: 'a@b.c' }, idProperty: 'email' })).toBe('a@b.c');
    expect(await adapter.upsert({ objectType: 'contacts', payload: { email: 'a@b.c' }, crmId: '42' })).toBe('42');
    expect(await adapter.upsert({ objectType: 'deals', payload: { name: 'x' } })).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects a blank match value like a real CRM', async () => {
    await expect(
      new NullAdapter().upsert({ objectType: 'contacts', payload: { email: ' ' }, idProperty: 'email' }),
    ).rejects.toThrow(/Property "email" is blank/);
  });
});

describe('InMemoryCrmAdapter associations', () => {
  it('associates known records, refuses unknown ones per pair, and removes', async () => {
    const crm = new InMemoryCrmAdapter();
    const contact = await crm.upsert({
      objectType: 'contacts',
      payload: { email: 'a@b.c' },
    });
    const company = await crm.upsert({
      objectType: 'companies',
      payload: { name: 'Acme' },
    });
    const results = await crm.associate({
      fromObjectType: 'contacts',
      toObjectType: 'companies',
      inputs: [
        {
          fromId: contact,
          toId: company,
          types: [{ typeId: 1, category: 'HUBSPOT_DEFINED' }],
        },
        { fromId: contact, toId: '999', types: [] },
      ],
    });
    expect(results[0].error).toBeUndefined();
    expect(results[1].error?.message).toContain('no such record');
    expect(crm.associations('contacts', contact)).toEqual([
      { toObjectType: 'companies', toId: company, typeIds: [1] },
    ]);
    await crm.disassociate({
      fromObjectType: 'contacts',
      toObjectType: 'companies',
      inputs: [{ fromId: contact, toId: company }],
    });
    expect(crm.associations('contacts', contact)).toEqual([]);
    expect(crm.callCount('associate')).toBe(1);
  });
});
