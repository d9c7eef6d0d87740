import { inspect } from 'node:util';
import type { LoggerService } from '@nestjs/common';
import {
  CrmAmbiguousWriteError,
  CrmMigrationInProgressError,
  CrmRateLimitError,
  EtlifyConfigurationError,
  HubspotAdapter,
  type HubspotAdapterOptions,
} from 'nestjs-etlify';
import {
  HubspotSandbox,
  type HubspotSandboxOptions,
} from 'nestjs-etlify/testing';

/** Long and recognisable, so any fragment of it is easy to spot. */
const TOKEN = `pat-eu1-EXACTLYONCE-${'7f3a9c2e5b1d4680'.repeat(6)}-end`;

class Lines implements LoggerService {
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
}

const open: Array<{ sandbox: HubspotSandbox; adapter: HubspotAdapter }> = [];

async function harness(
  sandboxOptions: HubspotSandboxOptions = {},
  adapterOptions: Partial<HubspotAdapterOptions> = {},
) {
  const sandbox = new HubspotSandbox({
    accessToken: TOKEN,
    tenSecondLimit: 10_000,
    searchLagMs: 200,
    ...sandboxOptions,
  });
  const { baseUrl } = await sandbox.start();
  const logger = new Lines();
  const adapter = new HubspotAdapter({
    accessToken: TOKEN,
    baseUrl,
    logger,
    // The write protocol alone: no schema read before the first write.
    validatePayloads: false,
    retryBaseDelayMs: 20,
    lockedDelayMs: 50,
    timeoutMs: 1_500,
    settleDelayMs: 400,
    ...adapterOptions,
  });
  open.push({ sandbox, adapter });
  return { sandbox, adapter, logger };
}

afterEach(async () => {
  while (open.length) {
    const h = open.pop()!;
    h.adapter.close();
    await h.sandbox.stop();
  }
});

async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Every value of `property` among live records, with how often it occurs. */
function census(sandbox: HubspotSandbox, type: string, property: string) {
  const counts = new Map<string, number>();
  for (const r of sandbox.records(type)) {
    const v = r.properties[property] ?? '';
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

describe('HubspotAdapter: first writes are safe to repeat', () => {
  it('provisions the key property, then a company whose create answer is lost exists once', async () => {
    const { sandbox, adapter } = await harness();
    expect(
      (await adapter.provisionKeyProperty('companies', { apply: true })).status,
    ).toBe('created');
    for (const kind of [
      'reset',
      '502',
      'truncated',
      'empty',
      'late',
    ] as const) {
      sandbox.ghostWrite({ kind, path: /\/batch\/upsert$/, delayMs: 3_000 });
      const id = await adapter.upsert({
        objectType: 'companies',
        payload: { domain: `${kind}.example.com`, name: `Co ${kind}` },
        idProperty: 'domain',
        recordKey: `Company:${kind}`,
      });
      expect(id).toMatch(/^\d+$/);
      expect(sandbox.record('companies', id)?.properties.name).toBe(
        `Co ${kind}`,
      );
    }
    const keys = census(sandbox, 'companies', 'etlify_key');
    expect([...keys.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(
      sandbox.callCount({ method: 'POST', path: /objects\/[^/]+\/companies$/ }),
    ).toBe(0);
  });

  it('matches 250 batch results by key, whatever their order and without trace ids', async () => {
    const { sandbox, adapter } = await harness({ seed: 3 });
    await adapter.provisionKeyProperty('companies', { apply: true });
    sandbox.ghostWrite({ kind: '504', path: /\/batch\/upsert$/ });
    const records = Array.from({ length: 250 }, (_, i) => ({
      key: String(i),
      recordKey: `Company:${i}`,
      payload: { name: `Company ${i}` },
    }));
    const results = await adapter.batchUpsert({
      objectType: 'companies',
      idProperty: '',
      records,
    });
    expect(results).toHaveLength(250);
    for (const r of results) {
      expect(r.error).toBeUndefined();
      const record = sandbox.record('companies', r.crmId!);
      expect(record?.properties.name).toBe(`Company ${r.key}`);
      expect(record?.properties.etlify_key).toBe(`Company:${r.key}`);
    }
    expect(sandbox.records('companies')).toHaveLength(250);
    expect(sandbox.callCount({ path: /\/batch\/create$/ })).toBe(0);
  });

  it('without the key property, settles a lost create by reading it back: one record, one create', async () => {
    const { sandbox, adapter } = await harness({}, { keyProperty: false });
    sandbox.ghostWrite({ kind: 'reset', method: 'POST', path: /\/companies$/ });
    const id = await adapter.upsert({
      objectType: 'companies',
      payload: { domain: 'ghost.example.com', name: 'Ghost' },
      idProperty: 'domain',
    });
    expect(sandbox.records('companies').map((r) => r.id)).toEqual([id]);
    expect(sandbox.callCount({ method: 'POST', path: /\/companies$/ })).toBe(1);
  });

  it('without any key, a lost create is an ambiguous error, never a second create or an "undefined" id', async () => {
    const { sandbox, adapter } = await harness({}, { keyProperty: false });
    for (const kind of ['empty', 'truncated', '500'] as const) {
      sandbox.ghostWrite({ kind, method: 'POST', path: /\/deals$/ });
      const write = () =>
        adapter.upsert({
          objectType: 'deals',
          payload: { dealname: kind },
          recordKey: `Deal:${kind}`,
        });
      const error = await rejection(write);
      expect(error).toBeInstanceOf(CrmAmbiguousWriteError);
      expect((error as CrmAmbiguousWriteError).retryable).toBe(false);
      expect((error as Error).message).toMatch(/etlify provision --apply/);
      // Tried again (a queue retry): refused without a call, never a second create.
      expect(await rejection(write)).toBe(error);
    }
    expect(sandbox.records('deals')).toHaveLength(3);
    expect(sandbox.callCount({ method: 'POST', path: /\/deals$/ })).toBe(3);
  });

  it('follows merges in batch updates and returns the new id for both old ids', async () => {
    const { sandbox, adapter } = await harness();
    const results = await adapter.batchUpsert({
      objectType: 'contacts',
      idProperty: 'email',
      records: ['a', 'b', 'c'].map((k) => ({
        key: k,
        payload: { email: `${k}@merge.example.com` },
      })),
    });
    const ids = new Map(results.map((r) => [r.key, r.crmId!]));
    const merged = sandbox.merge('contacts', ids.get('a')!, ids.get('b')!);
    const again = await adapter.batchUpsert({
      objectType: 'contacts',
      idProperty: 'email',
      records: ['a', 'b', 'c'].map((k) => ({
        key: k,
        crmId: ids.get(k),
        payload: { email: `${k}@merge.example.com`, firstname: k },
      })),
    });
    const after = new Map(again.map((r) => [r.key, r.crmId]));
    expect(after.get('a')).toBe(merged);
    expect(after.get('b')).toBe(merged);
    expect(after.get('c')).toBe(ids.get('c'));
    expect(sandbox.records('contacts')).toHaveLength(2);
  });
});

describe('HubspotAdapter: waits that are not failures', () => {
  it('waits out a 477 with its Retry-After, then writes', async () => {
    const { sandbox, adapter } = await harness();
    sandbox.injectFault({ kind: '477', retryAfterSeconds: 1 });
    const started = Date.now();
    const id = await adapter.upsert({
      objectType: 'contacts',
      payload: { email: 'migrating@example.com' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sandbox.requests.map((r) => r.status)).toEqual([477, 200]);
    expect(sandbox.record('contacts', id)).toBeDefined();
  });

  it('hands a long 477 back as a rate limit (never counted toward dead letters)', async () => {
    const { sandbox, adapter } = await harness({}, { maxInlineWaitMs: 1_000 });
    sandbox.injectFault({ kind: '477', retryAfterSeconds: 3_600 });
    const error = await rejection(() =>
      adapter.upsert({
        objectType: 'contacts',
        payload: { email: 'long@example.com' },
      }),
    );
    expect(error).toBeInstanceOf(CrmMigrationInProgressError);
    expect(error).toBeInstanceOf(CrmRateLimitError);
    expect((error as CrmRateLimitError).retryAfterMs).toBe(3_600_000);
  });

  it('2026-09 bodies: per-input errors inside a 200 are parsed, the good inputs written', async () => {
    const { sandbox, adapter } = await harness({}, { apiVersion: '2026-09' });
    const results = await adapter.batchUpsert({
      objectType: 'contacts',
      idProperty: 'email',
      records: [
        { key: 'ok', payload: { email: 'ok@example.com' } },
        { key: 'bad', payload: { email: 'bad@example.com', nope: 'x' } },
      ],
    });
    const byKey = new Map(results.map((r) => [r.key, r]));
    expect(byKey.get('ok')?.crmId).toMatch(/^\d+$/);
    expect(byKey.get('bad')?.error?.message).toContain('nope');
    expect(sandbox.requests.every((r) => r.status !== 207)).toBe(true);
    expect(sandbox.records('contacts')).toHaveLength(1);
  });

  it.each(['v3', '2025-09', '2026-03', '2026-09'])(
    'speaks apiVersion %s',
    async (apiVersion) => {
      const { sandbox, adapter } = await harness({}, { apiVersion });
      await adapter.upsert({
        objectType: 'contacts',
        payload: { email: `v-${apiVersion}@example.com` },
      });
      const prefix =
        apiVersion === 'v3'
          ? '/crm/v3/objects/'
          : `/crm/objects/${apiVersion}/`;
      expect(sandbox.requests[0].path.startsWith(prefix)).toBe(true);
    },
  );
});

describe('HubspotAdapter: options and secrets', () => {
  it.each([
    [{ timeoutMs: 0 }, /timeoutMs must be an integer ≥ 1/],
    [{ maxRetries: -1 }, /maxRetries must be an integer ≥ 0/],
    [{ baseUrl: 'api.hubapi.com' }, /baseUrl must be an http\(s\) URL/],
    [
      { apiVersion: '2026-04' },
      /apiVersion must be 'v3' or a HubSpot date version/,
    ],
    [
      { keyProperty: 'Etlify Key' },
      /keyProperty must be a HubSpot property name/,
    ],
    [{ accessToken: '' }, /accessToken is required/],
  ])('rejects %p at boot with EtlifyConfigurationError', (bad, message) => {
    const make = () =>
      new HubspotAdapter({ accessToken: TOKEN, ...(bad as object) });
    expect(make).toThrow(EtlifyConfigurationError);
    expect(make).toThrow(message);
  });

  it('keeps the token out of inspect, JSON and keys; errors and logs never carry 12 of its characters', async () => {
    const { adapter, logger } = await harness(
      { accessToken: 'another-token' },
      { maxRetries: 1 },
    );
    const shown = [
      inspect(adapter, { depth: 10, showHidden: true }),
      JSON.stringify(adapter),
      Object.keys(adapter).join(','),
    ].join('\n');
    const error = await rejection(() =>
      adapter.upsert({
        objectType: 'contacts',
        payload: { email: 'x@example.com' },
      }),
    );
    const texts = [
      shown,
      String((error as Error).stack),
      inspect(error, { depth: 10, showHidden: true }),
      logger.lines.join('\n'),
    ].join('\n');
    for (let i = 0; i + 12 <= TOKEN.length; i++) {
      expect(texts).not.toContain(TOKEN.slice(i, i + 12));
    }
  });
});
