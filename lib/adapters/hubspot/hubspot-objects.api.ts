import { CrmError, CrmNotFoundError } from '../../errors/crm.error';
import type {
  HubspotBatchResponse,
  HubspotRecordJson,
} from './hubspot-batch.util';
import {
  HUBSPOT_MERGED_IDS_PROPERTY,
  HUBSPOT_OBJECT_ID_PROPERTY,
} from './hubspot.constants';
import { batchItemError } from './hubspot-errors.util';
import type { HubspotHttpClient } from './hubspot-http.client';
import type { HubspotPaths } from './hubspot-paths.util';
import type { HubspotProperties } from './hubspot-payload.util';

/** Single-record calls of the objects API; every answer must name the record's id. */
export class HubspotObjectsApi {
  constructor(
    private readonly client: HubspotHttpClient,
    readonly paths: HubspotPaths,
  ) {}

  /**
   * PATCH by id; resolves to the id HubSpot answers with, which differs from `crmId` when the
   * record was merged (old ids keep answering with the merged record's new id).
   */
  async patch(
    type: string,
    crmId: string,
    props: HubspotProperties,
  ): Promise<string> {
    const response = await this.client.request<HubspotRecordJson>({
      method: 'PATCH',
      path: this.paths.object(type, crmId),
      body: { properties: props },
      expect: 'record',
    });
    return String(response.data.id);
  }

  /** A plain create: not safe to repeat, so a lost answer throws CrmAmbiguousWriteError. */
  async create(type: string, props: HubspotProperties): Promise<string> {
    const response = await this.client.request<HubspotRecordJson>({
      method: 'POST',
      path: this.paths.objects(type),
      body: { properties: props },
      idempotent: false,
      expect: 'record',
    });
    return String(response.data.id);
  }

  /** Upsert of one record by a unique property (safe to repeat). */
  async upsertOne(
    type: string,
    idProperty: string,
    value: string,
    props: HubspotProperties,
  ): Promise<{ id: string; isNew: boolean }> {
    const path = this.paths.batch(type, 'upsert');
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path,
      body: { inputs: [{ id: value, idProperty, properties: props }] },
      expect: 'batch',
    });
    const result = response.data.results?.find((r) => r?.id);
    if (!result) {
      const error = response.data.errors?.[0];
      throw error
        ? batchItemError(error, {
            method: 'POST',
            path,
            correlationId: response.correlationId,
          })
        : new CrmError(`HubSpot returned no result for the ${type} upsert`, {
            retryable: true,
            category: 'EMPTY_BODY',
          });
    }
    return { id: String(result.id), isNew: result.new === true };
  }

  /** The live id a read by id resolves to (merged ids answer with the new id); undefined on 404. */
  async readId(type: string, crmId: string): Promise<string | undefined> {
    try {
      const response = await this.client.request<HubspotRecordJson>({
        method: 'GET',
        path: this.paths.object(type, crmId),
        query: { properties: HUBSPOT_OBJECT_ID_PROPERTY },
        expect: 'record',
      });
      return String(response.data.id);
    } catch (error) {
      if (error instanceof CrmNotFoundError) return undefined;
      throw error;
    }
  }

  /** The live id `crmId` resolves to and the ids merged into that record; undefined on 404. */
  async readIdentity(
    type: string,
    crmId: string,
  ): Promise<{ id: string; mergedIds: string[] } | undefined> {
    const found = await this.read(type, crmId, [
      HUBSPOT_OBJECT_ID_PROPERTY,
      HUBSPOT_MERGED_IDS_PROPERTY,
    ]);
    if (!found) return undefined;
    const merged = found.properties[HUBSPOT_MERGED_IDS_PROPERTY] ?? '';
    return {
      id: found.id,
      mergedIds: merged.split(';').filter((id) => id !== ''),
    };
  }

  /**
   * Live ids and merged ids of up to 100 records with one batch/read. Batch reads do not follow
   * merges: an old id of a merged record is absent from the answer, like an archived one.
   */
  async readIdentities(
    type: string,
    crmIds: string[],
  ): Promise<Map<string, { id: string; mergedIds: string[] }>> {
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path: this.paths.batch(type, 'read'),
      body: {
        properties: [HUBSPOT_OBJECT_ID_PROPERTY, HUBSPOT_MERGED_IDS_PROPERTY],
        inputs: crmIds.map((id) => ({ id })),
      },
      expect: 'batch',
    });
    const out = new Map<string, { id: string; mergedIds: string[] }>();
    for (const record of response.data.results ?? []) {
      if (!record?.id) continue;
      const merged = record.properties?.[HUBSPOT_MERGED_IDS_PROPERTY] ?? '';
      out.set(String(record.id), {
        id: String(record.id),
        mergedIds: merged.split(';').filter((id) => id !== ''),
      });
    }
    return out;
  }

  /** One record's properties (merged ids answer with the merged record), or null on 404. */
  async read(
    type: string,
    crmId: string,
    properties: readonly string[],
  ): Promise<{ id: string; properties: Record<string, string | null> } | null> {
    try {
      const response = await this.client.request<HubspotRecordJson>({
        method: 'GET',
        path: this.paths.object(type, crmId),
        query: { properties: properties.join(',') },
        expect: 'record',
      });
      return {
        id: String(response.data.id),
        properties: response.data.properties ?? {},
      };
    } catch (error) {
      if (error instanceof CrmNotFoundError) return null;
      throw error;
    }
  }

  async archive(type: string, crmId: string): Promise<void> {
    await this.client.request({
      method: 'DELETE',
      path: this.paths.object(type, crmId),
    });
  }

  async archiveMany(type: string, crmIds: string[]): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: this.paths.batch(type, 'archive'),
      body: { inputs: crmIds.map((id) => ({ id })) },
    });
  }

  /** Ids of live records whose `property` equals `value` (search lags writes by seconds). */
  async search(
    type: string,
    property: string,
    value: string,
  ): Promise<string[]> {
    const response = await this.client.request<{
      results?: HubspotRecordJson[];
    }>({
      method: 'POST',
      path: this.paths.search(type),
      bucket: 'search',
      body: {
        filterGroups: [
          { filters: [{ propertyName: property, operator: 'EQ', value }] },
        ],
        properties: [property],
        limit: 10,
      },
    });
    return (response.data?.results ?? [])
      .filter((r) => r?.id)
      .map((r) => String(r.id));
  }

  /**
   * Ids of live records whose `property` is one of `values`, by value (first match wins). Values
   * are sent in groups that keep each search body under HubSpot's 3,000 characters.
   */
  async searchIn(
    type: string,
    property: string,
    values: string[],
  ): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const groups: string[][] = [];
    let group: string[] = [];
    let size = 0;
    for (const value of new Set(values)) {
      const cost = JSON.stringify(value).length + 1;
      if (
        group.length &&
        (size + cost > SEARCH_VALUES_BUDGET || group.length >= 100)
      ) {
        groups.push(group);
        group = [];
        size = 0;
      }
      group.push(value);
      size += cost;
    }
    if (group.length) groups.push(group);
    for (const part of groups) {
      const response = await this.client.request<{
        results?: HubspotRecordJson[];
      }>({
        method: 'POST',
        path: this.paths.search(type),
        bucket: 'search',
        body: {
          filterGroups: [
            {
              filters: [
                { propertyName: property, operator: 'IN', values: part },
              ],
            },
          ],
          properties: [property],
          limit: 200,
        },
      });
      for (const r of response.data?.results ?? []) {
        const value = r?.properties?.[property];
        if (r?.id && value && !found.has(value)) found.set(value, String(r.id));
      }
    }
    return found;
  }
}

/** Characters of search values per request, leaving room for the rest of the body. */
const SEARCH_VALUES_BUDGET = 2_400;
