import { CrmConflictError, CrmError } from '../../errors/crm.error';
import { HUBSPOT_MAX_BATCH_INPUTS } from './hubspot.constants';
import {
  chunk,
  contextValues,
  mapLimited,
  rounds,
  type HubspotBatchResponse,
} from './hubspot-batch.util';
import {
  asCrmError,
  type CreateItem,
  type CreateOutcome,
  type HubspotCreateSettler,
} from './hubspot-create.settler';
import {
  batchItemError,
  type HubspotBatchErrorItem,
} from './hubspot-errors.util';
import type { HubspotHttpClient } from './hubspot-http.client';
import type { HubspotObjectsApi } from './hubspot-objects.api';
import { identityKey, type HubspotProperties } from './hubspot-payload.util';

type Outcome = { crmId: string } | { error: CrmError };

/** A record of a batch with no unique key to upsert by. */
export interface CreateBatchItem {
  key: string;
  props: HubspotProperties;
  create?: CreateItem;
}
type Item = CreateBatchItem;

/** Batch creates for records HubSpot offers no unique key for: fenced and settled, never repeated. */
export class HubspotBatchCreator {
  constructor(
    private readonly client: HubspotHttpClient,
    private readonly api: HubspotObjectsApi,
    private readonly settler: HubspotCreateSettler,
    private readonly concurrency: number,
  ) {}

  /**
   * Creates without a unique key: records found by search are updated; the rest are created
   * (batched when each has a distinct match value HubSpot echoes, alone otherwise); every lost or
   * unmatched answer is settled, never created again.
   */
  async write(type: string, items: Item[]): Promise<Map<string, Outcome>> {
    const outcomes = new Map<string, Outcome>();
    const found = await this.settler.existing(
      type,
      items.map((i) => i.create!),
    );
    const fresh: Item[] = [];
    await mapLimited(
      items.map((item, i) => ({ item, id: found.get(i) })),
      this.concurrency,
      async ({ item, id }) => {
        if (!id) return void fresh.push(item);
        try {
          outcomes.set(item.key, {
            crmId: await this.api.patch(type, id, item.props),
          });
        } catch (error) {
          outcomes.set(item.key, { error: asCrmError(error) });
        }
      },
    );
    const matched = fresh.filter((i) => i.create!.match);
    for (const item of fresh.filter((i) => !i.create!.match)) {
      try {
        outcomes.set(item.key, {
          crmId: await this.settler.createOne(type, item.create!),
        });
      } catch (error) {
        outcomes.set(item.key, { error: asCrmError(error) });
      }
    }
    const identity = (i: Item) =>
      identityKey(type, i.create!.match!.property, i.create!.match!.value);
    for (const round of rounds(matched, identity))
      for (const part of chunk(round, HUBSPOT_MAX_BATCH_INPUTS))
        for (const [key, outcome] of await this.createBatch(type, part))
          outcomes.set(key, outcome);
    return outcomes;
  }

  private async createBatch(
    type: string,
    items: Item[],
  ): Promise<Map<string, Outcome>> {
    const path = this.api.paths.batch(type, 'create');
    const outcomes = new Map<string, Outcome>();
    let response:
      { data: HubspotBatchResponse; correlationId?: string } | undefined;
    let lost: CrmError | undefined;
    try {
      response = await this.client.request<HubspotBatchResponse>({
        method: 'POST',
        path,
        // Trace ids only make HubSpot answer per bad input instead of failing the whole batch.
        body: {
          inputs: items.map((i, n) => ({
            properties: i.props,
            objectWriteTraceId: String(n),
          })),
        },
        idempotent: false,
        expect: 'batch',
      });
    } catch (error) {
      const crmError = asCrmError(error);
      if (!('ambiguous' in crmError))
        return new Map(items.map((i) => [i.key, { error: crmError }]));
      lost = crmError;
    }
    if (response) {
      const byValue = new Map(
        items.map((i) => [identityOf(type, i.create!), i]),
      );
      for (const result of response.data.results ?? []) {
        const property = items[0].create!.match!.property;
        const value = result?.properties?.[property];
        const item = value
          ? byValue.get(identityKey(type, property, value))
          : undefined;
        if (item && result.id)
          outcomes.set(item.key, { crmId: String(result.id) });
      }
      const byTrace = (values: string[]) => values.map((v) => items[Number(v)]);
      for (const [item, error] of batchErrors(
        response,
        path,
        items,
        byTrace,
        'objectWriteTraceId',
      )) {
        if (outcomes.has(item.key)) continue;
        if (error instanceof CrmConflictError && error.existingId) {
          try {
            outcomes.set(item.key, {
              crmId: await this.api.patch(type, error.existingId, item.props),
            });
          } catch (patchError) {
            outcomes.set(item.key, { error: asCrmError(patchError) });
          }
        } else outcomes.set(item.key, { error });
      }
    }
    const open = items.filter((i) => !outcomes.has(i.key));
    if (open.length) {
      const cause =
        lost ??
        new CrmError(
          `HubSpot answered ${path} without a result for some inputs`,
        );
      const settled: Map<number, CreateOutcome> = await this.settler.settle(
        type,
        open.map((i) => i.create!),
        cause,
      );
      open.forEach((item, n) => outcomes.set(item.key, settled.get(n)!));
    }
    return outcomes;
  }
}

/** Per-input errors of a 207 (or of a 200/201 from 2026-09 on), with the inputs each names. */
export function batchErrors<T extends { key: string }>(
  response: { data: HubspotBatchResponse; correlationId?: string },
  path: string,
  items: T[],
  resolve: (values: string[]) => Array<T | undefined>,
  field = 'ids',
): Array<[T, CrmError]> {
  const out: Array<[T, CrmError]> = [];
  for (const error of (response.data.errors ?? []) as HubspotBatchErrorItem[]) {
    const mapped = batchItemError(error, {
      method: 'POST',
      path,
      correlationId: response.correlationId,
    });
    const values = [
      ...contextValues(error, field),
      ...(field === 'ids' ? [] : contextValues(error, 'ids')),
    ];
    for (const item of resolve(values))
      if (item && items.includes(item)) out.push([item, mapped]);
  }
  return out;
}

function identityOf(type: string, item: CreateItem): string {
  return identityKey(type, item.match!.property, item.match!.value);
}
