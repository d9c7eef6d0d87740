import { inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';
import {
  CrmAuthError,
  type CrmBatchUpsertRecord,
  CrmError,
  CrmRateLimitError,
  CrmTransportError,
  CrmValidationError,
  HubspotAdapter,
  type HubspotAdapterOptions,
  CrmRegistry,
  CrmSynchronisation,
  InProcessRateGovernor,
  NullAdapter,
  SyncService,
} from 'nestjs-etlify';
import { DataSource } from 'typeorm';
import { buildApp } from './support/app';
import { createTestDatabase } from './support/databases';
import {
  Company,
  CompanySerializer,
  User,
  UserSerializer,
} from './support/fixtures';
import {
  describeCrmAdapterContract,
  HubspotSandbox,
  type HubspotSandboxOptions,
} from 'nestjs-etlify/testing';

const TOKEN = 'pat-na1-0f3c2a9e-adapter-secret-token';
/** Paths of the adapter's default API version (2026-09). */
const OBJECTS = '/crm/objects/2026-09';
const PROPERTIES = '/crm/properties/2026-09';

/** Keeps every log line so tests can read what the adapter said. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(...args: unknown[]): void {
    this.lines.push(args.map(String).join(' '));
  }
  warn(...args: unknown[]): void {
    this.log(...args);
  }
  error(...args: unknown[]): void {
    this.log(...args);
  }
  debug(...args: unknown[]): void {
    this.log(...args);
  }
  verbose(...args: unknown[]): void {
    this.log(...args);
  }
}

interface Harness {
  sandbox: HubspotSandbox;
  adapter: HubspotAdapter;
  logger: CapturingLogger;
}

const open: Harness[] = [];

async function harness(
  sandboxOptions: HubspotSandboxOptions = {},
  adapterOptions: Partial<HubspotAdapterOptions> = {},
): Promise<Harness> {
  const sandbox = new HubspotSandbox({
    accessToken: TOKEN,
    searchLagMs: 0,
    tenSecondLimit: 10_000,
    ...sandboxOptions,
  });
  const { baseUrl } = await sandbox.start();
  const logger = new CapturingLogger();
  const adapter = new HubspotAdapter({
    accessToken: TOKEN,
    baseUrl,
    logger,
    // These tests exercise HubSpot's own answers and count calls; pre-flight checks (one
    // properties read per type) are tested in test/property-validation.e2e-spec.ts.
    validatePayloads: false,
    retryBaseDelayMs: 20,
    lockedDelayMs: 50,
    ...adapterOptions,
  });
  const h = { sandbox, adapter, logger };
  open.push(h);
  return h;
}

afterEach(async () => {
  while (open.length) {
    const h = open.pop()!;
    h.adapter.close();
    await h.sandbox.stop();
  }
});

const email = (n: number | string) => `user-${n}@example.com`;

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('HubspotAdapter against the HubSpot sandbox', () => {
  describe('upsert', () => {
    it('PATCHes a known crmId and never searches', async () => {
      const { sandbox, adapter } = await harness();
      const id = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email(1), firstname: 'Ada' },
        idProperty: 'email',
      });
      const again = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email(1), firstname: 'Grace' },
        idProperty: 'email',
        crmId: id,
      });
      expect(again).toBe(id);
      expect(sandbox.record('contacts', id)?.properties.firstname).toBe(
        'Grace',
      );
      expect(sandbox.callCount({ method: 'PATCH' })).toBe(1);
      expect(sandbox.callCount({ path: /\/search$/ })).toBe(0);
    });

    it('first sync of a contact is one batch upsert by email, not a search or a create', async () => {
      const { sandbox, adapter } = await harness();
      const id = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email(2), firstname: 'Ada', lastname: null },
        idProperty: 'email',
      });
      expect(sandbox.records('contacts').map((r) => r.id)).toEqual([id]);
      expect(sandbox.counts()).toEqual({
        [`POST ${OBJECTS}/contacts/batch/upsert`]: 1,
      });
    });

    it('upserts by a custom property HubSpot reports unique, reading the properties once', async () => {
      const { sandbox, adapter } = await harness({
        properties: {
          companies: [
            { name: 'external_id', type: 'string', hasUniqueValue: true },
          ],
        },
      });
      const first = await adapter.upsert({
        objectType: 'companies',
        payload: { external_id: 'acme-1', name: 'Acme' },
        idProperty: 'external_id',
      });
      const second = await adapter.upsert({
        objectType: 'companies',
        payload: { external_id: 'acme-1', name: 'Acme Inc' },
        idProperty: 'external_id',
      });
      expect(second).toBe(first);
      expect(sandbox.records('companies')).toHaveLength(1);
      expect(sandbox.callCount({ path: `${PROPERTIES}/companies` })).toBe(1);
      expect(
        sandbox.callCount({ path: `${OBJECTS}/companies/batch/upsert` }),
      ).toBe(2);
    });

    it('upserts a contact by its email even without idProperty: no create, no 409', async () => {
      const { sandbox, adapter } = await harness();
      const existing = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email(3), firstname: 'Old' },
        idProperty: 'email',
      });
      const id = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email(3).toUpperCase(), firstname: 'New' },
      });
      expect(id).toBe(existing);
      expect(sandbox.records('contacts')).toHaveLength(1);
      expect(sandbox.record('contacts', id)?.properties.firstname).toBe('New');
      expect(
        sandbox.callCount({ method: 'POST', path: `${OBJECTS}/contacts` }),
      ).toBe(0);
    });

    it('searches only as a last resort, under the search budget (companies by domain)', async () => {
      const { sandbox, adapter } = await harness();
      const id = await adapter.upsert({
        objectType: 'companies',
        payload: { domain: 'acme.test', name: 'Acme' },
        idProperty: 'domain',
      });
      await new Promise((r) => setTimeout(r, 20));
      const again = await adapter.upsert({
        objectType: 'companies',
        payload: { domain: 'acme.test', name: 'Acme 2' },
        idProperty: 'domain',
      });
      expect(again).toBe(id);
      expect(sandbox.records('companies')).toHaveLength(1);
      expect(sandbox.callCount({ path: `${OBJECTS}/companies/search` })).toBe(
        2,
      );
    });

    it('rejects bad input with a clear error and no call', async () => {
      const { sandbox, adapter } = await harness();
      const blank = await caught(() =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: '  ', firstname: 'x' },
          idProperty: 'email',
        }),
      );
      expect(blank).toBeInstanceOf(CrmValidationError);
      expect((blank as Error).message).toContain('"email" is blank');
      // Dates are converted now (lib/schema/value-conversion.util.ts); an object never is.
      const nested = await caught(() =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: email(4), firstname: { a: 1 } as any },
          idProperty: 'email',
        }),
      );
      expect(nested).toBeInstanceOf(CrmValidationError);
      expect((nested as Error).message).toContain('"firstname" is an object');
      expect(sandbox.requests).toHaveLength(0);
    });
  });

  describe('batchUpsert', () => {
    it('splits more than 100 records, one batch upsert per 100, every key answered', async () => {
      const { sandbox, adapter } = await harness();
      const records = Array.from({ length: 250 }, (_, i) => ({
        key: `u${i}`,
        payload: { email: email(`b${i}`), firstname: `N${i}` },
      }));
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records,
      });
      expect(results).toHaveLength(250);
      expect(results.every((r) => r.crmId && !r.error)).toBe(true);
      expect(new Set(results.map((r) => r.crmId)).size).toBe(250);
      const calls = sandbox.requests.filter((r) =>
        r.path.endsWith('/batch/upsert'),
      );
      expect(calls.map((c) => c.bodyInputs).sort()).toEqual([100, 100, 50]);
      const byKey = new Map(results.map((r) => [r.key, r.crmId]));
      expect(
        sandbox.record('contacts', byKey.get('u7')!)?.properties.email,
      ).toBe(email('b7'));
    });

    it('sends crmId records to batch/update and the rest to batch/upsert', async () => {
      const { sandbox, adapter } = await harness();
      const [known] = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records: [{ key: 'a', payload: { email: email('k1') } }],
      });
      const before = sandbox.requests.length;
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records: [
          {
            key: 'a',
            payload: { email: email('k1'), firstname: 'A' },
            crmId: known.crmId,
          },
          { key: 'b', payload: { email: email('k2'), firstname: 'B' } },
        ],
      });
      expect(results.every((r) => r.crmId)).toBe(true);
      expect(
        sandbox.requests
          .slice(before)
          .map((r) => `${r.method} ${r.path}`)
          .sort(),
      ).toEqual([
        `POST ${OBJECTS}/contacts/batch/update`,
        `POST ${OBJECTS}/contacts/batch/upsert`,
      ]);
      expect(
        sandbox.record('contacts', known.crmId!)?.properties.firstname,
      ).toBe('A');
    });

    it('de-duplicates keys and identities so HubSpot never rejects the batch for duplicates', async () => {
      const { sandbox, adapter } = await harness();
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records: [
          { key: 'x', payload: { email: email('d1'), firstname: 'first' } },
          { key: 'x', payload: { email: email('d1'), firstname: 'last' } },
          {
            key: 'y',
            payload: { email: email('d1').toUpperCase(), firstname: 'twin' },
          },
          { key: 'z', payload: { email: email('d2') } },
        ],
      });
      const byKey = new Map(results.map((r) => [r.key, r]));
      expect(byKey.size).toBe(3);
      expect(byKey.get('x')?.crmId).toBeDefined();
      expect(byKey.get('y')?.crmId).toBe(byKey.get('x')?.crmId);
      expect(sandbox.callCount({ status: 400 })).toBe(0);
      expect(sandbox.records('contacts')).toHaveLength(2);
    });

    it.each([
      ['v3', 207],
      ['2026-09', 201],
    ])(
      'parses per-input errors of batch/create (%s answers %i): each input gets its id or its own error',
      async (apiVersion, status) => {
        const { sandbox, adapter } = await harness({}, { apiVersion });
        const records = [
          ...Array.from({ length: 4 }, (_, i) => ({
            key: `c${i}`,
            payload: { domain: `c${i}.test`, name: `Co ${i}` },
          })),
          {
            key: 'bad',
            payload: { domain: 'bad.test', no_such_property: 'x' },
          },
        ];
        const results = await adapter.batchUpsert({
          objectType: 'companies',
          idProperty: 'domain',
          records,
        });
        expect(
          sandbox.requests.find((r) => r.path.endsWith('/batch/create'))
            ?.status,
        ).toBe(status);
        expect(sandbox.callCount({ path: /\/batch\/create$/ })).toBe(1);
        const byKey = new Map(results.map((r) => [r.key, r]));
        for (let i = 0; i < 4; i++) {
          const id = byKey.get(`c${i}`)?.crmId;
          expect(sandbox.record('companies', id!)?.properties.domain).toBe(
            `c${i}.test`,
          );
        }
        const bad = byKey.get('bad')!;
        expect(bad.crmId).toBeUndefined();
        expect(bad.error).toBeInstanceOf(CrmValidationError);
        expect(bad.error?.message).toContain('no_such_property');
        expect(sandbox.records('companies')).toHaveLength(4);
      },
    );

    it('adopts Existing IDs from 207 conflicts of a contact batch create', async () => {
      const { sandbox, adapter } = await harness();
      const existing = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('e1'), firstname: 'Old' },
        idProperty: 'email',
      });
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: '',
        records: [
          { key: 'old', payload: { email: email('e1'), firstname: 'Adopted' } },
          { key: 'new', payload: { email: email('e2') } },
        ],
      });
      const byKey = new Map(results.map((r) => [r.key, r]));
      expect(byKey.get('old')?.crmId).toBe(existing);
      expect(sandbox.record('contacts', existing)?.properties.firstname).toBe(
        'Adopted',
      );
      expect(sandbox.records('contacts')).toHaveLength(2);
    });

    it('bisects a rejected batch of 100 so only the poison record fails (99 succeed)', async () => {
      const { sandbox, adapter } = await harness();
      const records: CrmBatchUpsertRecord[] = Array.from(
        { length: 100 },
        (_, i): CrmBatchUpsertRecord => ({
          key: `p${i}`,
          payload:
            i === 63
              ? { email: email(`p${i}`), lifecyclestage: 'not-a-stage' }
              : { email: email(`p${i}`), firstname: `P${i}` },
        }),
      );
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records,
      });
      const failed = results.filter((r) => r.error);
      expect(failed.map((r) => r.key)).toEqual(['p63']);
      expect(failed[0].error).toBeInstanceOf(CrmValidationError);
      expect(failed[0].error?.message).toContain('not-a-stage');
      expect(results.filter((r) => r.crmId)).toHaveLength(99);
      expect(sandbox.records('contacts')).toHaveLength(99);
      // One whole-batch reject, then halves down to the poison input: far fewer calls than 100.
      expect(
        sandbox.callCount({ path: /\/batch\/upsert$/ }),
      ).toBeLessThanOrEqual(15);
    });
  });

  describe('records merged or deleted in HubSpot', () => {
    it("follows a merged id to the merged record's new id instead of failing or duplicating", async () => {
      const { sandbox, adapter, logger } = await harness();
      const a = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('m1') },
        idProperty: 'email',
      });
      const b = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('m2') },
        idProperty: 'email',
      });
      sandbox.mergeRecords('contacts', a, b);
      // HubSpot mints a new id for the merged record; both old ids point to it.
      const merged = sandbox.record('contacts', a)!.id;
      expect([a, b]).not.toContain(merged);
      const id = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('m2'), firstname: 'Merged' },
        idProperty: 'email',
        crmId: b,
      });
      expect(id).toBe(merged);
      expect(sandbox.records('contacts')).toHaveLength(1);
      expect(sandbox.record('contacts', merged)?.properties.firstname).toBe(
        'Merged',
      );
      expect(logger.lines.join('\n')).toContain(
        `contacts ${b} was merged into ${merged}`,
      );
    });

    it('re-matches merged ids inside a batch update (207 OBJECT_NOT_FOUND)', async () => {
      const { sandbox, adapter } = await harness();
      const a = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('m3') },
        idProperty: 'email',
      });
      const b = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('m4') },
        idProperty: 'email',
      });
      const c = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('m5') },
        idProperty: 'email',
      });
      sandbox.mergeRecords('contacts', a, b);
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records: [
          {
            key: 'b',
            crmId: b,
            payload: { email: email('m4'), firstname: 'B' },
          },
          {
            key: 'c',
            crmId: c,
            payload: { email: email('m5'), firstname: 'C' },
          },
        ],
      });
      const byKey = new Map(results.map((r) => [r.key, r.crmId]));
      // Batch update answers OBJECT_NOT_FOUND for the old id; the basic PATCH follows the merge.
      expect(byKey.get('b')).toBe(sandbox.record('contacts', a)!.id);
      expect(byKey.get('b')).not.toBe(a);
      expect(byKey.get('c')).toBe(c);
      expect(sandbox.records('contacts')).toHaveLength(2);
    });

    it('re-creates a record deleted in HubSpot only when nothing matches, and says so', async () => {
      const { sandbox, adapter, logger } = await harness();
      const gone = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('g1') },
        idProperty: 'email',
      });
      expect(
        await adapter.delete({ objectType: 'contacts', crmId: gone }),
      ).toBe(true);
      const id = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('g1'), firstname: 'Back' },
        idProperty: 'email',
        crmId: gone,
      });
      expect(id).not.toBe(gone);
      expect(sandbox.records('contacts').map((r) => r.id)).toEqual([id]);
      expect(logger.lines.join('\n')).toContain(
        `contacts ${gone} no longer exists in HubSpot; written again as ${id}`,
      );
    });
  });

  describe('search lag', () => {
    it('first syncs by upsert find records search cannot see yet: no duplicates', async () => {
      const { sandbox, adapter } = await harness({ searchLagMs: 30_000 });
      const first = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('l1') },
        idProperty: 'email',
      });
      const second = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('l1'), firstname: 'x' },
        idProperty: 'email',
      });
      expect(second).toBe(first);
      const batch = Array.from({ length: 30 }, (_, i) => ({
        key: `l${i}`,
        payload: { email: email(`lb${i}`) },
      }));
      const one = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records: batch,
      });
      const two = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records: batch,
      });
      expect(two.map((r) => r.crmId).sort()).toEqual(
        one.map((r) => r.crmId).sort(),
      );
      expect(sandbox.records('contacts')).toHaveLength(31);
      // The lag is real: a search right now does not see the record (what the gem relies on).
      const res = await fetch(`${sandbox.baseUrl}${OBJECTS}/contacts/search`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${TOKEN}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          filterGroups: [
            {
              filters: [
                { propertyName: 'email', operator: 'EQ', value: email('l1') },
              ],
            },
          ],
        }),
      });
      expect(((await res.json()) as { total: number }).total).toBe(0);
    });
  });

  describe('delete', () => {
    it('true for a known record, false once gone; batchDelete archives through batch/archive', async () => {
      const { sandbox, adapter } = await harness();
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records: Array.from({ length: 150 }, (_, i) => ({
          key: `${i}`,
          payload: { email: email(`x${i}`) },
        })),
      });
      const ids = results.map((r) => r.crmId!);
      expect(
        await adapter.delete({ objectType: 'contacts', crmId: ids[0] }),
      ).toBe(true);
      expect(
        await adapter.delete({ objectType: 'contacts', crmId: ids[0] }),
      ).toBe(false);
      expect(
        await adapter.delete({ objectType: 'contacts', crmId: '999999999' }),
      ).toBe(false);
      await adapter.batchDelete({
        objectType: 'contacts',
        crmIds: ids.slice(1),
      });
      expect(sandbox.records('contacts')).toHaveLength(0);
      expect(sandbox.callCount({ path: /\/batch\/archive$/ })).toBe(2);
    });
  });

  describe('errors and retries', () => {
    it('maps HubSpot errors to the CrmError family with status, category and correlation id', async () => {
      const { sandbox, adapter } = await harness();
      const invalid = await caught(() =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: email('v'), lifecyclestage: 'nope' },
          idProperty: 'email',
        }),
      );
      expect(invalid).toBeInstanceOf(CrmValidationError);
      const v = invalid as CrmValidationError;
      expect([v.status, v.category, v.retryable]).toEqual([
        400,
        'VALIDATION',
        false,
      ]);
      expect(v.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(v.message).toContain('nope');
      // A 4xx is final: exactly one request.
      expect(sandbox.requests).toHaveLength(1);

      const wrong = new HubspotAdapter({
        accessToken: 'pat-na1-wrong-token-123',
        baseUrl: sandbox.baseUrl,
        logger: new CapturingLogger(),
      });
      const auth = await caught(() =>
        wrong.upsert({
          objectType: 'contacts',
          payload: { email: email('w') },
          idProperty: 'email',
        }),
      );
      wrong.close();
      expect(auth).toBeInstanceOf(CrmAuthError);
      expect([
        (auth as CrmAuthError).status,
        (auth as CrmAuthError).retryable,
      ]).toEqual([401, false]);
      expect((auth as CrmAuthError).correlationId).toBeDefined();
    });

    it('retries 500, 502 (HTML), 503, 423, a timeout and a reset, then succeeds', async () => {
      const { sandbox, adapter, logger } = await harness(
        {},
        { timeoutMs: 300, maxRetries: 6 },
      );
      for (const kind of [
        '500',
        '502',
        '503',
        '423',
        'timeout',
        'reset',
      ] as const) {
        sandbox.injectFault({
          kind,
          path: `${OBJECTS}/contacts/batch/upsert`,
        });
      }
      const id = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('r1') },
        idProperty: 'email',
      });
      expect(sandbox.record('contacts', id)?.properties.email).toBe(
        email('r1'),
      );
      expect(sandbox.requests.map((r) => r.fault ?? r.status)).toEqual([
        '500',
        '502',
        '503',
        '423',
        'timeout',
        'reset',
        200,
      ]);
      expect(logger.lines.filter((l) => l.includes('retry '))).toHaveLength(6);
    });

    it('gives up after maxRetries with a retryable CrmTransportError', async () => {
      const { sandbox, adapter } = await harness({}, { maxRetries: 2 });
      sandbox.injectFault({ kind: '503', times: 5 });
      const error = await caught(() =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: email('r2') },
          idProperty: 'email',
        }),
      );
      expect(error).toBeInstanceOf(CrmTransportError);
      const t = error as CrmTransportError;
      expect([t.status, t.category, t.retryable]).toEqual([
        503,
        'SERVER',
        true,
      ]);
      expect(sandbox.requests).toHaveLength(3);
    });

    it('waits out 429s (Retry-After honoured) without spending the retry budget', async () => {
      const { sandbox, adapter } = await harness(
        { retryAfter: true },
        { maxRetries: 1 },
      );
      sandbox.injectFault({
        kind: '429',
        times: 2,
        policy: 'TEN_SECONDLY_ROLLING',
      });
      sandbox.injectFault({ kind: '500' });
      const id = await adapter.upsert({
        objectType: 'contacts',
        payload: { email: email('r3') },
        idProperty: 'email',
      });
      expect(sandbox.record('contacts', id)).toBeDefined();
      expect(sandbox.requests.map((r) => r.status)).toEqual([
        429, 429, 500, 200,
      ]);
    });

    it('waits about a second after a SECONDLY 429 on search, then searches again', async () => {
      const { sandbox, adapter } = await harness();
      sandbox.injectFault({
        kind: '429',
        policy: 'SECONDLY',
        path: `${OBJECTS}/companies/search`,
      });
      await adapter.upsert({
        objectType: 'companies',
        payload: { domain: 's.test' },
        idProperty: 'domain',
      });
      const search = sandbox.requests.filter((r) => r.path.endsWith('/search'));
      expect(search.map((r) => r.status)).toEqual([429, 200]);
      expect(search[1].at - search[0].at).toBeGreaterThanOrEqual(900);
      expect(sandbox.records('companies')).toHaveLength(1);
    });

    it('does not retry a DAILY 429 and stops calling until the quota resets', async () => {
      const { sandbox, adapter } = await harness();
      sandbox.injectFault({ kind: '429', policy: 'DAILY' });
      const error = await caught(() =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: email('r4') },
          idProperty: 'email',
        }),
      );
      expect(error).toBeInstanceOf(CrmRateLimitError);
      const r = error as CrmRateLimitError;
      expect([r.policy, r.retryable, r.status]).toEqual(['DAILY', false, 429]);
      // The wait runs to the portal's midnight (the sandbox's default portal is west of UTC).
      const usage = await fetch(
        `${sandbox.baseUrl}/account-info/v3/api-usage/daily/private-apps`,
        { headers: { authorization: `Bearer ${TOKEN}` } },
      ).then(
        (res) =>
          res.json() as Promise<{
            results: Array<{ resetsAt: string; collectedAt: string }>;
          }>,
      );
      const { resetsAt, collectedAt } = usage.results[0];
      const portalWait = Date.parse(resetsAt) - Date.parse(collectedAt);
      expect(Math.abs(r.retryAfterMs! - portalWait)).toBeLessThan(5_000);
      expect(sandbox.requests.map((q) => q.path)).toEqual([
        `${OBJECTS}/contacts/batch/upsert`,
        '/account-info/v3/api-usage/daily/private-apps',
        '/account-info/v3/api-usage/daily/private-apps',
      ]);
      const next = await caught(() =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: email('r5') },
          idProperty: 'email',
        }),
      );
      expect(next).toBeInstanceOf(CrmRateLimitError);
      expect((next as CrmRateLimitError).retryable).toBe(false);
      expect(sandbox.requests).toHaveLength(3);
    });

    it('survives seeded random faults: every record synced once, none duplicated', async () => {
      const { sandbox, adapter } = await harness(
        {
          seed: 7,
          faults: { rate: 0.3, kinds: ['500', '502', '503', '423', 'reset'] },
        },
        { maxRetries: 10 },
      );
      const records = Array.from({ length: 300 }, (_, i) => ({
        key: `f${i}`,
        payload: { email: email(`f${i}`) },
      }));
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records,
      });
      expect(results.filter((r) => r.crmId)).toHaveLength(300);
      expect(sandbox.records('contacts')).toHaveLength(300);
      expect(sandbox.requests.some((r) => r.fault)).toBe(true);
    });

    it('retries a batch whose answer was lost after HubSpot wrote it, without duplicates', async () => {
      const { sandbox, adapter } = await harness();
      sandbox.injectFault({
        kind: '503',
        afterWrite: true,
        path: `${OBJECTS}/contacts/batch/upsert`,
      });
      sandbox.injectFault({
        kind: 'reset',
        afterWrite: true,
        path: `${OBJECTS}/contacts/batch/upsert`,
      });
      const records = Array.from({ length: 40 }, (_, i) => ({
        key: `g${i}`,
        payload: { email: email(`ghost${i}`) },
      }));
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records,
      });
      expect(results.filter((r) => r.crmId)).toHaveLength(40);
      expect(sandbox.records('contacts')).toHaveLength(40);
      expect(sandbox.requests.map((r) => r.fault ?? r.status)).toEqual([
        '503',
        'reset',
        200,
      ]);
    });

    it('never puts the token in an error, its stack or cause, or a log line', async () => {
      const { sandbox, adapter, logger } = await harness(
        {},
        { maxRetries: 1, timeoutMs: 200 },
      );
      const errors: unknown[] = [];
      const attempt = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (error) {
          errors.push(error);
        }
      };
      const up = (n: string, extra = {}) =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: email(n), ...extra },
          idProperty: 'email',
        });
      await attempt(() => up('t1', { lifecyclestage: 'bad' }));
      sandbox.injectFault({ kind: 'reset', times: 2 });
      await attempt(() => up('t2'));
      sandbox.injectFault({ kind: 'timeout', times: 2 });
      await attempt(() => up('t3'));
      sandbox.injectFault({ kind: '502', times: 2 });
      await attempt(() => up('t4'));
      const gone = await up('t5');
      await adapter.delete({ objectType: 'contacts', crmId: gone });
      // A re-match that re-creates the record logs it.
      await attempt(() =>
        adapter.upsert({
          objectType: 'contacts',
          payload: { email: email('t6') },
          idProperty: 'email',
          crmId: gone,
        }),
      );
      sandbox.injectFault({ kind: '429', policy: 'DAILY' });
      await attempt(() => up('t7'));
      const wrong = new HubspotAdapter({
        accessToken: `${TOKEN}-wrong`,
        baseUrl: sandbox.baseUrl,
        logger,
      });
      await attempt(() =>
        wrong.upsert({
          objectType: 'contacts',
          payload: { email: email('t8') },
          idProperty: 'email',
        }),
      );
      wrong.close();
      expect(errors.length).toBeGreaterThanOrEqual(6);
      for (const error of errors) {
        expect(error).toBeInstanceOf(CrmError);
        const dump = [
          inspect(error, { showHidden: true, depth: 10 }),
          JSON.stringify(error),
          (error as Error).stack,
          String((error as { cause?: unknown }).cause),
        ].join('\n');
        expect(dump).not.toContain(TOKEN);
      }
      expect(logger.lines.length).toBeGreaterThan(0);
      expect(logger.lines.join('\n')).not.toContain(TOKEN);
    });
  });
});

describeCrmAdapterContract(
  'HubspotAdapter (sandbox)',
  async () => {
    const sandbox = new HubspotSandbox({
      accessToken: TOKEN,
      searchLagMs: 0,
      tenSecondLimit: 10_000,
    });
    const { baseUrl } = await sandbox.start();
    const adapter = new HubspotAdapter({
      accessToken: TOKEN,
      baseUrl,
      logger: new CapturingLogger(),
    });
    contract = { sandbox, adapter };
    return {
      adapter,
      objectType: 'contacts',
      idProperty: 'email',
      payload: (key: string) => ({ email: key, firstname: 'Contract' }),
      read: async (id: string) => sandbox.record('contacts', id)?.properties,
    };
  },
  async () => {
    contract?.adapter.close();
    await contract?.sandbox.stop();
  },
);
let contract: { sandbox: HubspotSandbox; adapter: HubspotAdapter } | undefined;

describe('SyncService through HubspotAdapter and the sandbox', () => {
  it('stores the HubSpot id, updates it later by that id, and re-matches after a merge', async () => {
    const sandbox = new HubspotSandbox({ accessToken: TOKEN, searchLagMs: 0 });
    const { baseUrl } = await sandbox.start();
    const db = await createTestDatabase('sqlite');
    const app = await buildApp({
      db,
      entities: [User, Company],
      providers: [UserSerializer, CompanySerializer],
      etlify: {
        crms: [
          {
            name: 'hubspot',
            adapter: new HubspotAdapter({
              accessToken: TOKEN,
              baseUrl,
              logger: new CapturingLogger(),
            }),
            rateLimit: { maxRequests: 100, intervalMs: 10_000 },
          },
          { name: 'audit', adapter: new NullAdapter() },
        ],
        capture: false,
        staleSweep: false,
      },
    });
    await app.init();
    try {
      const sync = app.get(SyncService);
      const ds = app.get(DataSource);
      const users = ds.getRepository(User);
      const states = ds.getRepository(CrmSynchronisation);
      const ada = await users.save(
        users.create({
          email: 'ada@example.com',
          firstName: 'Ada',
          lastName: 'Lovelace',
        }),
      );
      const first = await sync.sync(ada, { crm: 'hubspot' });
      expect(first.status).toBe('synced');
      const row = await states.findOneByOrFail({
        crmName: 'hubspot',
        resourceId: String(ada.id),
      });
      expect(sandbox.record('contacts', row.crmId!)?.properties.email).toBe(
        'ada@example.com',
      );
      expect(
        app.get(CrmRegistry).getCrm('hubspot').rateGovernor,
      ).toBeInstanceOf(InProcessRateGovernor);

      ada.firstName = 'Augusta';
      await users.save(ada);
      const before = sandbox.requests.length;
      expect((await sync.sync(ada, { crm: 'hubspot' })).crmId).toBe(row.crmId);
      // sync(one) is syncMany([one]): one batch write updates the record in place.
      expect(
        sandbox.requests
          .slice(before)
          .filter((r) => /\/batch\/(update|upsert)$/.test(r.path))
          .map((r) => r.status),
      ).toEqual([expect.any(Number)]);
      expect(sandbox.record('contacts', row.crmId!)?.properties.firstname).toBe(
        'Augusta',
      );

      // Merged away in HubSpot: the next sync adopts the survivor and stores its id.
      const other = await users.save(
        users.create({
          email: 'other@example.com',
          firstName: 'O',
          lastName: 'X',
        }),
      );
      const survivor = (await sync.sync(other, { crm: 'hubspot' })).crmId!;
      sandbox.mergeRecords('contacts', survivor, row.crmId!);
      const merged = sandbox.record('contacts', survivor)!.id;
      ada.lastName = 'King';
      await users.save(ada);
      expect(await sync.sync(ada, { crm: 'hubspot' })).toMatchObject({
        status: 'synced',
        crmId: merged,
      });
      expect((await states.findOneByOrFail({ id: row.id })).crmId).toBe(merged);
      expect(sandbox.records('contacts')).toHaveLength(1);
      expect(
        (await app.get(CrmRegistry).getCrm('hubspot').rateGovernor!.snapshot!())
          .callsMade,
      ).toBe(sandbox.requests.length);
    } finally {
      await app.close();
      await db.drop();
      await sandbox.stop();
    }
  });
});
