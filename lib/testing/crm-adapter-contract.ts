import { randomUUID } from 'node:crypto';
import { CrmError, CrmValidationError } from '../errors/crm.error';
import type { CrmAdapter } from '../interfaces/crm-adapter.interface';
import type { CrmPayload } from '../interfaces/crm-payload.interface';

/** What the contract suite needs to exercise an adapter. */
export interface CrmAdapterContractSubject {
  adapter: CrmAdapter;
  /** Object type to write to, e.g. `contacts`. */
  objectType: string;
  /** A property the CRM matches records on the first time (e.g. `email`). */
  idProperty: string;
  /** Builds a payload for a fresh record whose id property is `key`. */
  payload(key: string): CrmPayload;
  /** A field the suite may change to check updates (default: the first non-id property of `payload`). */
  mutableProperty?: string;
  /** Reads a record back from the CRM (sandbox / in-memory store), for assertions. */
  read(id: string): Promise<CrmPayload | undefined>;
}

type TestFn = (name: string, fn: () => Promise<void> | void, timeout?: number) => void;
interface TestGlobals {
  describe: (name: string, fn: () => void) => void;
  it: TestFn;
  beforeAll: (fn: () => Promise<void> | void, timeout?: number) => void;
  afterAll: (fn: () => Promise<void> | void, timeout?: number) => void;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`CRM adapter contract: ${message}`);
}

/**
 * Declares the adapter contract tests (Jest or Vitest globals). Every custom adapter should pass it:
 *
 * ```ts
 * describeCrmAdapterContract('MyCrmAdapter', async () => ({ adapter, objectType: 'contacts', idProperty: 'email', payload, read }));
 * ```
 */
export function describeCrmAdapterContract(
  name: string,
  setup: () => Promise<CrmAdapterContractSubject> | CrmAdapterContractSubject,
  teardown?: () => Promise<void> | void,
): void {
  const { describe, it, beforeAll, afterAll } = globalThis as unknown as TestGlobals;
  describe(`${name} honours the CrmAdapter contract`, () => {
    let s: CrmAdapterContractSubject;
    const key = () => `contract-${randomUUID().slice(0, 8)}@example.com`;
    const mutable = () =>
      s.mutableProperty ?? Object.keys(s.payload('x@example.com')).find((k) => k !== s.idProperty)!;

    beforeAll(async () => {
      s = await setup();
    });
    if (teardown) afterAll(teardown);

    it('creates a record and returns its id as a string', async () => {
      const id = await s.adapter.upsert({ objectType: s.objectType, payload: s.payload(key()), idProperty: s.idProperty });
      check(typeof id === 'string' && id.length > 0, `upsert must resolve to a non-empty string id, got ${JSON.stringify(id)}`);
      check(await s.read(id), `record ${id} is not readable after upsert`);
    });

    it('updates by crmId without creating another record', async () => {
      const k = key();
      const id = await s.adapter.upsert({ objectType: s.objectType, payload: s.payload(k), idProperty: s.idProperty });
      const field = mutable();
      const again = await s.adapter.upsert({
        objectType: s.objectType,
        payload: { ...s.payload(k), [field]: 'changed-by-contract' },
        idProperty: s.idProperty,
        crmId: id,
      });
      check(again === id, `upsert with crmId must return the same id (${id}), got ${again}`);
      check((await s.read(id))?.[field] === 'changed-by-contract', `update by crmId did not change "${field}"`);
    });

    it('matches an existing record by idProperty instead of duplicating it', async () => {
      const k = key();
      const first = await s.adapter.upsert({ objectType: s.objectType, payload: s.payload(k), idProperty: s.idProperty });
      const second = await s.adapter.upsert({ objectType: s.objectType, payload: s.payload(k), idProperty: s.idProperty });
      check(first === second, `two upserts with the same ${s.idProperty} returned ${first} and ${second}`);
    });

    it('rejects a blank idProperty value with a CrmValidationError', async () => {
      let error: unknown;
      try {
        await s.adapter.upsert({ objectType: s.objectType, payload: { ...s.payload(key()), [s.idProperty]: '' }, idProperty: s.idProperty });
      } catch (caught) {
        error = caught;
      }
      check(error instanceof CrmValidationError, `expected CrmValidationError, got ${String(error)}`);
      check(error.retryable === false, 'validation errors must not be retryable');
    });

    it('deletes: true for a known record, false once it is gone', async () => {
      const id = await s.adapter.upsert({ objectType: s.objectType, payload: s.payload(key()), idProperty: s.idProperty });
      check((await s.adapter.delete({ objectType: s.objectType, crmId: id })) === true, 'delete of a known record must resolve to true');
      check((await s.adapter.delete({ objectType: s.objectType, crmId: id })) === false, 'delete of a gone record must resolve to false');
    });

    it('batchUpsert (when offered) answers once per key and isolates a bad record', async () => {
      if (!s.adapter.batchUpsert) return;
      const good = Array.from({ length: 5 }, () => key());
      const records = [
        ...good.map((k) => ({ key: k, payload: s.payload(k) })),
        { key: 'bad', payload: { ...s.payload(key()), [s.idProperty]: '' } },
      ];
      const results = await s.adapter.batchUpsert({ objectType: s.objectType, idProperty: s.idProperty, records });
      const byKey = new Map(results.map((r) => [r.key, r]));
      check(byKey.size === records.length, `expected ${records.length} results, got ${byKey.size}`);
      for (const k of good) check(byKey.get(k)?.crmId, `record ${k} got no crmId`);
      const bad = byKey.get('bad');
      check(bad?.error instanceof CrmError && !bad.crmId, 'the blank record must fail alone with a CrmError');
    });
  });
}
