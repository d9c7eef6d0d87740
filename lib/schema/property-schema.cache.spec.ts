import { PropertySchemaCache } from './property-schema.cache';
import { applyNullPolicy, withNullPolicy } from './null-policy.util';

describe('PropertySchemaCache', () => {
  let now = 0;
  let reads = 0;
  let fail = false;
  const cache = () =>
    new PropertySchemaCache(
      async () => {
        reads++;
        if (fail) throw new Error('502');
        return [{ name: 'email', type: 'string' as const }];
      },
      { ttlMs: 1000, minRefreshMs: 100 },
      () => now,
    );
  beforeEach(() => {
    now = 0;
    reads = 0;
    fail = false;
  });

  it('reads once per TTL, shares concurrent reads and never remembers a failed read', async () => {
    const c = cache();
    await Promise.all([c.get('contacts'), c.get('contacts')]);
    expect(reads).toBe(1);
    now = 999;
    await c.get('contacts');
    expect(reads).toBe(1);
    now = 1000;
    await c.get('contacts');
    expect(reads).toBe(2);
    fail = true;
    now = 5000;
    expect(await c.get('contacts')).toBeNull();
    fail = false;
    expect((await c.get('contacts'))?.properties.has('email')).toBe(true);
  });

  it('refreshes or forgets on demand, but not twice within minRefreshMs', async () => {
    const c = cache();
    await c.get('contacts');
    await c.refresh('contacts');
    c.invalidate('contacts');
    await c.get('contacts');
    expect(reads).toBe(1);
    now = 150;
    await c.refresh('contacts');
    expect(reads).toBe(2);
    now = 300;
    c.invalidate('contacts');
    await c.get('contacts');
    expect(reads).toBe(3);
  });
});

describe('null handling', () => {
  it('drops omit nulls, keeps clear nulls, and leaves the serializer untouched when all clear', async () => {
    const policy = {
      default: 'clear' as const,
      properties: { phone: 'omit' as const },
    };
    expect(
      applyNullPolicy({ phone: null, city: null, name: 'x' }, policy),
    ).toEqual({
      city: null,
      name: 'x',
    });
    class S {
      readonly version = 3;
      toCrmPayload() {
        return Promise.resolve({ phone: null, name: 'x' });
      }
    }
    const serializer = new S();
    const wrapped = withNullPolicy(serializer, policy);
    expect(wrapped.version).toBe(3);
    expect(wrapped.constructor.name).toBe('S');
    expect(await wrapped.toCrmPayload({})).toEqual({ name: 'x' });
    expect(
      withNullPolicy(serializer, { default: 'clear', properties: {} }),
    ).toBe(serializer);
  });
});
