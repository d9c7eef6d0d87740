import { Agent, request as httpRequest } from 'node:http';
import {
  HubspotSandbox,
  type HubspotSandboxOptions,
} from 'nestjs-etlify/testing';

const TOKEN = 'test-token';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** A tiny client over Node's global fetch, as an adapter would call HubSpot. */
function client(baseUrl: string, token: string | null = TOKEN) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    raw?: string,
  ): Promise<Answer> => {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
    };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(baseUrl + path, {
      method,
      headers,
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  };
}

async function started(options: HubspotSandboxOptions = {}) {
  const sandbox = new HubspotSandbox({
    accessToken: TOKEN,
    searchLagMs: 0,
    ...options,
  });
  const { baseUrl } = await sandbox.start();
  return { sandbox, baseUrl, api: client(baseUrl) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const upsertInput = (
  email: string,
  properties: Record<string, unknown> = {},
) => ({
  id: email,
  idProperty: 'email',
  properties,
});

describe('HubspotSandbox', () => {
  describe('objects API', () => {
    let sandbox: HubspotSandbox;
    let api: ReturnType<typeof client>;

    beforeAll(async () => {
      ({ sandbox, api } = await started({ tenSecondLimit: 10_000 }));
    });
    afterAll(() => sandbox.stop());
    beforeEach(() => sandbox.reset());

    it('creates, reads, updates and archives a record with HubSpot shapes', async () => {
      const created = await api('POST', '/crm/v3/objects/contacts', {
        properties: {
          email: 'Ada@Example.com',
          firstname: 'Ada',
          annualrevenue: 1200.5,
        },
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('x-hubspot-correlation-id')).toMatch(
        /^[0-9a-f-]{36}$/,
      );
      const id = created.body.id;
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^\d+$/),
        archived: false,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        properties: {
          email: 'ada@example.com',
          firstname: 'Ada',
          annualrevenue: '1200.5',
          hs_object_id: id,
          createdate: created.body.createdAt,
          lastmodifieddate: created.body.updatedAt,
        },
      });

      const read = await api(
        'GET',
        `/crm/v3/objects/contacts/${id}?properties=firstname,phone`,
      );
      expect(read.status).toBe(200);
      expect(read.body.properties).toEqual({
        firstname: 'Ada',
        phone: null,
        hs_object_id: id,
        createdate: created.body.createdAt,
        lastmodifieddate: created.body.updatedAt,
      });

      const updated = await api('PATCH', `/crm/v3/objects/contacts/${id}`, {
        properties: { firstname: '', lastname: 'Lovelace' },
      });
      expect(updated.status).toBe(200);
      expect(updated.body.properties.lastname).toBe('Lovelace');
      expect(updated.body.properties.firstname).toBeUndefined();
      expect(
        sandbox.record('contacts', id)?.properties.firstname,
      ).toBeUndefined();

      const archived = await api('DELETE', `/crm/v3/objects/contacts/${id}`);
      expect(archived.status).toBe(204);
      expect(archived.text).toBe('');
      const gone = await api('GET', `/crm/v3/objects/contacts/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
      });
      expect(gone.body.correlationId).toBe(
        gone.headers.get('x-hubspot-correlation-id'),
      );
      expect(sandbox.records('contacts')).toHaveLength(0);
      expect(sandbox.record('contacts', id)?.archived).toBe(true);
    });

    it('accepts object type ids and custom object names', async () => {
      const company = await api('POST', '/crm/v3/objects/0-2', {
        properties: { name: 'Acme' },
      });
      expect(company.status).toBe(201);
      expect(sandbox.records('companies').map((r) => r.id)).toEqual([
        company.body.id,
      ]);
      const custom = await api('POST', '/crm/v3/objects/p123_sub', {
        properties: { plan: 'gold', seats: 3 },
      });
      expect(custom.status).toBe(201);
      expect(custom.body.properties).toMatchObject({
        plan: 'gold',
        seats: '3',
        hs_object_id: custom.body.id,
      });
      expect(custom.body.properties.hs_createdate).toBe(custom.body.createdAt);
    });

    it('reads and updates by idProperty, case-insensitively for emails', async () => {
      const { body } = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'grace@example.com' },
      });
      const read = await api(
        'GET',
        '/crm/v3/objects/contacts/GRACE@example.com?idProperty=email',
      );
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(body.id);
      const patched = await api(
        'PATCH',
        '/crm/v3/objects/contacts/grace@EXAMPLE.com?idProperty=email',
        {
          properties: { lastname: 'Hopper' },
        },
      );
      expect(patched.status).toBe(200);
      expect(sandbox.record('contacts', body.id)?.properties.lastname).toBe(
        'Hopper',
      );
      const missing = await api(
        'GET',
        '/crm/v3/objects/contacts/nobody@example.com?idProperty=email',
      );
      expect(missing.status).toBe(404);
      const notUnique = await api(
        'GET',
        '/crm/v3/objects/contacts/Hopper?idProperty=lastname',
      );
      expect(notUnique.status).toBe(400);
    });

    it('answers 409 with the existing id on a duplicate email, whatever its case', async () => {
      const first = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'x@example.com' },
      });
      const dup = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'X@EXAMPLE.COM' },
      });
      expect(dup.status).toBe(409);
      expect(dup.body).toEqual({
        status: 'error',
        message: `Contact already exists. Existing ID: ${first.body.id}`,
        category: 'CONFLICT',
        correlationId: expect.any(String),
      });
      expect(sandbox.records('contacts')).toHaveLength(1);
    });

    it('treats secondary emails as unique identities', async () => {
      const owner = await api('POST', '/crm/v3/objects/contacts', {
        properties: {
          email: 'main@example.com',
          hs_additional_emails: 'Alt@Example.com',
        },
      });
      const clash = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'alt@example.com' },
      });
      expect(clash.status).toBe(400);
      expect(clash.body.category).toBe('VALIDATION_ERROR');
      expect(clash.body.message).toContain('already has that value');
      const other = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'other@example.com' },
      });
      const patch = await api(
        'PATCH',
        `/crm/v3/objects/contacts/${other.body.id}`,
        {
          properties: { email: 'ALT@example.com' },
        },
      );
      expect(patch.status).toBe(400);
      expect(patch.body.message).toContain('already has that value');
      const bySecondary = await api(
        'GET',
        '/crm/v3/objects/contacts/alt@example.com?idProperty=email',
      );
      expect(bySecondary.body.id).toBe(owner.body.id);
    });

    it('batch upserts by email and flags new records', async () => {
      await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'old@example.com' },
      });
      const res = await api('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: [
          upsertInput('OLD@example.com', { firstname: 'Old' }),
          upsertInput('new@example.com', { firstname: 'New' }),
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        status: 'COMPLETE',
        startedAt: expect.any(String),
        completedAt: expect.any(String),
      });
      const byEmail = Object.fromEntries(
        res.body.results.map((r: any) => [r.properties.email, r]),
      );
      expect(byEmail['old@example.com']).toMatchObject({
        new: false,
        properties: { firstname: 'Old' },
      });
      expect(byEmail['new@example.com']).toMatchObject({
        new: true,
        properties: { firstname: 'New' },
      });
      expect(
        sandbox
          .records('contacts')
          .map((r) => r.properties.firstname)
          .sort(),
      ).toEqual(['New', 'Old']);
    });

    it('refuses, per input, upsert inputs that resolve to a record another input already took', async () => {
      const res = await api('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: [
          upsertInput('ok@example.com', { firstname: 'Ok' }),
          upsertInput('dup@example.com', { firstname: 'First' }),
          upsertInput('DUP@example.com', { firstname: 'Second' }),
        ],
      });
      expect(res.status).toBe(207);
      expect(res.body.numErrors).toBe(1);
      expect(res.body.errors[0]).toMatchObject({
        status: 'error',
        category: 'VALIDATION_ERROR',
        context: { ids: ['DUP@example.com'] },
      });
      expect(res.body.errors[0].message).toContain('Duplicate IDs');
      expect(
        sandbox
          .records('contacts')
          .map((r) => `${r.properties.email}:${r.properties.firstname}`)
          .sort(),
      ).toEqual(['dup@example.com:First', 'ok@example.com:Ok']);
    });

    it('rejects the whole upsert batch on duplicates when asked (upsertDuplicates: reject-batch)', async () => {
      const { sandbox: strict, api: strictApi } = await started({
        upsertDuplicates: 'reject-batch',
      });
      try {
        const res = await strictApi(
          'POST',
          '/crm/v3/objects/contacts/batch/upsert',
          {
            inputs: [
              upsertInput('ok@example.com'),
              upsertInput('dup@example.com'),
              upsertInput('DUP@example.com'),
            ],
          },
        );
        expect(res.status).toBe(400);
        expect(res.body.category).toBe('VALIDATION_ERROR');
        expect(res.body.message).toContain('Duplicate IDs');
        expect(strict.records('contacts')).toHaveLength(0);
      } finally {
        await strict.stop();
      }
    });

    it('upserts only by email or a unique-value property', async () => {
      const byId = await api('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: [
          {
            id: '1',
            idProperty: 'hs_object_id',
            properties: { firstname: 'A' },
          },
        ],
      });
      expect(byId.status).toBe(400);
      const byDomain = await api(
        'POST',
        '/crm/v3/objects/companies/batch/upsert',
        {
          inputs: [
            {
              id: 'acme.com',
              idProperty: 'domain',
              properties: { name: 'Acme' },
            },
          ],
        },
      );
      expect(byDomain.status).toBe(400);
      expect(byDomain.body.category).toBe('VALIDATION_ERROR');
      sandbox.createProperty('companies', {
        name: 'external_id',
        type: 'string',
        hasUniqueValue: true,
      });
      const first = await api(
        'POST',
        '/crm/v3/objects/companies/batch/upsert',
        {
          inputs: [
            {
              id: 'c-1',
              idProperty: 'external_id',
              properties: { name: 'Acme' },
            },
          ],
        },
      );
      expect(first.status).toBe(200);
      expect(first.body.results[0]).toMatchObject({
        new: true,
        properties: { external_id: 'c-1', name: 'Acme' },
      });
      const again = await api(
        'POST',
        '/crm/v3/objects/companies/batch/upsert',
        {
          inputs: [
            {
              id: 'c-1',
              idProperty: 'external_id',
              properties: { name: 'Acme Inc' },
            },
          ],
        },
      );
      expect(again.body.results[0]).toMatchObject({
        new: false,
        id: first.body.results[0].id,
      });
      const clash = await api('POST', '/crm/v3/objects/companies', {
        properties: { name: 'Copy', external_id: 'c-1' },
      });
      expect(clash.status).toBe(400);
      expect(clash.body.message).toContain('already has that value');
      expect(sandbox.records('companies')).toHaveLength(1);
    });

    it('limits every batch endpoint to 100 inputs and accepts a body without inputs', async () => {
      const inputs = Array.from({ length: 101 }, (_, i) => ({
        ...upsertInput(`u${i}@example.com`),
        properties: { email: `u${i}@example.com` },
      }));
      for (const action of ['create', 'read', 'update', 'upsert', 'archive']) {
        const res = await api(
          'POST',
          `/crm/v3/objects/contacts/batch/${action}`,
          { inputs },
        );
        expect([action, res.status, res.body.category]).toEqual([
          action,
          400,
          'VALIDATION_ERROR',
        ]);
      }
      expect(sandbox.records('contacts')).toHaveLength(0);
      const empty = await api('POST', '/crm/v3/objects/contacts/batch/upsert', {
        properties: {},
      });
      expect(empty.status).toBe(200);
      expect(empty.body).toMatchObject({ status: 'COMPLETE', results: [] });
    });

    it('batch create fails as a whole without trace ids and per input with them', async () => {
      await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'taken@example.com' },
      });
      const inputs = [
        { properties: { email: 'fresh@example.com' } },
        { properties: { email: 'taken@example.com' } },
        { properties: { email: 'other@example.com', bogus: 'x' } },
      ];
      const whole = await api('POST', '/crm/v3/objects/contacts/batch/create', {
        inputs,
      });
      // The first failing input decides the answer: here the duplicate email.
      expect(whole.status).toBe(409);
      expect(whole.body.category).toBe('CONFLICT');
      const invalid = await api(
        'POST',
        '/crm/v3/objects/contacts/batch/create',
        {
          inputs: [inputs[0], inputs[2]],
        },
      );
      expect(invalid.status).toBe(400);
      expect(invalid.body.errors[0].code).toBe('PROPERTY_DOESNT_EXIST');
      const sameTraceIds = await api(
        'POST',
        '/crm/v3/objects/contacts/batch/create',
        {
          inputs: [
            { ...inputs[0], objectWriteTraceId: 'same' },
            { ...inputs[2], objectWriteTraceId: 'same' },
          ],
        },
      );
      expect(sameTraceIds.status).toBe(400);
      expect(sandbox.records('contacts')).toHaveLength(1);

      const traced = await api(
        'POST',
        '/crm/v3/objects/contacts/batch/create',
        {
          inputs: inputs.map((input, i) => ({
            ...input,
            objectWriteTraceId: `t${i}`,
          })),
        },
      );
      expect(traced.status).toBe(207);
      expect(traced.body).toMatchObject({ status: 'COMPLETE', numErrors: 2 });
      expect(traced.body.results).toHaveLength(1);
      expect(traced.body.results[0]).toMatchObject({
        properties: { email: 'fresh@example.com' },
      });
      // Successful results do not echo the trace id: only errors name it.
      expect(traced.body.results[0]).not.toHaveProperty('objectWriteTraceId');
      const byTrace = Object.fromEntries(
        traced.body.errors.map((e: any) => [
          e.context.objectWriteTraceId[0],
          e,
        ]),
      );
      expect(byTrace.t1).toMatchObject({
        status: 'error',
        category: 'CONFLICT',
      });
      expect(byTrace.t1.message).toMatch(/Existing ID: \d+/);
      expect(byTrace.t2).toMatchObject({
        status: 'error',
        category: 'VALIDATION_ERROR',
      });
      expect(sandbox.records('contacts')).toHaveLength(2);

      const ok = await api('POST', '/crm/v3/objects/contacts/batch/create', {
        inputs: [{ properties: { email: 'more@example.com' } }],
      });
      expect(ok.status).toBe(201);
    });

    it('batch read and update answer 207 OBJECT_NOT_FOUND for missing ids', async () => {
      const a = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'a@example.com' },
      });
      const read = await api('POST', '/crm/v3/objects/contacts/batch/read', {
        inputs: [{ id: a.body.id }, { id: '999999' }],
        properties: ['email'],
      });
      expect(read.status).toBe(207);
      expect(read.body.results.map((r: any) => r.properties.email)).toEqual([
        'a@example.com',
      ]);
      expect(read.body.errors).toEqual([
        expect.objectContaining({
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          context: { ids: ['999999'] },
        }),
      ]);
      const byEmail = await api('POST', '/crm/v3/objects/contacts/batch/read', {
        inputs: [{ id: 'A@example.com' }],
        idProperty: 'email',
      });
      expect(byEmail.status).toBe(200);
      expect(byEmail.body.results[0].id).toBe(a.body.id);

      const update = await api(
        'POST',
        '/crm/v3/objects/contacts/batch/update',
        {
          inputs: [
            { id: a.body.id, properties: { firstname: 'Updated' } },
            { id: '888888', properties: { firstname: 'Nobody' } },
          ],
        },
      );
      expect(update.status).toBe(207);
      expect(update.body.errors[0]).toMatchObject({
        category: 'OBJECT_NOT_FOUND',
        context: { ids: ['888888'] },
      });
      expect(sandbox.record('contacts', a.body.id)?.properties.firstname).toBe(
        'Updated',
      );
      const allFound = await api(
        'POST',
        '/crm/v3/objects/contacts/batch/update',
        {
          inputs: [{ id: a.body.id, properties: { lastname: 'L' } }],
        },
      );
      expect(allFound.status).toBe(200);
    });

    it('batch archive answers 204 and hides the records', async () => {
      const a = await api('POST', '/crm/v3/objects/deals', {
        properties: { dealname: 'D', amount: 10 },
      });
      const res = await api('POST', '/crm/v3/objects/deals/batch/archive', {
        inputs: [{ id: a.body.id }, { id: '424242' }],
      });
      expect(res.status).toBe(204);
      expect(sandbox.records('deals')).toHaveLength(0);
    });

    it('validates writes against property definitions', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [
          { email: 'p@example.com', favourite_colour: 'blue' },
          'PROPERTY_DOESNT_EXIST',
        ],
        [{ email: 'p@example.com', hs_object_id: '5' }, 'READ_ONLY_VALUE'],
        [{ email: 'p@example.com', lifecyclestage: 'fan' }, 'INVALID_OPTION'],
        [
          { email: 'p@example.com', date_of_birth: Date.UTC(1990, 0, 1, 12) },
          'INVALID_DATE',
        ],
        [{ email: 'not-an-email' }, 'INVALID_EMAIL'],
      ];
      for (const [properties, code] of cases) {
        const res = await api('POST', '/crm/v3/objects/contacts', {
          properties,
        });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          status: 'error',
          category: 'VALIDATION_ERROR',
          correlationId: expect.any(String),
          errors: [
            expect.objectContaining({
              code,
              message: expect.any(String),
              context: expect.any(Object),
            }),
          ],
        });
        expect(res.body.message).toContain('Property values were not valid');
      }
      expect(sandbox.records('contacts')).toHaveLength(0);
      const ok = await api('POST', '/crm/v3/objects/contacts', {
        properties: {
          email: 'p@example.com',
          lifecyclestage: 'lead',
          date_of_birth: Date.UTC(1990, 0, 1),
        },
      });
      expect(ok.status).toBe(201);
      expect(ok.body.properties).toMatchObject({
        lifecyclestage: 'lead',
        date_of_birth: '1990-01-01',
      });
    });

    it('serves and extends the properties API; custom objects become strict once defined', async () => {
      const list = await api('GET', '/crm/v3/properties/contacts');
      expect(list.status).toBe(200);
      const email = list.body.results.find((p: any) => p.name === 'email');
      expect(email).toMatchObject({ type: 'string', fieldType: 'text' });
      const objectId = await api(
        'GET',
        '/crm/v3/properties/contacts/hs_object_id',
      );
      expect(objectId.body.modificationMetadata.readOnlyValue).toBe(true);
      const stage = await api('GET', '/crm/v3/properties/0-1/lifecyclestage');
      expect(stage.body.options.map((o: any) => o.value)).toContain('customer');

      const def = {
        name: 'tier',
        label: 'Tier',
        type: 'enumeration',
        fieldType: 'select',
        groupName: 'subscriptioninformation',
        options: [
          { label: 'Gold', value: 'gold' },
          { label: 'Silver', value: 'silver' },
        ],
      };
      const created = await api('POST', '/crm/v3/properties/p123_sub', def);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'tier',
        hasUniqueValue: false,
        archived: false,
      });
      const again = await api('POST', '/crm/v3/properties/p123_sub', def);
      expect(again.status).toBe(409);
      const incomplete = await api('POST', '/crm/v3/properties/p123_sub', {
        name: 'x',
      });
      expect(incomplete.status).toBe(400);

      const badOption = await api('POST', '/crm/v3/objects/p123_sub', {
        properties: { tier: 'bronze' },
      });
      expect(badOption.body.errors[0].code).toBe('INVALID_OPTION');
      const unknown = await api('POST', '/crm/v3/objects/p123_sub', {
        properties: { colour: 'red' },
      });
      expect(unknown.body.errors[0].code).toBe('PROPERTY_DOESNT_EXIST');
      const ok = await api('POST', '/crm/v3/objects/p123_sub', {
        properties: { tier: 'gold' },
      });
      expect(ok.status).toBe(201);
      const missing = await api('GET', '/crm/v3/properties/contacts/nope');
      expect(missing.status).toBe(404);
    });

    it('merges mint a new id that both old ids follow on basic GET, PATCH and DELETE', async () => {
      const keep = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'keep@example.com', firstname: 'Keep' },
      });
      const drop = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'drop@example.com', phone: '123' },
      });
      const merged = await api('POST', '/crm/v3/objects/contacts/merge', {
        primaryObjectId: keep.body.id,
        objectIdToMerge: drop.body.id,
      });
      expect(merged.status).toBe(200);
      const newId = merged.body.id;
      expect([keep.body.id, drop.body.id]).not.toContain(newId);
      expect(merged.body).toMatchObject({
        properties: {
          email: 'keep@example.com',
          firstname: 'Keep',
          phone: '123',
          hs_additional_emails: 'drop@example.com',
          hs_object_id: newId,
        },
      });
      expect(
        merged.body.properties.hs_merged_object_ids.split(';').sort(),
      ).toEqual([keep.body.id, drop.body.id].sort());
      expect(sandbox.records('contacts').map((r) => r.id)).toEqual([newId]);

      for (const oldId of [keep.body.id, drop.body.id]) {
        const read = await api('GET', `/crm/v3/objects/contacts/${oldId}`);
        expect([oldId, read.status, read.body.id]).toEqual([oldId, 200, newId]);
        const patch = await api('PATCH', `/crm/v3/objects/contacts/${oldId}`, {
          properties: { lastname: `via-${oldId}` },
        });
        expect([oldId, patch.status, patch.body.id]).toEqual([
          oldId,
          200,
          newId,
        ]);
      }
      expect(sandbox.record('contacts', newId)?.properties.lastname).toBe(
        `via-${drop.body.id}`,
      );
      const byOldEmail = await api(
        'GET',
        '/crm/v3/objects/contacts/drop@example.com?idProperty=email',
      );
      expect(byOldEmail.body.id).toBe(newId);

      // Batch endpoints do not follow old ids.
      const batchRead = await api(
        'POST',
        '/crm/v3/objects/contacts/batch/read',
        {
          inputs: [{ id: keep.body.id }, { id: newId }],
          properties: ['email'],
        },
      );
      expect(batchRead.status).toBe(207);
      expect(batchRead.body.results.map((r: any) => r.id)).toEqual([newId]);
      expect(batchRead.body.errors).toEqual([
        expect.objectContaining({
          category: 'OBJECT_NOT_FOUND',
          context: { ids: [keep.body.id] },
        }),
      ]);
      const batchUpdate = await api(
        'POST',
        '/crm/v3/objects/contacts/batch/update',
        {
          inputs: [
            { id: drop.body.id, properties: { firstname: 'Lost' } },
            { id: newId, properties: { jobtitle: 'CTO' } },
          ],
        },
      );
      expect(batchUpdate.status).toBe(207);
      expect(batchUpdate.body.errors[0]).toMatchObject({
        category: 'OBJECT_NOT_FOUND',
        context: { ids: [drop.body.id] },
      });
      expect(sandbox.record('contacts', newId)?.properties).toMatchObject({
        firstname: 'Keep',
        jobtitle: 'CTO',
      });

      // A delete by an old id archives the merged record itself.
      const del = await api(
        'DELETE',
        `/crm/v3/objects/contacts/${drop.body.id}`,
      );
      expect(del.status).toBe(204);
      expect(sandbox.records('contacts')).toHaveLength(0);
      expect(sandbox.record('contacts', newId)?.archived).toBe(true);
    });

    it('merges companies through sandbox.merge, moves associations and chains merges', async () => {
      const ids: string[] = [];
      for (const name of ['A', 'B', 'C']) {
        ids.push(
          (
            await api('POST', '/crm/v3/objects/companies', {
              properties: { name },
            })
          ).body.id,
        );
      }
      const contact = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'member@example.com' },
        associations: [
          {
            to: { id: ids[1] },
            types: [
              {
                associationCategory: 'HUBSPOT_DEFINED',
                associationTypeId: 279,
              },
            ],
          },
        ],
      });
      const ab = sandbox.merge('companies', ids[0], ids[1]);
      expect(ids).not.toContain(ab);
      expect(sandbox.record('companies', ab)?.properties).toMatchObject({
        name: 'A',
        hs_merged_object_ids: `${ids[0]};${ids[1]}`,
      });
      expect(sandbox.associations('contacts', contact.body.id)).toEqual([
        {
          toObjectType: 'companies',
          toObjectId: ab,
          associationTypeIds: [279],
        },
      ]);
      const abc = sandbox.merge('companies', ids[2], ab);
      expect(
        sandbox
          .record('companies', abc)
          ?.properties.hs_merged_object_ids?.split(';')
          .sort(),
      ).toEqual([...ids, ab].sort());
      for (const oldId of [...ids, ab]) {
        expect(
          (await api('GET', `/crm/v3/objects/companies/${oldId}`)).body.id,
        ).toBe(abc);
      }
      expect(sandbox.records('companies').map((r) => r.id)).toEqual([abc]);
      const self = await api('POST', '/crm/v3/objects/companies/merge', {
        primaryObjectId: ids[0],
        objectIdToMerge: abc,
      });
      expect(self.status).toBe(400);
    });

    it('GDPR-deletes contacts permanently', async () => {
      const c = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'gdpr@example.com' },
      });
      const res = await api('POST', '/crm/v3/objects/contacts/gdpr-delete', {
        objectId: 'gdpr@example.com',
        idProperty: 'email',
      });
      expect(res.status).toBe(204);
      expect(
        (
          await api(
            'GET',
            `/crm/v3/objects/contacts/${c.body.id}?archived=true`,
          )
        ).status,
      ).toBe(404);
      expect(sandbox.record('contacts', c.body.id)).toBeUndefined();
      const again = await api('POST', '/crm/v3/objects/contacts/gdpr-delete', {
        objectId: c.body.id,
      });
      expect(again.status).toBe(404);
      const reuse = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'gdpr@example.com' },
      });
      expect(reuse.status).toBe(201);
    });

    it('answers 400 to invalid JSON and 404 to unknown routes', async () => {
      const bad = await api(
        'POST',
        '/crm/v3/objects/contacts',
        undefined,
        '{"properties":',
      );
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({
        status: 'error',
        category: 'VALIDATION_ERROR',
      });
      for (const path of [
        '/crm/v3/nothing/here',
        '/not-hubspot',
        '/crm/v3/objects/contacts/1/2/3',
      ]) {
        const res = await api('GET', path);
        expect([path, res.status, res.body.status, res.body.category]).toEqual([
          path,
          404,
          'error',
          'OBJECT_NOT_FOUND',
        ]);
      }
      expect(sandbox.records('contacts')).toHaveLength(0);
    });

    it('keeps a token-free request log, per-endpoint counts and resets them', async () => {
      await api('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: [upsertInput('log@example.com')],
      });
      await api('GET', '/crm/v3/objects/contacts/1?archived=false');
      expect(sandbox.requests).toEqual([
        expect.objectContaining({
          method: 'POST',
          path: '/crm/v3/objects/contacts/batch/upsert',
          status: 200,
          bodyInputs: 1,
          at: expect.any(Number),
        }),
        expect.objectContaining({
          method: 'GET',
          path: '/crm/v3/objects/contacts/1',
          query: 'archived=false',
          status: 404,
        }),
      ]);
      expect(JSON.stringify(sandbox.requests)).not.toContain(TOKEN);
      expect(sandbox.counts()).toEqual({
        'POST /crm/v3/objects/contacts/batch/upsert': 1,
        'GET /crm/v3/objects/contacts/1': 1,
      });
      expect(sandbox.callCount()).toBe(2);
      expect(sandbox.callCount({ method: 'post', path: /batch/ })).toBe(1);
      expect(sandbox.callCount({ status: 404 })).toBe(1);
      sandbox.reset();
      expect(sandbox.requests).toHaveLength(0);
      expect(sandbox.counts()).toEqual({});
      expect(sandbox.records('contacts')).toHaveLength(0);
    });
  });

  describe('search', () => {
    let sandbox: HubspotSandbox;
    let api: ReturnType<typeof client>;

    beforeAll(async () => {
      ({ sandbox, api } = await started({
        searchLagMs: 300,
        searchPerSecond: 1000,
        tenSecondLimit: 10_000,
      }));
    });
    afterAll(() => sandbox.stop());
    beforeEach(() => sandbox.reset());

    const byEmail = (email: string) => ({
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ', value: email }] },
      ],
    });

    it('sees writes only after the index lag, while reads by id see them at once', async () => {
      const created = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'lag@example.com', firstname: 'Before' },
      });
      const early = await api(
        'POST',
        '/crm/v3/objects/contacts/search',
        byEmail('lag@example.com'),
      );
      expect(early.status).toBe(200);
      expect(early.body).toEqual({ total: 0, results: [] });
      expect(
        (await api('GET', `/crm/v3/objects/contacts/${created.body.id}`))
          .status,
      ).toBe(200);
      await sleep(350);
      const late = await api('POST', '/crm/v3/objects/contacts/search', {
        ...byEmail('LAG@example.com'),
        properties: ['firstname'],
      });
      expect(late.body.total).toBe(1);
      expect(late.body.results[0]).toMatchObject({
        id: created.body.id,
        properties: { firstname: 'Before' },
      });

      await api('PATCH', `/crm/v3/objects/contacts/${created.body.id}`, {
        properties: { firstname: 'After' },
      });
      const stale = await api('POST', '/crm/v3/objects/contacts/search', {
        filterGroups: [
          {
            filters: [
              { propertyName: 'firstname', operator: 'EQ', value: 'After' },
            ],
          },
        ],
      });
      expect(stale.body.total).toBe(0);
      await sleep(350);
      const fresh = await api('POST', '/crm/v3/objects/contacts/search', {
        filterGroups: [
          {
            filters: [
              { propertyName: 'firstname', operator: 'EQ', value: 'after' },
            ],
          },
        ],
      });
      expect(fresh.body.total).toBe(1);

      await api('DELETE', `/crm/v3/objects/contacts/${created.body.id}`);
      const archived = await api(
        'POST',
        '/crm/v3/objects/contacts/search',
        byEmail('lag@example.com'),
      );
      expect(archived.body.total).toBe(0);
    });

    it('supports HubSpot operators, OR groups, sorts and paging', async () => {
      const inputs = Array.from({ length: 12 }, (_, i) => ({
        properties: {
          email: `p${i}@${i % 2 ? 'odd' : 'even'}.example.com`,
          firstname: `Name${i}`,
          annualrevenue: i * 100,
          ...(i < 3 ? { phone: `555-${i}` } : {}),
        },
      }));
      await api('POST', '/crm/v3/objects/contacts/batch/create', { inputs });
      await sleep(350);
      const search = async (filters: unknown[], extra: object = {}) =>
        (
          await api('POST', '/crm/v3/objects/contacts/search', {
            filterGroups: [{ filters }],
            limit: 100,
            ...extra,
          })
        ).body;

      expect(
        (
          await search([
            { propertyName: 'annualrevenue', operator: 'GTE', value: '1000' },
          ])
        ).total,
      ).toBe(2);
      expect(
        (
          await search([
            { propertyName: 'annualrevenue', operator: 'LT', value: 200 },
          ])
        ).total,
      ).toBe(2);
      expect(
        (await search([{ propertyName: 'phone', operator: 'HAS_PROPERTY' }]))
          .total,
      ).toBe(3);
      expect(
        (
          await search([
            { propertyName: 'phone', operator: 'NOT_HAS_PROPERTY' },
          ])
        ).total,
      ).toBe(9);
      expect(
        (
          await search([
            { propertyName: 'email', operator: 'CONTAINS_TOKEN', value: 'odd' },
          ])
        ).total,
      ).toBe(6);
      expect(
        (
          await search([
            {
              propertyName: 'email',
              operator: 'CONTAINS_TOKEN',
              value: '*@even.example.com',
            },
          ])
        ).total,
      ).toBe(6);
      expect(
        (
          await search([
            {
              propertyName: 'firstname',
              operator: 'IN',
              values: ['name1', 'NAME2', 'zzz'],
            },
          ])
        ).total,
      ).toBe(2);
      expect(
        (
          await search([
            { propertyName: 'firstname', operator: 'NEQ', value: 'Name0' },
          ])
        ).total,
      ).toBe(11);
      expect(
        (
          await search([
            { propertyName: 'email', operator: 'CONTAINS_TOKEN', value: 'odd' },
            { propertyName: 'annualrevenue', operator: 'GT', value: '500' },
          ])
        ).total,
      ).toBe(3);
      const either = await api('POST', '/crm/v3/objects/contacts/search', {
        filterGroups: [
          {
            filters: [
              { propertyName: 'firstname', operator: 'EQ', value: 'Name1' },
            ],
          },
          {
            filters: [
              { propertyName: 'firstname', operator: 'EQ', value: 'Name2' },
            ],
          },
        ],
      });
      expect(either.body.total).toBe(2);

      const page1 = await api('POST', '/crm/v3/objects/contacts/search', {
        sorts: [{ propertyName: 'annualrevenue', direction: 'DESCENDING' }],
        properties: ['annualrevenue'],
        limit: 5,
      });
      expect(page1.body.total).toBe(12);
      expect(
        page1.body.results.map((r: any) => r.properties.annualrevenue),
      ).toEqual(['1100', '1000', '900', '800', '700']);
      expect(page1.body.paging).toEqual({ next: { after: '5' } });
      const last = await api('POST', '/crm/v3/objects/contacts/search', {
        limit: 5,
        after: '10',
      });
      expect(last.body.results).toHaveLength(2);
      expect(last.body.paging).toBeUndefined();
    });

    it('enforces HubSpot search limits', async () => {
      const filter = { propertyName: 'firstname', operator: 'HAS_PROPERTY' };
      const groups = (n: number, per: number) =>
        Array.from({ length: n }, () => ({
          filters: Array.from({ length: per }, () => filter),
        }));
      const cases: unknown[] = [
        { filterGroups: groups(6, 1) },
        { filterGroups: groups(1, 7) },
        { filterGroups: groups(4, 5) },
        { limit: 201 },
        { limit: 100, after: '10000' },
        {
          filterGroups: [
            { filters: [{ propertyName: 'x', operator: 'LIKE', value: 'y' }] },
          ],
        },
        { query: 'x'.repeat(3_000) },
      ];
      for (const body of cases) {
        const res = await api('POST', '/crm/v3/objects/contacts/search', body);
        expect(res.status).toBe(400);
        expect(res.body.category).toBe('VALIDATION_ERROR');
      }
      expect(
        (
          await api('POST', '/crm/v3/objects/contacts/search', {
            filterGroups: groups(3, 6),
          })
        ).status,
      ).toBe(200);
    });
  });

  describe('rate limits', () => {
    it('answers 429 TEN_SECONDLY_ROLLING past the 10 s budget, with HubSpot headers', async () => {
      const { sandbox, api } = await started({
        tenSecondLimit: 5,
        dailyLimit: 1_000,
      });
      try {
        for (let i = 0; i < 5; i++) {
          const res = await api('POST', '/crm/v3/objects/contacts', {
            properties: { email: `r${i}@example.com` },
          });
          expect(res.status).toBe(201);
          expect(res.headers.get('x-hubspot-ratelimit-max')).toBe('5');
          expect(res.headers.get('x-hubspot-ratelimit-remaining')).toBe(
            String(4 - i),
          );
          expect(
            res.headers.get('x-hubspot-ratelimit-interval-milliseconds'),
          ).toBe('10000');
          expect(res.headers.get('x-hubspot-ratelimit-daily')).toBe('1000');
          expect(res.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe(
            String(999 - i),
          );
        }
        const limited = await api('POST', '/crm/v3/objects/contacts', {
          properties: { email: 'late@example.com' },
        });
        expect(limited.status).toBe(429);
        expect(limited.body).toEqual({
          status: 'error',
          message: 'You have reached your ten_secondly_rolling limit.',
          errorType: 'RATE_LIMIT',
          correlationId: limited.headers.get('x-hubspot-correlation-id'),
          policyName: 'TEN_SECONDLY_ROLLING',
        });
        expect(limited.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
        expect(limited.headers.get('retry-after')).toBeNull();
        expect(sandbox.records('contacts')).toHaveLength(5);
        expect(sandbox.rejected429()).toBe(1);
        // Search has its own bucket, so it still passes, without rate-limit headers.
        const search = await api('POST', '/crm/v3/objects/contacts/search', {});
        expect(search.status).toBe(200);
        expect(search.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
        // Limits are per token.
        const other = await client(sandbox.baseUrl, 'another-token');
        expect((await other('GET', '/crm/v3/objects/contacts')).status).toBe(
          401,
        );
      } finally {
        await sandbox.stop();
      }
    });

    it('counts budgets per token when any token is accepted', async () => {
      const sandbox = new HubspotSandbox({ tenSecondLimit: 1 });
      const { baseUrl } = await sandbox.start();
      try {
        expect(
          (await client(baseUrl, 'a')('GET', '/crm/v3/objects/contacts'))
            .status,
        ).toBe(200);
        expect(
          (await client(baseUrl, 'a')('GET', '/crm/v3/objects/contacts'))
            .status,
        ).toBe(429);
        expect(
          (await client(baseUrl, 'b')('GET', '/crm/v3/objects/contacts'))
            .status,
        ).toBe(200);
      } finally {
        await sandbox.stop();
      }
    });

    it('limits search per second with the SECONDLY policy', async () => {
      const { sandbox, api } = await started({ searchPerSecond: 5 });
      try {
        const statuses = await Promise.all(
          Array.from({ length: 6 }, () =>
            api('POST', '/crm/v3/objects/contacts/search', {}),
          ),
        );
        const limited = statuses.filter((s) => s.status === 429);
        expect(limited).toHaveLength(1);
        expect(limited[0].body).toMatchObject({
          message: 'You have reached your secondly limit.',
          errorType: 'RATE_LIMIT',
          policyName: 'SECONDLY',
        });
        expect(limited[0].headers.get('x-hubspot-ratelimit-max')).toBeNull();
        await sleep(1_050);
        expect(
          (await api('POST', '/crm/v3/objects/contacts/search', {})).status,
        ).toBe(200);
        const normal = await api('GET', '/crm/v3/objects/contacts');
        expect(normal.headers.get('x-hubspot-ratelimit-remaining')).toBe('99');
      } finally {
        await sandbox.stop();
      }
    });

    it('enforces the daily quota and sends Retry-After when asked to', async () => {
      const { sandbox, api } = await started({
        dailyLimit: 2,
        retryAfter: true,
      });
      try {
        expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
        expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
        const limited = await api('GET', '/crm/v3/objects/contacts');
        expect(limited.status).toBe(429);
        expect(limited.body).toMatchObject({
          policyName: 'DAILY',
          message: 'You have reached your daily limit.',
        });
        expect(limited.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe(
          '0',
        );
        const retryAfter = Number(limited.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(86_400);
        sandbox.reset();
        expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
      } finally {
        await sandbox.stop();
      }
    });
  });

  describe('auth', () => {
    it('requires the configured bearer token', async () => {
      const { sandbox, baseUrl } = await started();
      try {
        for (const token of [null, 'wrong-token']) {
          const res = await client(baseUrl, token)(
            'POST',
            '/crm/v3/objects/contacts',
            {
              properties: { email: 'auth@example.com' },
            },
          );
          expect(res.status).toBe(401);
          expect(res.body).toMatchObject({
            status: 'error',
            category: 'INVALID_AUTHENTICATION',
          });
          expect(res.body.message).toMatch(
            /^Authentication credentials not found/,
          );
        }
        expect(sandbox.records('contacts')).toHaveLength(0);
      } finally {
        await sandbox.stop();
      }
    });

    it('accepts any non-empty bearer token when none is configured', async () => {
      const sandbox = new HubspotSandbox();
      const { baseUrl } = await sandbox.start();
      try {
        expect(
          (await client(baseUrl, 'whatever')('GET', '/crm/v3/objects/contacts'))
            .status,
        ).toBe(200);
        expect(
          (await client(baseUrl, null)('GET', '/crm/v3/objects/contacts'))
            .status,
        ).toBe(401);
      } finally {
        await sandbox.stop();
      }
    });
  });

  describe('faults', () => {
    let sandbox: HubspotSandbox;
    let api: ReturnType<typeof client>;

    beforeAll(async () => {
      ({ sandbox, api } = await started({ tenSecondLimit: 10_000 }));
    });
    afterAll(() => sandbox.stop());
    beforeEach(() => sandbox.reset());

    const upsert = (email: string) =>
      api('POST', '/crm/v3/objects/contacts/batch/upsert', {
        inputs: [upsertInput(email)],
      });

    it('plays scripted faults on matching requests only, without side effects', async () => {
      sandbox.injectFault({
        kind: '500',
        times: 2,
        method: 'POST',
        path: '/crm/v3/objects/contacts/batch/upsert',
      });
      expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
      const first = await upsert('f@example.com');
      expect(first.status).toBe(500);
      expect(first.body).toMatchObject({
        status: 'error',
        correlationId: expect.any(String),
      });
      expect((await upsert('f@example.com')).status).toBe(500);
      expect(sandbox.records('contacts')).toHaveLength(0);
      expect((await upsert('f@example.com')).status).toBe(200);
      expect(sandbox.records('contacts')).toHaveLength(1);

      sandbox.injectFault({ kind: '502', path: /batch/ });
      const gateway = await upsert('g@example.com');
      expect(gateway.status).toBe(502);
      expect(gateway.body).toBeUndefined();
      expect(gateway.text).toContain('Bad Gateway');

      sandbox.injectFault({ kind: '503', path: '/crm/v3/objects' });
      expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(503);
      sandbox.injectFault({ kind: '423' });
      expect((await api('GET', '/crm/v3/objects/contacts')).body.category).toBe(
        'LOCKED',
      );
      sandbox.injectFault({ kind: '429', policy: 'SECONDLY' });
      const limited = await api('POST', '/crm/v3/objects/contacts/search', {});
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({
        errorType: 'RATE_LIMIT',
        policyName: 'SECONDLY',
      });
      expect(sandbox.rejected429()).toBe(1);
      expect(sandbox.requests.map((r) => r.fault).filter(Boolean)).toEqual([
        '500',
        '500',
        '502',
        '503',
        '423',
        '429',
      ]);
    });

    it('resets sockets, holds requests until the client gives up, and slows requests', async () => {
      sandbox.injectFault({ kind: 'reset' });
      await expect(api('GET', '/crm/v3/objects/contacts')).rejects.toThrow();

      sandbox.injectFault({ kind: 'timeout' });
      const res = fetch(`${sandbox.baseUrl}/crm/v3/objects/contacts`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(200),
      });
      await expect(res).rejects.toThrow();

      sandbox.injectFault({ kind: 'slow', delayMs: 150 });
      const started = Date.now();
      expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(sandbox.requests.map((r) => [r.fault, r.status])).toEqual([
        ['reset', 0],
        ['timeout', 0],
        ['slow', 200],
      ]);
    });

    it('plays ghost writes: the request takes effect but the client sees the fault', async () => {
      sandbox.injectFault({ kind: '502', afterWrite: true, method: 'POST' });
      const lost = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'ghost@example.com' },
      });
      expect(lost.status).toBe(502);
      expect(
        sandbox.records('contacts').map((r) => r.properties.email),
      ).toEqual(['ghost@example.com']);
      const retry = await api('POST', '/crm/v3/objects/contacts', {
        properties: { email: 'ghost@example.com' },
      });
      expect(retry.status).toBe(409);
      expect(retry.body.message).toBe(
        `Contact already exists. Existing ID: ${sandbox.records('contacts')[0].id}`,
      );

      sandbox.injectFault({ kind: 'reset', afterWrite: true });
      await expect(
        api('POST', '/crm/v3/objects/contacts/batch/upsert', {
          inputs: [upsertInput('ghost2@example.com')],
        }),
      ).rejects.toThrow();
      expect(sandbox.records('contacts')).toHaveLength(2);
    });

    it('draws random faults from a seeded PRNG, reproducibly', async () => {
      const run = async (seed: number) => {
        const s = new HubspotSandbox({
          seed,
          tenSecondLimit: 10_000,
          faults: {
            rate: 0.5,
            kinds: ['500', '503'],
            match: (req) => req.method === 'GET',
          },
        });
        const { baseUrl } = await s.start();
        try {
          const call = client(baseUrl, 'any');
          const statuses: number[] = [];
          for (let i = 0; i < 24; i++)
            statuses.push(
              (await call('GET', '/crm/v3/objects/contacts')).status,
            );
          const unmatched = await call('POST', '/crm/v3/objects/contacts', {
            properties: {},
          });
          return { statuses, unmatched: unmatched.status };
        } finally {
          await s.stop();
        }
      };
      const a = await run(7);
      const b = await run(7);
      const c = await run(8);
      expect(a).toEqual(b);
      expect(a.statuses).toEqual(expect.arrayContaining([200, 500, 503]));
      expect(a.statuses).not.toEqual(c.statuses);
      expect(a.unmatched).toBe(201);
    });

    it('adds latencyMs to every response', async () => {
      const { sandbox: slow, api: slowApi } = await started({ latencyMs: 120 });
      try {
        const started = Date.now();
        expect((await slowApi('GET', '/crm/v3/objects/contacts')).status).toBe(
          200,
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(110);
      } finally {
        await slow.stop();
      }
    });
  });

  // Associations v4, labels and custom object schemas: test/sandbox-associations.e2e-spec.ts.

  describe('lifecycle', () => {
    it('stop() closes keep-alive sockets and held requests', async () => {
      const sandbox = new HubspotSandbox({ accessToken: TOKEN });
      const { baseUrl } = await sandbox.start();
      const agent = new Agent({ keepAlive: true });
      const get = () =>
        new Promise<number>((resolve, reject) => {
          const req = httpRequest(
            `${baseUrl}/crm/v3/objects/contacts`,
            { agent, headers: { Authorization: `Bearer ${TOKEN}` } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end();
        });
      expect(await get()).toBe(200);
      expect(Object.keys(agent.freeSockets)).toHaveLength(1);
      sandbox.injectFault({ kind: 'timeout' });
      const held = get();
      await sleep(50);
      const t0 = Date.now();
      await sandbox.stop();
      expect(Date.now() - t0).toBeLessThan(1_000);
      await expect(held).rejects.toThrow();
      await expect(
        fetch(`${baseUrl}/crm/v3/objects/contacts`),
      ).rejects.toThrow();
      agent.destroy();
    });
  });

  describe('harsh defaults', () => {
    const emails = (n: number, prefix = 'o') =>
      Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);

    it('answers successful batch results in seeded random order, without objectWriteTraceId', async () => {
      const run = async (options: HubspotSandboxOptions) => {
        const { sandbox, api } = await started(options);
        try {
          const inputs = emails(20).map((email, i) => ({
            properties: { email },
            objectWriteTraceId: `t${i}`,
          }));
          const res = await api(
            'POST',
            '/crm/v3/objects/contacts/batch/create',
            {
              inputs,
            },
          );
          expect(res.status).toBe(201);
          return res.body.results as any[];
        } finally {
          await sandbox.stop();
        }
      };
      const a = await run({ seed: 5 });
      const b = await run({ seed: 5 });
      const order = (results: any[]) =>
        results.map((r) => r.properties.email as string);
      expect(order(a)).toEqual(order(b));
      expect(order(a)).not.toEqual(emails(20));
      expect([...order(a)].sort()).toEqual([...emails(20)].sort());
      expect(a.some((r) => 'objectWriteTraceId' in r)).toBe(false);

      const kind = await run({
        batchResultOrder: 'input',
        traceIdsInResults: true,
      });
      expect(order(kind)).toEqual(emails(20));
      expect(kind.map((r) => r.objectWriteTraceId)).toEqual(
        emails(20).map((_, i) => `t${i}`),
      );
    });

    it('answers batch update and upsert with 207 and one error per bad input, writing the others', async () => {
      const { sandbox, api } = await started();
      try {
        const a = await api('POST', '/crm/v3/objects/contacts', {
          properties: { email: 'a@example.com' },
        });
        const b = await api('POST', '/crm/v3/objects/contacts', {
          properties: { email: 'b@example.com' },
        });
        const update = await api(
          'POST',
          '/crm/v3/objects/contacts/batch/update',
          {
            inputs: [
              { id: a.body.id, properties: { firstname: 'Fine' } },
              {
                id: b.body.id,
                properties: { lifecyclestage: 'fan' },
                objectWriteTraceId: 'bad-b',
              },
            ],
          },
        );
        expect(update.status).toBe(207);
        expect(update.body).toMatchObject({ status: 'COMPLETE', numErrors: 1 });
        expect(update.body.results.map((r: any) => r.id)).toEqual([a.body.id]);
        expect(update.body.errors[0]).toMatchObject({
          status: 'error',
          category: 'VALIDATION_ERROR',
          context: { ids: [b.body.id], objectWriteTraceId: ['bad-b'] },
          errors: [expect.objectContaining({ code: 'INVALID_OPTION' })],
        });
        expect(
          sandbox.record('contacts', a.body.id)?.properties.firstname,
        ).toBe('Fine');

        const upsert = await api(
          'POST',
          '/crm/v3/objects/contacts/batch/upsert',
          {
            inputs: [
              upsertInput('c@example.com', { firstname: 'C' }),
              upsertInput('d@example.com', { annualrevenue: '0x1F' }),
              upsertInput('a@example.com', { email: 'b@example.com' }),
            ],
          },
        );
        expect(upsert.status).toBe(207);
        expect(upsert.body.numErrors).toBe(2);
        const byId = Object.fromEntries(
          upsert.body.errors.map((e: any) => [e.context.ids[0], e]),
        );
        expect(byId['d@example.com'].errors[0].code).toBe('INVALID_LONG');
        expect(byId['a@example.com'].category).toBe('CONFLICT');
        expect(upsert.body.results).toEqual([
          expect.objectContaining({
            new: true,
            properties: expect.objectContaining({ email: 'c@example.com' }),
          }),
        ]);
        expect(
          sandbox
            .records('contacts')
            .map((r) => r.properties.email)
            .sort(),
        ).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
      } finally {
        await sandbox.stop();
      }

      const { sandbox: strict, api: strictApi } = await started({
        batchWriteErrors: 'whole-batch',
      });
      try {
        const res = await strictApi(
          'POST',
          '/crm/v3/objects/contacts/batch/upsert',
          {
            inputs: [
              upsertInput('c@example.com'),
              upsertInput('d@example.com', { annualrevenue: '1e5' }),
            ],
          },
        );
        expect(res.status).toBe(400);
        expect(res.body.errors[0].code).toBe('INVALID_LONG');
        expect(strict.records('contacts')).toHaveLength(0);
      } finally {
        await strict.stop();
      }
    });

    it('hides writes from search for 3-5 s by default, with seeded jitter', async () => {
      let clock = Date.UTC(2026, 4, 1, 12);
      const sandbox = new HubspotSandbox({
        accessToken: TOKEN,
        now: () => clock,
        searchPerSecond: 1_000,
      });
      const { baseUrl } = await sandbox.start();
      const api = client(baseUrl);
      try {
        await api('POST', '/crm/v3/objects/contacts/batch/create', {
          inputs: emails(30, 's').map((email) => ({ properties: { email } })),
        });
        const visible = async () =>
          (
            await api('POST', '/crm/v3/objects/contacts/search', {
              limit: 100,
            })
          ).body.total as number;
        const start = clock;
        expect(await visible()).toBe(0);
        clock = start + 2_999;
        expect(await visible()).toBe(0);
        clock = start + 4_000;
        const midway = await visible();
        expect(midway).toBeGreaterThan(0);
        expect(midway).toBeLessThan(30);
        clock = start + 5_000;
        expect(await visible()).toBe(30);
        // Reads by id never lag.
        const one = sandbox.records('contacts')[0];
        expect(
          (await api('GET', `/crm/v3/objects/contacts/${one.id}`)).status,
        ).toBe(200);
      } finally {
        await sandbox.stop();
      }
    });

    it('plays 477 Migration in Progress with Retry-After, without applying the call', async () => {
      const { sandbox, api } = await started();
      try {
        sandbox.injectFault({ kind: '477', retryAfterSeconds: 3_600 });
        const res = await api('POST', '/crm/v3/objects/contacts', {
          properties: { email: 'moving@example.com' },
        });
        expect(res.status).toBe(477);
        expect(res.headers.get('retry-after')).toBe('3600');
        expect(res.body).toMatchObject({
          status: 'error',
          category: 'MIGRATION_IN_PROGRESS',
          correlationId: res.headers.get('x-hubspot-correlation-id'),
        });
        expect(sandbox.records('contacts')).toHaveLength(0);
        sandbox.injectFault({ kind: '477' });
        expect(
          (await api('GET', '/crm/v3/objects/contacts')).headers.get(
            'retry-after',
          ),
        ).toBe('30');
      } finally {
        await sandbox.stop();
      }
    });

    it('resets the daily quota at midnight in the portal time zone and reports it', async () => {
      // 2026-01-15 23:30 UTC is 15:30 in Los Angeles (the default zone, UTC-8 in winter).
      let clock = Date.UTC(2026, 0, 15, 23, 30);
      const sandbox = new HubspotSandbox({
        accessToken: TOKEN,
        dailyLimit: 2,
        retryAfter: true,
        searchLagMs: 0,
        now: () => clock,
      });
      const { baseUrl } = await sandbox.start();
      const api = client(baseUrl);
      try {
        expect(sandbox.timeZone).toBe('America/Los_Angeles');
        expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
        expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
        const limited = await api('GET', '/crm/v3/objects/contacts');
        expect(limited.body.policyName).toBe('DAILY');
        expect(Number(limited.headers.get('retry-after'))).toBe(8.5 * 3_600);

        const usage = await api(
          'GET',
          '/account-info/v3/api-usage/daily/private-apps',
        );
        expect(usage.status).toBe(200);
        expect(usage.body.results).toEqual([
          {
            name: 'private-apps-api-calls-daily',
            usageLimit: 2,
            currentUsage: 2,
            collectedAt: new Date(clock).toISOString(),
            fetchStatus: 'SUCCESS',
            resetsAt: '2026-01-16T08:00:00.000Z',
          },
        ]);
        const details = await api('GET', '/account-info/v3/details');
        expect(details.body).toMatchObject({
          timeZone: 'America/Los_Angeles',
          utcOffset: '-08:00',
          utcOffsetMilliseconds: -28_800_000,
        });
        expect(
          (await api('GET', '/account-info/2026-03/details')).body.timeZone,
        ).toBe('America/Los_Angeles');

        // UTC midnight passes: still the same portal day, still refused.
        clock = Date.UTC(2026, 0, 16, 0, 30);
        const afterUtcMidnight = await api('GET', '/crm/v3/objects/contacts');
        expect(afterUtcMidnight.status).toBe(429);
        expect(afterUtcMidnight.body.policyName).toBe('DAILY');
        clock = Date.UTC(2026, 0, 16, 8, 0, 1);
        expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
      } finally {
        await sandbox.stop();
      }

      const east = new HubspotSandbox({
        utcOffsetMinutes: 120,
        now: () => Date.UTC(2026, 0, 15, 23, 30),
      });
      const { baseUrl: eastUrl } = await east.start();
      try {
        const usage = await client(eastUrl)(
          'GET',
          '/account-info/v3/api-usage/daily/private-apps',
        );
        expect(usage.body.results[0].resetsAt).toBe('2026-01-16T22:00:00.000Z');
        const details = await client(eastUrl)(
          'GET',
          '/account-info/v3/details',
        );
        expect(details.body).toMatchObject({
          timeZone: 'Etc/GMT-2',
          utcOffsetMilliseconds: 7_200_000,
        });
      } finally {
        await east.stop();
      }
    });

    it('serves date-versioned paths beside v3; 2026-09 batch writes report errors inside 200/201', async () => {
      const { sandbox, api } = await started();
      try {
        const created = await api('POST', '/crm/objects/2026-03/contacts', {
          properties: { email: 'dated@example.com' },
        });
        expect(created.status).toBe(201);
        expect(
          (await api('GET', `/crm/v3/objects/contacts/${created.body.id}`)).body
            .properties.email,
        ).toBe('dated@example.com');
        expect(
          (
            await api('PATCH', `/crm/objects/2025-09/0-1/${created.body.id}`, {
              properties: { firstname: 'Dated' },
            })
          ).status,
        ).toBe(200);
        const search = await api(
          'POST',
          '/crm/objects/2026-09/contacts/search',
          {},
        );
        expect(search.body.total).toBe(1);
        expect(search.headers.get('x-hubspot-ratelimit-max')).toBeNull();
        expect(
          (await api('GET', '/crm/properties/2026-03/contacts/email')).body
            .name,
        ).toBe('email');
        const company = await api('POST', '/crm/objects/2026-03/companies', {
          properties: { name: 'Dated Inc' },
        });
        const assoc = await api(
          'POST',
          '/crm/associations/2026-03/contacts/companies/batch/associate/default',
          {
            inputs: [
              { from: { id: created.body.id }, to: { id: company.body.id } },
            ],
          },
        );
        expect(assoc.status).toBe(200);
        expect(sandbox.associations('contacts', created.body.id)).toHaveLength(
          1,
        );
        expect((await api('GET', '/crm/objects/2024-01/contacts')).status).toBe(
          404,
        );
        expect((await api('GET', '/crm/objects/v3/contacts')).status).toBe(404);

        const badUpsert = {
          inputs: [
            upsertInput('fine@example.com'),
            upsertInput('bad@example.com', { lifecyclestage: 'fan' }),
          ],
        };
        const legacy = await api(
          'POST',
          '/crm/objects/2026-03/contacts/batch/upsert',
          badUpsert,
        );
        expect(legacy.status).toBe(207);
        const current = await api(
          'POST',
          '/crm/objects/2026-09/contacts/batch/upsert',
          badUpsert,
        );
        expect(current.status).toBe(200);
        expect(current.body).toMatchObject({
          numErrors: 1,
          status: 'COMPLETE',
        });
        expect(current.body.errors[0].context.ids).toEqual(['bad@example.com']);
        const create = await api(
          'POST',
          '/crm/objects/2026-09/contacts/batch/create',
          {
            inputs: [
              {
                properties: { email: 'new9@example.com' },
                objectWriteTraceId: 'x',
              },
              {
                properties: { email: 'fine@example.com' },
                objectWriteTraceId: 'y',
              },
            ],
          },
        );
        expect(create.status).toBe(201);
        expect(create.body.errors[0]).toMatchObject({
          category: 'CONFLICT',
          context: { objectWriteTraceId: ['y'] },
        });
        const update = await api(
          'POST',
          '/crm/objects/2026-09/contacts/batch/update',
          {
            inputs: [{ id: '999999', properties: { firstname: 'x' } }],
          },
        );
        expect(update.status).toBe(200);
        expect(update.body.errors[0].category).toBe('OBJECT_NOT_FOUND');
        // Batch read keeps its 207.
        const read = await api(
          'POST',
          '/crm/objects/2026-09/contacts/batch/read',
          {
            inputs: [{ id: '999999' }],
          },
        );
        expect(read.status).toBe(207);
      } finally {
        await sandbox.stop();
      }
      const { sandbox: only, api: onlyApi } = await started({
        apiVersions: ['2026-03'],
      });
      try {
        expect(
          (await onlyApi('GET', '/crm/objects/2026-09/contacts')).status,
        ).toBe(404);
        expect(
          (await onlyApi('GET', '/crm/objects/2026-03/contacts')).status,
        ).toBe(200);
      } finally {
        await only.stop();
      }
    });

    it('plays every kind of ghost write: applied, then the answer is lost, late, a 5xx or a cut body', async () => {
      const { sandbox, api } = await started();
      try {
        const create = (email: string, signal?: AbortSignal) =>
          fetch(`${sandbox.baseUrl}/crm/v3/objects/contacts`, {
            method: 'POST',
            headers: {
              Authorization: `Bearer ${TOKEN}`,
              'Content-Type': 'application/json',
            },
            body: JSON.stringify({ properties: { email } }),
            signal,
          });
        const stored = () =>
          sandbox
            .records('contacts')
            .map((r) => r.properties.email)
            .sort();

        // A ghost write skips reads: the GET passes, the POST after it is the ghost.
        sandbox.ghostWrite({ kind: 'reset' });
        expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(200);
        await expect(create('reset@example.com')).rejects.toThrow();

        sandbox.ghostWrite({ kind: 'timeout' });
        await expect(
          create('timeout@example.com', AbortSignal.timeout(200)),
        ).rejects.toThrow();

        sandbox.ghostWrite({ kind: 'late', delayMs: 400 });
        await expect(
          create('late@example.com', AbortSignal.timeout(150)),
        ).rejects.toThrow();

        for (const kind of ['500', '502', '503', '504'] as const) {
          sandbox.ghostWrite({ kind, path: '/crm/v3/objects/contacts' });
          const res = await create(`s${kind}@example.com`);
          expect(res.status).toBe(Number(kind));
          await res.text();
        }

        sandbox.ghostWrite({ kind: 'truncated' });
        const cut = await create('cut@example.com');
        expect(cut.status).toBe(201);
        const cutText = await cut.text();
        expect(cutText.length).toBeGreaterThan(0);
        expect(() => JSON.parse(cutText)).toThrow();

        sandbox.ghostWrite({ kind: 'empty', times: 2 });
        const empty = await create('empty@example.com');
        expect(empty.status).toBe(201);
        expect(await empty.text()).toBe('');
        const emptyPatch = await api(
          'PATCH',
          `/crm/v3/objects/contacts/${sandbox.records('contacts')[0].id}`,
          { properties: { firstname: 'Ghost' } },
        );
        expect([emptyPatch.status, emptyPatch.text]).toEqual([200, '']);

        expect(stored()).toEqual(
          [
            'reset',
            'timeout',
            'late',
            's500',
            's502',
            's503',
            's504',
            'cut',
            'empty',
          ]
            .map((p) => `${p}@example.com`)
            .sort(),
        );
        expect(
          sandbox
            .records('contacts')
            .filter((r) => r.properties.firstname === 'Ghost'),
        ).toHaveLength(1);
        expect(sandbox.requests.map((r) => r.fault).filter(Boolean)).toEqual([
          'reset',
          'timeout',
          'late',
          '500',
          '502',
          '503',
          '504',
          'truncated',
          'empty',
          'empty',
        ]);
      } finally {
        await sandbox.stop();
      }
    });

    it('draws ghost writes per route from the seed, reproducibly', async () => {
      const run = async () => {
        const { sandbox, api } = await started({
          seed: 11,
          faults: [
            {
              rate: 0.5,
              method: 'POST',
              path: '/crm/v3/objects/contacts/batch/upsert',
              kinds: ['500', '502'],
              ghostRate: 0.5,
            },
            { rate: 1, path: /^\/crm\/v3\/objects\/deals/, kinds: ['503'] },
          ],
        });
        try {
          const outcomes: string[] = [];
          for (let i = 0; i < 16; i++) {
            const email = `g${i}@example.com`;
            const res = await api(
              'POST',
              '/crm/v3/objects/contacts/batch/upsert',
              {
                inputs: [upsertInput(email)],
              },
            );
            const applied = sandbox
              .records('contacts')
              .some((r) => r.properties.email === email);
            outcomes.push(`${res.status}:${applied}`);
          }
          expect((await api('GET', '/crm/v3/objects/deals')).status).toBe(503);
          expect((await api('GET', '/crm/v3/objects/contacts')).status).toBe(
            200,
          );
          return outcomes;
        } finally {
          await sandbox.stop();
        }
      };
      const a = await run();
      expect(await run()).toEqual(a);
      expect(a).toEqual(expect.arrayContaining(['200:true']));
      // Some failures were applied anyway (ghosts), some were not.
      expect(a.some((o) => /^50[02]:true$/.test(o))).toBe(true);
      expect(a.some((o) => /^50[02]:false$/.test(o))).toBe(true);
    });

    it('refuses emails whose top-level domain does not exist and numbers in hex or exponent form', async () => {
      const { sandbox, api } = await started();
      try {
        for (const email of [
          'a@example.test',
          'b@intranet.local',
          'c@example.invalid',
          'd@example.comm',
        ]) {
          const res = await api('POST', '/crm/v3/objects/contacts', {
            properties: { email },
          });
          expect([email, res.status, res.body.errors?.[0]?.code]).toEqual([
            email,
            400,
            'INVALID_EMAIL',
          ]);
        }
        const secondary = await api('POST', '/crm/v3/objects/contacts', {
          properties: {
            email: 'ok@example.co.uk',
            hs_additional_emails: 'alt@corp.localhost',
          },
        });
        expect(secondary.body.errors[0].code).toBe('INVALID_EMAIL');
        for (const value of ['0x1F', '1e5', 1e21, 'Infinity', '12,5', '+3']) {
          const res = await api('POST', '/crm/v3/objects/companies', {
            properties: { name: 'N', numberofemployees: value },
          });
          expect([
            String(value),
            res.status,
            res.body.errors?.[0]?.code,
          ]).toEqual([String(value), 400, 'INVALID_LONG']);
        }
        expect(sandbox.records('companies')).toHaveLength(0);
        const ok = await api('POST', '/crm/v3/objects/companies', {
          properties: {
            name: 'N',
            numberofemployees: '-12.5',
            annualrevenue: 100,
          },
        });
        expect(ok.status).toBe(201);
        const okContact = await api('POST', '/crm/v3/objects/contacts', {
          properties: { email: 'Ok@Example.Co.UK' },
        });
        expect(okContact.body.properties.email).toBe('ok@example.co.uk');
      } finally {
        await sandbox.stop();
      }
    });

    it('creates unique-value properties over HTTP and enforces them on create, update and upsert', async () => {
      const { sandbox, api } = await started();
      try {
        const def = {
          name: 'etlify_key',
          label: 'Etlify key',
          type: 'string',
          fieldType: 'text',
          groupName: 'companyinformation',
          hasUniqueValue: true,
        };
        const created = await api('POST', '/crm/v3/properties/companies', def);
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({
          name: 'etlify_key',
          hasUniqueValue: true,
        });
        expect(
          (await api('GET', '/crm/v3/properties/companies/etlify_key')).body
            .hasUniqueValue,
        ).toBe(true);
        const all = await api('GET', '/crm/v3/properties/companies');
        expect(
          all.body.results
            .filter((p: any) => p.hasUniqueValue)
            .map((p: any) => p.name),
        ).toEqual(['etlify_key']);

        const first = await api('POST', '/crm/v3/objects/companies', {
          properties: { name: 'A', etlify_key: 'k1' },
        });
        expect(first.status).toBe(201);
        const clash = await api('POST', '/crm/v3/objects/companies', {
          properties: { name: 'B', etlify_key: 'k1' },
        });
        expect(clash.status).toBe(400);
        expect(clash.body.message).toContain('already has that value');
        const second = await api('POST', '/crm/v3/objects/companies', {
          properties: { name: 'B', etlify_key: 'k2' },
        });
        const patch = await api(
          'PATCH',
          `/crm/v3/objects/companies/${second.body.id}`,
          { properties: { etlify_key: 'k1' } },
        );
        expect(patch.status).toBe(400);

        const upsert = await api(
          'POST',
          '/crm/v3/objects/companies/batch/upsert',
          {
            inputs: [
              {
                id: 'k1',
                idProperty: 'etlify_key',
                properties: { name: 'A2' },
              },
              { id: 'k3', idProperty: 'etlify_key', properties: { name: 'C' } },
              {
                id: 'k2',
                idProperty: 'etlify_key',
                properties: { etlify_key: 'k3' },
              },
            ],
          },
        );
        expect(upsert.status).toBe(207);
        expect(upsert.body.errors[0].context.ids).toEqual(['k2']);
        const byKey = Object.fromEntries(
          upsert.body.results.map((r: any) => [r.properties.etlify_key, r]),
        );
        expect(byKey.k1).toMatchObject({ id: first.body.id, new: false });
        expect(byKey.k3).toMatchObject({
          new: true,
          properties: { name: 'C' },
        });
        expect(
          sandbox
            .records('companies')
            .map((r) => r.properties.etlify_key)
            .sort(),
        ).toEqual(['k1', 'k2', 'k3']);
        const byIdProperty = await api(
          'GET',
          '/crm/v3/objects/companies/k3?idProperty=etlify_key',
        );
        expect(byIdProperty.body.id).toBe(byKey.k3.id);

        for (let i = 1; i < 10; i++) {
          const res = await api('POST', '/crm/v3/properties/companies', {
            ...def,
            name: `key_${i}`,
          });
          expect(res.status).toBe(201);
        }
        const eleventh = await api('POST', '/crm/v3/properties/companies', {
          ...def,
          name: 'key_10',
        });
        expect(eleventh.status).toBe(400);
        expect(eleventh.body.message).toContain('maximum');
      } finally {
        await sandbox.stop();
      }
    });

    it('answers 403 MISSING_SCOPES naming the scope the private app lacks', async () => {
      const { sandbox, api } = await started({
        missingScopes: ['crm.schemas.contacts.write'],
      });
      try {
        const def = {
          name: 'etlify_key',
          label: 'Etlify key',
          type: 'string',
          fieldType: 'text',
          groupName: 'contactinformation',
          hasUniqueValue: true,
        };
        for (const path of [
          '/crm/v3/properties/contacts',
          '/crm/properties/2026-03/0-1',
        ]) {
          const res = await api('POST', path, def);
          expect(res.status).toBe(403);
          expect(res.body).toMatchObject({
            status: 'error',
            category: 'MISSING_SCOPES',
            correlationId: res.headers.get('x-hubspot-correlation-id'),
            errors: [
              expect.objectContaining({
                context: {
                  requiredGranularScopes: ['crm.schemas.contacts.write'],
                },
              }),
            ],
          });
          expect(res.headers.get('x-hubspot-ratelimit-max')).toBe('100');
        }
        expect(
          (await api('GET', '/crm/v3/properties/contacts/email')).status,
        ).toBe(200);
        expect(
          (
            await api('POST', '/crm/v3/objects/contacts', {
              properties: { email: 'x@example.com' },
            })
          ).status,
        ).toBe(201);
        sandbox.setMissingScopes([
          'crm.objects.companies.write',
          'crm.objects.custom.read',
        ]);
        const company = await api('POST', '/crm/v3/objects/companies', {
          properties: { name: 'X' },
        });
        expect(company.body.errors[0].context.requiredGranularScopes).toEqual([
          'crm.objects.companies.write',
        ]);
        expect((await api('GET', '/crm/v3/objects/companies')).status).toBe(
          200,
        );
        expect(
          (await api('POST', '/crm/v3/objects/p1_thing/search', {})).status,
        ).toBe(403);
        expect(
          (await api('POST', '/crm/v3/properties/contacts', def)).status,
        ).toBe(201);
      } finally {
        await sandbox.stop();
      }
    });

    it('puts the correlation id and rate-limit headers on every error', async () => {
      const { sandbox, api } = await started();
      try {
        await api('POST', '/crm/v3/objects/contacts', {
          properties: { email: 'dup@example.com' },
        });
        const answers = [
          await api('POST', '/crm/v3/objects/contacts', {
            properties: { email: 'dup@example.com' },
          }),
          await api('POST', '/crm/v3/objects/contacts', {
            properties: { nope: 'x' },
          }),
          await api('GET', '/crm/v3/objects/contacts/424242'),
        ];
        for (const kind of ['500', '503', '423', '429', '477'] as const) {
          sandbox.injectFault({ kind });
          answers.push(await api('GET', '/crm/v3/objects/contacts'));
        }
        expect(answers.map((a) => a.status)).toEqual([
          409, 400, 404, 500, 503, 423, 429, 477,
        ]);
        for (const a of answers) {
          const header = a.headers.get('x-hubspot-correlation-id');
          expect(header).toMatch(/^[0-9a-f-]{36}$/);
          expect(a.body.correlationId).toBe(header);
          expect(a.headers.get('x-hubspot-ratelimit-max')).toBe('100');
          expect(a.headers.get('x-hubspot-ratelimit-daily')).toBe('250000');
        }
      } finally {
        await sandbox.stop();
      }
    });
  });
});
