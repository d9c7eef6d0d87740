import { CrmError, CrmNotFoundError } from '../../errors/crm.error';
import type {
  CrmBatchUpsertRecord,
  CrmBatchUpsertRequest,
  CrmBatchUpsertResult,
} from '../../interfaces/crm-adapter.interface';
import { HUBSPOT_MAX_BATCH_INPUTS } from './hubspot.constants';
import {
  chunk,
  mapLimited,
  rounds,
  type HubspotBatchResponse,
} from './hubspot-batch.util';
import {
  asCrmError,
  type CreateItem,
  type HubspotCreateSettler,
} from './hubspot-create.settler';
import {
  batchErrors,
  HubspotBatchCreator,
} from './hubspot-batch-create.writer';
import type { HubspotHttpClient } from './hubspot-http.client';
import type { HubspotIdentity } from './hubspot-identity.service';
import type { HubspotObjectsApi } from './hubspot-objects.api';
import {
  identityKey,
  toHubspotProperties,
  type HubspotProperties,
} from './hubspot-payload.util';

type Outcome = { crmId: string } | { error: CrmError };

/** One record of a batch: its caller key, properties, and how it is matched in the answer. */
interface Item {
  key: string;
  props: HubspotProperties;
  crmId?: string;
  /** Upserts: the unique property and value HubSpot must echo in the result. */
  idProperty?: string;
  value?: string;
  /** Creates: how the record is found again. */
  create?: CreateItem;
}

/** What the single-record path offers the batch path for inputs a batch answer left open. */
export interface SingleWrites {
  update(
    type: string,
    crmId: string,
    props: HubspotProperties,
    idProperty: string | undefined,
    recordKey: string | undefined,
    mayRecreate?: () => Promise<boolean>,
  ): Promise<string>;
}

/**
 * The bulk path: updates by id through batch/update, first writes through batch/upsert by a
 * unique property (or fenced creates when HubSpot offers none). Results are matched to inputs only
 * by what HubSpot must return — the id of an update, the idProperty value of an upsert, the match
 * property of a create — never by position or objectWriteTraceId. An input left unanswered is
 * retried alone when that is safe (update, upsert) and settled when it is not (create).
 */
export class HubspotBatchWriter {
  constructor(
    private readonly client: HubspotHttpClient,
    private readonly api: HubspotObjectsApi,
    private readonly identity: HubspotIdentity,
    private readonly settler: HubspotCreateSettler,
    private readonly single: SingleWrites,
    private readonly concurrency: number,
  ) {
    this.creator = new HubspotBatchCreator(client, api, settler, concurrency);
  }

  private readonly creator: HubspotBatchCreator;

  async write(
    type: string,
    req: CrmBatchUpsertRequest,
  ): Promise<CrmBatchUpsertResult[]> {
    const out = new Map<string, CrmBatchUpsertResult>();
    // The same key twice: the last payload is the record's current state.
    const latest = new Map<string, CrmBatchUpsertRecord>();
    for (const record of req.records) latest.set(record.key, record);
    const updates: Item[] = [];
    const upserts = new Map<string, Item[]>();
    const creates: Item[] = [];
    for (const record of latest.values()) {
      try {
        const props = toHubspotProperties(type, record.payload);
        if (record.crmId) {
          updates.push({ key: record.key, props, crmId: record.crmId });
          continue;
        }
        const plan = await this.identity.firstWrite(
          type,
          props,
          req.idProperty || undefined,
          recordKeyOf(record),
        );
        if (plan.kind === 'upsert') {
          const list = upserts.get(plan.idProperty) ?? [];
          list.push({
            key: record.key,
            props: plan.props,
            idProperty: plan.idProperty,
            value: plan.value,
          });
          upserts.set(plan.idProperty, list);
        } else
          creates.push({
            key: record.key,
            props,
            create: {
              props,
              match: plan.match,
              recordKey: recordKeyOf(record),
            },
          });
      } catch (error) {
        out.set(record.key, { key: record.key, error: asCrmError(error) });
      }
    }
    const jobs: Array<() => Promise<Map<string, Outcome>>> = [];
    for (const round of rounds(updates, (i) => i.crmId!))
      for (const part of chunk(round, HUBSPOT_MAX_BATCH_INPUTS))
        jobs.push(() =>
          this.bisect(part, (p) => this.sendUpdate(type, p, req)),
        );
    for (const [idProperty, items] of upserts)
      for (const round of rounds(items, (i) =>
        identityKey(type, idProperty, i.value!),
      ))
        for (const part of chunk(round, HUBSPOT_MAX_BATCH_INPUTS))
          jobs.push(() =>
            this.bisect(part, (p) => this.sendUpsert(type, idProperty, p)),
          );
    if (creates.length) jobs.push(() => this.creator.write(type, creates));
    await mapLimited(jobs, this.concurrency, async (job) => {
      for (const [key, outcome] of await job())
        out.set(key, { key, ...outcome });
    });
    return [...out.values()];
  }

  /** Sends a batch; when HubSpot rejects it as a whole, halves it until only bad inputs fail. */
  private async bisect(
    items: Item[],
    send: (items: Item[]) => Promise<Map<string, Outcome>>,
  ): Promise<Map<string, Outcome>> {
    try {
      return await send(items);
    } catch (caught) {
      const error = asCrmError(caught);
      if (items.length === 1 || !isBatchRejection(error))
        return new Map(items.map((item) => [item.key, { error }]));
      const middle = items.length >> 1;
      const [left, right] = await Promise.all([
        this.bisect(items.slice(0, middle), send),
        this.bisect(items.slice(middle), send),
      ]);
      return new Map([...left, ...right]);
    }
  }

  private async sendUpdate(
    type: string,
    items: Item[],
    req: CrmBatchUpsertRequest,
  ): Promise<Map<string, Outcome>> {
    const path = this.api.paths.batch(type, 'update');
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path,
      body: {
        inputs: items.map((i) => ({ id: i.crmId, properties: i.props })),
      },
      expect: 'batch',
    });
    const byId = new Map(items.map((i) => [i.crmId!, i]));
    const outcomes = new Map<string, Outcome>();
    for (const result of response.data.results ?? []) {
      const item = result?.id ? byId.get(String(result.id)) : undefined;
      if (item) outcomes.set(item.key, { crmId: String(result.id) });
    }
    const errors = batchErrors(response, path, items, (values) =>
      values.map((v) => byId.get(v)),
    );
    for (const [item, error] of errors) {
      // Merged ids: batch endpoints do not follow them, the basic PATCH does (below).
      if (!(error instanceof CrmNotFoundError) && !outcomes.has(item.key))
        outcomes.set(item.key, { error });
    }
    // Unanswered or not found: PATCH alone, which follows merges and is safe to repeat.
    const open = items.filter((i) => !outcomes.has(i.key));
    const records = new Map(req.records.map((r) => [r.key, r]));
    await mapLimited(open, this.concurrency, async (item) => {
      try {
        const record = records.get(item.key)!;
        const crmId = await this.single.update(
          type,
          item.crmId!,
          item.props,
          req.idProperty || undefined,
          recordKeyOf(record),
          record.mayRecreate,
        );
        outcomes.set(item.key, { crmId });
      } catch (error) {
        outcomes.set(item.key, { error: asCrmError(error) });
      }
    });
    return outcomes;
  }

  private async sendUpsert(
    type: string,
    idProperty: string,
    items: Item[],
  ): Promise<Map<string, Outcome>> {
    const path = this.api.paths.batch(type, 'upsert');
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path,
      body: {
        inputs: items.map((i) => ({
          id: i.value,
          idProperty,
          properties: i.props,
        })),
      },
      expect: 'batch',
    });
    const byValue = new Map(
      items.map((i) => [identityKey(type, idProperty, i.value!), i]),
    );
    const outcomes = new Map<string, Outcome>();
    for (const result of response.data.results ?? []) {
      const value = result?.properties?.[idProperty];
      const item = value
        ? byValue.get(identityKey(type, idProperty, value))
        : undefined;
      if (item && result.id)
        outcomes.set(item.key, { crmId: String(result.id) });
    }
    const named = (values: string[]) =>
      values.map((v) => byValue.get(identityKey(type, idProperty, v)));
    for (const [item, error] of batchErrors(response, path, items, named))
      if (!outcomes.has(item.key)) outcomes.set(item.key, { error });
    // An unanswered upsert is safe to repeat alone, where the single answer needs no matching.
    const open = items.filter((i) => !outcomes.has(i.key));
    await mapLimited(open, this.concurrency, async (item) => {
      try {
        outcomes.set(item.key, {
          crmId: (
            await this.api.upsertOne(type, idProperty, item.value!, item.props)
          ).id,
        });
      } catch (error) {
        outcomes.set(item.key, { error: asCrmError(error) });
      }
    });
    return outcomes;
  }
}

function recordKeyOf(record: CrmBatchUpsertRecord): string {
  return record.recordKey ?? record.key;
}

/** 400/409/422 on a whole batch: some input is bad, the rest may be fine. */
function isBatchRejection(error: CrmError): boolean {
  return (
    !error.retryable &&
    (error.status === 400 || error.status === 409 || error.status === 422)
  );
}
