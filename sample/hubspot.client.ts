/**
 * The few HubSpot API calls the sample makes itself: make sure the custom contact property it
 * writes exists, and read back what the CRM holds. Works the same against the sandbox.
 */
export class SampleHubspotClient {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
  ) {}

  /** Creates a number property unless the portal has it (needs the crm.schemas.*.write scope). */
  async ensureNumberProperty(
    objectType: string,
    name: string,
    label: string,
  ): Promise<void> {
    const found = await this.call(
      'GET',
      `/crm/v3/properties/${objectType}/${name}`,
    );
    if (found.status === 200) return;
    const created = await this.call(
      'POST',
      `/crm/v3/properties/${objectType}`,
      {
        name,
        label,
        type: 'number',
        fieldType: 'number',
        groupName: `${objectType.replace(/s$/, '')}information`,
      },
    );
    if (created.status !== 201 && created.status !== 409) {
      throw new Error(
        `Could not create the ${objectType} property ${name} (HTTP ${created.status}): ${JSON.stringify(created.body)}`,
      );
    }
  }

  /** The record's properties, or null when the CRM has no live record with that id. */
  async read(
    objectType: string,
    id: string,
    properties: string[],
  ): Promise<Record<string, string | null> | null> {
    const query = `properties=${properties.join(',')}`;
    const res = await this.call(
      'GET',
      `/crm/v3/objects/${objectType}/${id}?${query}`,
    );
    if (res.status === 404) return null;
    if (res.status !== 200)
      throw new Error(`GET ${objectType}/${id}: HTTP ${res.status}`);
    return (res.body as { properties: Record<string, string | null> })
      .properties;
  }

  /** Ids of the records of `toObjectType` a record is associated with, and their type ids. */
  async associations(
    objectType: string,
    id: string,
    toObjectType: string,
  ): Promise<Array<{ id: string; typeIds: number[] }>> {
    const res = await this.call(
      'POST',
      `/crm/v4/associations/${objectType}/${toObjectType}/batch/read`,
      { inputs: [{ id }] },
    );
    if (res.status !== 200 && res.status !== 207) {
      throw new Error(
        `associations of ${objectType}/${id}: HTTP ${res.status}`,
      );
    }
    const result = (
      res.body as {
        results?: Array<{
          to: Array<{
            toObjectId: string | number;
            associationTypes: Array<{ typeId: number }>;
          }>;
        }>;
      }
    ).results?.[0];
    return (result?.to ?? []).map((t) => ({
      id: String(t.toObjectId),
      typeIds: t.associationTypes.map((a) => a.typeId).sort((a, b) => a - b),
    }));
  }

  /** Archives a record (what a delete does in HubSpot). */
  async archive(objectType: string, id: string): Promise<void> {
    const res = await this.call(
      'DELETE',
      `/crm/v3/objects/${objectType}/${id}`,
    );
    if (res.status !== 204 && res.status !== 404) {
      throw new Error(`DELETE ${objectType}/${id}: HTTP ${res.status}`);
    }
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${this.accessToken}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
}
