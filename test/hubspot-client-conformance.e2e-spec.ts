import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts';
import { HubspotSandbox } from 'nestjs-etlify/testing';

/**
 * HubSpot's official Node client (v13; v14 needs Node 22) must parse every sandbox answer,
 * and its errors must carry the sandbox's status and body: proof the wire shapes match.
 */
describe('HubspotSandbox conformance with @hubspot/api-client', () => {
  const accessToken = 'conformance-token';
  let sandbox: HubspotSandbox;
  let hubspot: Client;

  beforeAll(async () => {
    sandbox = new HubspotSandbox({
      accessToken,
      searchLagMs: 0,
      tenSecondLimit: 1_000,
    });
    const { baseUrl } = await sandbox.start();
    hubspot = new Client({
      accessToken,
      basePath: baseUrl,
      numberOfApiCallRetries: 0,
    });
  });
  afterAll(() => sandbox.stop());

  it('creates, reads, updates, searches, upserts and archives contacts', async () => {
    const created = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'client@example.com', firstname: 'Client' },
      associations: [],
    });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.properties.email).toBe('client@example.com');
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(created.archived).toBe(false);

    const read = await hubspot.crm.contacts.basicApi.getById(created.id, [
      'firstname',
    ]);
    expect(read.id).toBe(created.id);
    expect(read.properties.firstname).toBe('Client');
    const byEmail = await hubspot.crm.contacts.basicApi.getById(
      'CLIENT@example.com',
      undefined,
      undefined,
      undefined,
      false,
      'email',
    );
    expect(byEmail.id).toBe(created.id);

    const updated = await hubspot.crm.contacts.basicApi.update(created.id, {
      properties: { lastname: 'Library' },
    });
    expect(updated.properties.lastname).toBe('Library');
    expect(updated.updatedAt).toBeInstanceOf(Date);

    const found = await hubspot.crm.contacts.searchApi.doSearch({
      filterGroups: [
        {
          filters: [
            {
              propertyName: 'email',
              operator: FilterOperatorEnum.Eq,
              value: 'client@example.com',
            },
          ],
        },
      ],
      properties: ['lastname'],
      limit: 10,
      after: '0',
      sorts: [],
    });
    expect(found.total).toBe(1);
    expect(found.results[0].properties.lastname).toBe('Library');

    const upserted = await hubspot.crm.contacts.batchApi.upsert({
      inputs: [
        {
          id: 'client@example.com',
          idProperty: 'email',
          properties: { firstname: 'Again' },
        },
        {
          id: 'second@example.com',
          idProperty: 'email',
          properties: { firstname: 'Second' },
        },
      ],
    });
    expect(upserted.status).toBe('COMPLETE');
    const byId = Object.fromEntries(upserted.results.map((r) => [r.id, r]));
    expect(byId[created.id].properties.firstname).toBe('Again');
    expect(
      upserted.results
        .map((r) => (r as unknown as { _new: boolean })._new)
        .sort(),
    ).toEqual([false, true]);
    expect(sandbox.records('contacts')).toHaveLength(2);

    await hubspot.crm.contacts.basicApi.archive(created.id);
    expect(sandbox.records('contacts').map((r) => r.properties.email)).toEqual([
      'second@example.com',
    ]);
  });

  it('surfaces 207 batch results as a success with the per-item errors', async () => {
    const read = await hubspot.crm.contacts.batchApi.read({
      inputs: [{ id: '987654321' }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(read.status).toBe('COMPLETE');
    expect(read.results).toEqual([]);
    expect(
      (
        read as unknown as {
          errors: Array<{ category: string; context: unknown }>;
        }
      ).errors,
    ).toEqual([
      expect.objectContaining({
        category: 'OBJECT_NOT_FOUND',
        context: { ids: ['987654321'] },
      }),
    ]);
  });

  it('throws errors carrying the sandbox status and body', async () => {
    await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'dup@example.com' },
      associations: [],
    });
    const existing = sandbox
      .records('contacts')
      .find((r) => r.properties.email === 'dup@example.com');
    const conflict = await hubspot.crm.contacts.basicApi
      .create({ properties: { email: 'dup@example.com' }, associations: [] })
      .then(
        () => undefined,
        (error: {
          code: number;
          body: { category: string; message: string; correlationId: string };
        }) => error,
      );
    expect(conflict?.code).toBe(409);
    expect(conflict?.body).toMatchObject({
      category: 'CONFLICT',
      message: `Contact already exists. Existing ID: ${existing?.id}`,
      correlationId: expect.any(String),
    });

    const invalid = await hubspot.crm.contacts.basicApi
      .update(existing!.id, { properties: { lifecyclestage: 'fan' } })
      .catch(
        (error: {
          code: number;
          body: { category: string; errors: Array<{ code: string }> };
        }) => error,
      );
    expect(invalid).toMatchObject({
      code: 400,
      body: { category: 'VALIDATION_ERROR' },
    });
    expect(
      (invalid as { body: { errors: Array<{ code: string }> } }).body.errors[0]
        .code,
    ).toBe('INVALID_OPTION');

    const missing = await hubspot.crm.contacts.basicApi
      .getById('123456789')
      .catch((error: { code: number; body: { category: string } }) => error);
    expect(missing).toMatchObject({
      code: 404,
      body: { category: 'OBJECT_NOT_FOUND' },
    });

    sandbox.injectFault({ kind: '429' });
    const limited = await hubspot.crm.contacts.basicApi
      .getPage(10)
      .catch((error: { code: number; body: unknown }) => error);
    expect(limited).toMatchObject({ code: 429 });
    expect(JSON.stringify((limited as { body: unknown }).body)).toContain(
      'TEN_SECONDLY_ROLLING',
    );
  });

  it('parses merged records read by an old id, and per-input errors of a batch update', async () => {
    const a = await hubspot.crm.companies.basicApi.create({
      properties: { name: 'Merge A' },
      associations: [],
    });
    const b = await hubspot.crm.companies.basicApi.create({
      properties: { name: 'Merge B' },
      associations: [],
    });
    const merged = await hubspot.crm.companies.basicApi.merge({
      primaryObjectId: a.id,
      objectIdToMerge: b.id,
    });
    expect([a.id, b.id]).not.toContain(merged.id);
    const byOldId = await hubspot.crm.companies.basicApi.getById(b.id, [
      'name',
      'hs_merged_object_ids',
    ]);
    expect(byOldId.id).toBe(merged.id);
    expect(byOldId.properties.name).toBe('Merge A');
    expect(byOldId.properties.hs_merged_object_ids?.split(';').sort()).toEqual(
      [a.id, b.id].sort(),
    );
    const updated = await hubspot.crm.companies.batchApi.update({
      inputs: [
        { id: a.id, properties: { name: 'Lost' } },
        { id: merged.id, properties: { name: 'Kept' } },
      ],
    });
    expect(updated.results.map((r) => r.id)).toEqual([merged.id]);
    expect(
      (updated as unknown as { errors: Array<{ context: unknown }> }).errors,
    ).toEqual([
      expect.objectContaining({
        category: 'OBJECT_NOT_FOUND',
        context: { ids: [a.id] },
      }),
    ]);
  });
});
