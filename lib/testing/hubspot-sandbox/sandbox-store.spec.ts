import { SandboxHttpError } from './sandbox-errors';
import { SandboxStore } from './sandbox-store';

describe('SandboxStore', () => {
  const t0 = Date.UTC(2026, 0, 1);

  it('shows search the newest version whose lag has passed', () => {
    const store = new SandboxStore();
    const contacts = store.type('0-1');
    expect(contacts.objectType).toBe('contacts');
    const record = contacts.create(
      '1',
      contacts.prepare({ firstname: 'A' }, undefined),
      t0,
      100,
    );
    contacts.update(
      record,
      contacts.prepare({ firstname: 'B' }, '1'),
      t0 + 50,
      100,
    );
    expect(contacts.searchView(record, t0 + 99)).toBeUndefined();
    expect(contacts.searchView(record, t0 + 100)?.properties.firstname).toBe(
      'A',
    );
    expect(contacts.searchView(record, t0 + 150)?.properties.firstname).toBe(
      'B',
    );
    expect(record.searchVersions).toHaveLength(1);
  });

  it('frees unique values on archive and resolves every old id of a merge chain to the newest record', () => {
    const store = new SandboxStore();
    const contacts = store.type('contacts');
    const a = contacts.create(
      '1',
      contacts.prepare({ email: 'a@x.io' }, undefined),
      t0,
      0,
    );
    const b = contacts.create(
      '2',
      contacts.prepare({ email: 'b@x.io' }, undefined),
      t0,
      0,
    );
    const c = contacts.create(
      '3',
      contacts.prepare({ email: 'c@x.io' }, undefined),
      t0,
      0,
    );
    const ab = contacts.mergeIntoNew(b, a, '4', t0, 0);
    const abc = contacts.mergeIntoNew(c, ab, '5', t0, 0);
    // Every merge mints a new id; every old id, however old, resolves to the latest one.
    for (const old of ['1', '2', '3', '4']) {
      expect(contacts.live(old, true)?.id).toBe('5');
      expect(contacts.live(old, false)).toBeUndefined();
    }
    expect(contacts.findByUnique('email', 'A@X.IO')?.id).toBe('5');
    expect(abc.properties.email).toBe('c@x.io');
    expect(abc.properties.hs_merged_object_ids?.split(';').sort()).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
    contacts.archive(abc, t0);
    expect(contacts.prepare({ email: 'c@x.io' }, undefined)).toEqual({
      email: 'c@x.io',
    });
  });

  it('indexes existing records when a unique property is defined later', () => {
    const store = new SandboxStore();
    const subs = store.type('p1_sub');
    subs.create('1', subs.prepare({ code: 'X1' }, undefined), t0, 0);
    subs.defineProperty(
      { name: 'code', type: 'string', hasUniqueValue: true },
      new Date(t0).toISOString(),
    );
    expect(subs.isUniqueProperty('code')).toBe(true);
    expect(subs.findByUnique('code', 'X1')?.id).toBe('1');
    expect(() => subs.prepare({ code: 'X1' }, undefined)).toThrow(
      SandboxHttpError,
    );
    expect(() => subs.prepare({ other: 'y' }, undefined)).toThrow(
      /Property values were not valid/,
    );
  });
});
