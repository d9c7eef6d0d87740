import { Client } from '@hubspot/api-client';
import { HubspotSandbox } from 'nestjs-etlify/testing';

const TOKEN = 'test-token';

/** The sandbox's associations v4, labels and custom object schemas, over real HTTP. */
describe('HubspotSandbox associations v4', () => {
  let sandbox: HubspotSandbox;
  let baseUrl: string;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const create = async (type: string, properties: Record<string, string>) =>
    String(
      (await api('POST', `/crm/v3/objects/${type}`, { properties })).body.id,
    );

  beforeAll(async () => {
    sandbox = new HubspotSandbox({
      accessToken: TOKEN,
      tenSecondLimit: 10_000,
      searchLagMs: 0,
    });
    ({ baseUrl } = await sandbox.start());
  });
  afterAll(() => sandbox.stop());
  beforeEach(() => sandbox.reset());

  it('stores both directions with their own type ids; a label brings the unlabeled type along', async () => {
    const company = await create('companies', { name: 'Acme' });
    const ada = await create('contacts', { email: 'ada@example.com' });
    const grace = await create('contacts', { email: 'grace@example.com' });
    const labelled = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/create',
      {
        inputs: [
          {
            from: { id: ada },
            to: { id: company },
            types: [
              { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 },
            ],
          },
        ],
      },
    );
    expect(labelled.status).toBe(201);
    expect(labelled.body.results).toEqual([
      {
        fromObjectTypeId: '0-1',
        fromObjectId: Number(ada),
        toObjectTypeId: '0-2',
        toObjectId: Number(company),
        labels: ['Primary'],
      },
    ]);
    const byDefault = await api(
      'POST',
      '/crm/associations/2026-03/0-1/0-2/batch/associate/default',
      { inputs: [{ from: { id: grace }, to: { id: company } }] },
    );
    expect(byDefault.status).toBe(200);
    expect(byDefault.body.results[0].associationSpec).toEqual({
      associationCategory: 'HUBSPOT_DEFINED',
      associationTypeId: 279,
    });
    expect(sandbox.associations('contacts', ada)).toEqual([
      {
        toObjectType: 'companies',
        toObjectId: company,
        associationTypeIds: [1, 279],
      },
    ]);
    expect(
      sandbox
        .associations('companies', company, 'contacts')
        .sort((a, b) => Number(a.toObjectId) - Number(b.toObjectId)),
    ).toEqual([
      {
        toObjectType: 'contacts',
        toObjectId: ada,
        associationTypeIds: [2, 280],
      },
      {
        toObjectType: 'contacts',
        toObjectId: grace,
        associationTypeIds: [280],
      },
    ]);

    const read = await api(
      'POST',
      '/crm/v4/associations/companies/contacts/batch/read',
      {
        inputs: [{ id: company }],
      },
    );
    expect(read.status).toBe(200);
    const adaTypes = read.body.results[0].to.find(
      (t: any) => String(t.toObjectId) === ada,
    ).associationTypes;
    expect(adaTypes).toEqual(
      expect.arrayContaining([
        { category: 'HUBSPOT_DEFINED', typeId: 2, label: 'Primary' },
        { category: 'HUBSPOT_DEFINED', typeId: 280, label: null },
      ]),
    );

    // Removing the label keeps the association; removing the unlabeled type removes it all.
    expect(
      (
        await api(
          'POST',
          '/crm/v4/associations/contacts/companies/batch/labels/archive',
          {
            inputs: [
              {
                from: { id: ada },
                to: { id: company },
                types: [{ associationTypeId: 1 }],
              },
            ],
          },
        )
      ).status,
    ).toBe(204);
    expect(sandbox.associations('contacts', ada)[0].associationTypeIds).toEqual(
      [279],
    );
    expect(
      sandbox.associations('companies', company, 'contacts')[0]
        .associationTypeIds,
    ).toEqual([280]);
    const archived = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/archive',
      {
        inputs: [{ from: { id: grace }, to: [{ id: company }] }],
      },
    );
    expect(archived.status).toBe(204);
    expect(sandbox.associations('contacts', grace)).toEqual([]);
  });

  it('answers 207 per input for records that do not exist, and 400 for a type of another pair', async () => {
    const company = await create('companies', { name: 'Acme' });
    const ada = await create('contacts', { email: 'ada@example.com' });
    const partial = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/create',
      {
        inputs: [
          {
            from: { id: ada },
            to: { id: company },
            types: [{ associationTypeId: 279 }],
          },
          {
            from: { id: ada },
            to: { id: '999999' },
            types: [{ associationTypeId: 279 }],
          },
        ],
      },
    );
    expect(partial.status).toBe(207);
    expect(partial.body.results).toHaveLength(1);
    expect(partial.body.errors).toEqual([
      expect.objectContaining({
        category: 'OBJECT_NOT_FOUND',
        context: { fromObjectId: [ada], toObjectId: ['999999'] },
      }),
    ]);
    const wrongPair = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/create',
      {
        inputs: [
          {
            from: { id: ada },
            to: { id: company },
            types: [{ associationTypeId: 280 }],
          },
        ],
      },
    );
    expect(wrongPair.status).toBe(400);
    expect(wrongPair.body.message).toContain('goes from companies to contacts');
    const wrongCategory = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/create',
      {
        inputs: [
          {
            from: { id: ada },
            to: { id: company },
            types: [
              { associationCategory: 'USER_DEFINED', associationTypeId: 279 },
            ],
          },
        ],
      },
    );
    expect(wrongCategory.status).toBe(400);
    const readMissing = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/read',
      {
        inputs: [{ id: ada }, { id: '424242' }],
      },
    );
    expect(readMissing.status).toBe(207);
    expect(readMissing.body.errors[0].context).toEqual({ ids: ['424242'] });
  });

  it('limits batch create to 2,000 inputs and batch read to 1,000', async () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        id: String(i + 1),
        from: { id: '1' },
        to: { id: '2' },
      }));
    const create = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/associate/default',
      {
        inputs: many(2_001),
      },
    );
    expect(create.status).toBe(400);
    const read = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/read',
      {
        inputs: many(1_001),
      },
    );
    expect(read.status).toBe(400);
    expect(read.body.message).toContain('at most 1000');
  });

  it('returns batch results in no particular order unless asked', async () => {
    const company = await create('companies', { name: 'Acme' });
    const contacts: string[] = [];
    for (let i = 0; i < 30; i++)
      contacts.push(await create('contacts', { email: `c${i}@example.com` }));
    const answer = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/associate/default',
      {
        inputs: contacts.map((id) => ({ from: { id }, to: { id: company } })),
      },
    );
    const order = answer.body.results.map((r: any) => r.from.id);
    expect([...order].sort()).toEqual([...contacts].sort());
    expect(order).not.toEqual(contacts);

    const kind = new HubspotSandbox({
      accessToken: TOKEN,
      orderedAssociationResults: true,
    });
    const kindUrl = (await kind.start()).baseUrl;
    try {
      const post = (path: string, body: unknown) =>
        fetch(kindUrl + path, {
          method: 'POST',
          headers: {
            Authorization: `Bearer ${TOKEN}`,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<any>);
      const companyId = (
        await post('/crm/v3/objects/companies', { properties: { name: 'A' } })
      ).id;
      const ids: string[] = [];
      for (let i = 0; i < 10; i++)
        ids.push(
          (
            await post('/crm/v3/objects/contacts', {
              properties: { email: `k${i}@example.com` },
            })
          ).id,
        );
      const ordered = await post(
        '/crm/v4/associations/contacts/companies/batch/associate/default',
        {
          inputs: ids.map((id) => ({ from: { id }, to: { id: companyId } })),
        },
      );
      expect(ordered.results.map((r: any) => r.from.id)).toEqual(ids);
    } finally {
      await kind.stop();
    }
  });

  it('serves the labels API with user-defined and paired labels', async () => {
    const path = '/crm/associations/v4/contacts/companies/labels';
    const builtIn = await api('GET', path);
    expect(builtIn.body.results).toEqual([
      { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
      { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' },
    ]);
    const created = await api('POST', path, {
      label: 'Billing contact',
      name: 'billing_contact',
      inverseLabel: 'Billed company',
    });
    expect(created.status).toBe(200);
    const [forward, inverse] = created.body.results;
    expect(forward).toMatchObject({
      category: 'USER_DEFINED',
      label: 'Billing contact',
    });
    expect(inverse).toMatchObject({
      category: 'USER_DEFINED',
      label: 'Billed company',
    });
    expect(
      (
        await api('POST', path, {
          label: 'Billing contact',
          name: 'billing_contact',
        })
      ).status,
    ).toBe(400);

    const company = await create('companies', { name: 'Acme' });
    const ada = await create('contacts', { email: 'ada@example.com' });
    const labelled = await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/create',
      {
        inputs: [
          {
            from: { id: ada },
            to: { id: company },
            types: [
              {
                associationCategory: 'USER_DEFINED',
                associationTypeId: forward.typeId,
              },
            ],
          },
        ],
      },
    );
    expect(labelled.body.results[0].labels).toEqual(['Billing contact']);
    expect(
      sandbox.associations('companies', company)[0].associationTypeIds,
    ).toEqual([280, inverse.typeId].sort((a, b) => a - b));
    expect(
      (
        await api('PUT', path, {
          associationTypeId: forward.typeId,
          label: 'Invoice contact',
        })
      ).status,
    ).toBe(204);
    expect(
      sandbox.associationTypes('contacts', 'companies').map((d) => d.label),
    ).toContain('Invoice contact');
    expect((await api('DELETE', `${path}/${forward.typeId}`)).status).toBe(204);
    expect(sandbox.associations('contacts', ada)[0].associationTypeIds).toEqual(
      [279],
    );
    expect((await api('DELETE', `${path}/279`)).status).toBe(400);
  });

  it('defines custom objects reachable by 2-<id> and p<portal>_<name>, with their own association types', async () => {
    const schema = await api('POST', '/crm-object-schemas/v3/schemas', {
      name: 'car',
      labels: { singular: 'Car', plural: 'Cars' },
      primaryDisplayProperty: 'plate',
      properties: [
        { name: 'plate', label: 'Plate', type: 'string' },
        { name: 'seats', type: 'number' },
      ],
      associatedObjects: ['CONTACT'],
    });
    expect(schema.status).toBe(201);
    const { objectTypeId, fullyQualifiedName } = schema.body;
    expect(objectTypeId).toMatch(/^2-\d+$/);
    expect(fullyQualifiedName).toBe('p12345678_car');
    const car = await api('POST', `/crm/v3/objects/${objectTypeId}`, {
      properties: { plate: 'AB-123', seats: '4' },
    });
    expect(car.status).toBe(201);
    const read = await api(
      'GET',
      `/crm/v3/objects/${fullyQualifiedName}/${car.body.id}?properties=plate`,
    );
    expect(read.body.properties.plate).toBe('AB-123');
    // Custom objects only take the properties their schema defines.
    const unknown = await api('POST', `/crm/v3/objects/${objectTypeId}`, {
      properties: { color: 'red' },
    });
    expect(unknown.status).toBe(400);

    const ada = await create('contacts', { email: 'ada@example.com' });
    const labels = await api(
      'GET',
      `/crm/v4/associations/${fullyQualifiedName}/contacts/labels`,
    );
    expect(labels.body.results).toEqual([
      {
        category: 'USER_DEFINED',
        typeId: Number(schema.body.associations[0].id),
        label: null,
      },
    ]);
    const linked = await api(
      'POST',
      `/crm/v4/associations/${objectTypeId}/contacts/batch/associate/default`,
      {
        inputs: [{ from: { id: car.body.id }, to: { id: ada } }],
      },
    );
    expect(linked.status).toBe(200);
    expect(linked.body.results[0].associationSpec.associationCategory).toBe(
      'USER_DEFINED',
    );
    expect(sandbox.associations('contacts', ada)).toEqual([
      expect.objectContaining({
        toObjectType: fullyQualifiedName,
        toObjectId: car.body.id,
      }),
    ]);
    // No association definition between cars and companies.
    const company = await create('companies', { name: 'Acme' });
    const undefinedPair = await api(
      'POST',
      `/crm/v4/associations/${objectTypeId}/companies/batch/associate/default`,
      {
        inputs: [{ from: { id: car.body.id }, to: { id: company } }],
      },
    );
    expect(undefinedPair.status).toBe(400);
    expect(
      (await api('GET', `/crm-object-schemas/v3/schemas/${objectTypeId}`)).body
        .name,
    ).toBe('car');
  });

  it('moves associations to the survivor of a merge', async () => {
    const acme = await create('companies', { name: 'Acme' });
    const a = await create('contacts', { email: 'a@example.com' });
    const b = await create('contacts', { email: 'b@example.com' });
    await api(
      'POST',
      '/crm/v4/associations/contacts/companies/batch/associate/default',
      {
        inputs: [{ from: { id: b }, to: { id: acme } }],
      },
    );
    const merged = sandbox.mergeRecords('contacts', a, b);
    expect(sandbox.associations('contacts', merged.id)).toEqual([
      {
        toObjectType: 'companies',
        toObjectId: acme,
        associationTypeIds: [279],
      },
    ]);
    expect(sandbox.associations('companies', acme)).toEqual([
      {
        toObjectType: 'contacts',
        toObjectId: merged.id,
        associationTypeIds: [280],
      },
    ]);
  });

  it('speaks to the official @hubspot/api-client (v4 batch create and read)', async () => {
    const client = new Client({
      accessToken: TOKEN,
      basePath: baseUrl,
      numberOfApiCallRetries: 0,
    });
    const company = await create('companies', { name: 'Acme' });
    const ada = await create('contacts', { email: 'ada@example.com' });
    await client.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: [
        {
          _from: { id: ada },
          to: { id: company },
          types: [
            {
              associationCategory: 'HUBSPOT_DEFINED' as any,
              associationTypeId: 1,
            },
          ],
        },
      ],
    });
    const read = await client.crm.associations.v4.batchApi.getPage(
      'contacts',
      'companies',
      {
        inputs: [{ id: ada }],
      },
    );
    expect(
      read.results[0].to[0].associationTypes.map((t) => t.typeId).sort(),
    ).toEqual([1, 279]);
    const labels =
      await client.crm.associations.v4.schema.definitionsApi.getAll(
        'contacts',
        'companies',
      );
    expect(labels.results.map((l) => l.typeId)).toEqual([279, 1]);
  });
});
