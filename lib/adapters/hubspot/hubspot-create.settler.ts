import { CrmAmbiguousWriteError, CrmError } from '../../errors/crm.error';
import type { HubspotObjectsApi } from './hubspot-objects.api';
import { identityKey, type HubspotProperties } from './hubspot-payload.util';
import { sleep } from '../../util/sleep.util';

/** A record to create with no unique key HubSpot can upsert by; `match` reads it back. */
export interface CreateItem {
  props: HubspotProperties;
  match?: { property: string; value: string };
  /** The record's stable key: an unsettled create is not attempted again for it. */
  recordKey?: string;
}

export type CreateOutcome = { crmId: string } | { error: CrmError };

/**
 * Creates are not safe to repeat, so they are fenced: a record is looked for before it is created
 * (a previous attempt may have been applied), and a create whose answer was lost is settled by
 * reading it back once HubSpot's search has caught up — never by creating it again. A record with
 * nothing to read it back by cannot be settled; its error says so and is not retryable.
 */
export class HubspotCreateSettler {
  /** Records whose create was lost with nothing to read it back by: never created again here. */
  private readonly unsettled = new Map<string, CrmAmbiguousWriteError>();

  constructor(
    private readonly api: HubspotObjectsApi,
    private readonly settleDelayMs: number,
    private readonly warn: (message: string) => void,
  ) {}

  /** Records already in HubSpot, by index of `items` (searched by their match property). */
  async existing(
    type: string,
    items: CreateItem[],
  ): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const byProperty = new Map<string, number[]>();
    items.forEach((item, i) => {
      if (!item.match) return;
      const list = byProperty.get(item.match.property) ?? [];
      list.push(i);
      byProperty.set(item.match.property, list);
    });
    for (const [property, indexes] of byProperty) {
      const found = await this.api.searchIn(
        type,
        property,
        indexes.map((i) => items[i].match!.value),
      );
      const byKey = new Map(
        [...found].map(([value, id]) => [
          identityKey(type, property, value),
          id,
        ]),
      );
      for (const i of indexes) {
        const id = byKey.get(
          identityKey(type, property, items[i].match!.value),
        );
        if (id) out.set(i, id);
      }
    }
    return out;
  }

  /** One record: adopt what a search finds, else create; a lost answer is settled. */
  async createOne(type: string, item: CreateItem): Promise<string> {
    const earlier = item.recordKey && this.unsettled.get(item.recordKey);
    if (earlier) throw earlier;
    const found = (await this.existing(type, [item])).get(0);
    if (found) return this.api.patch(type, found, item.props);
    try {
      return await this.api.create(type, item.props);
    } catch (error) {
      if (!(error instanceof CrmAmbiguousWriteError)) throw error;
      const outcome = (await this.settle(type, [item], error)).get(0)!;
      if ('error' in outcome) throw outcome.error;
      return outcome.crmId;
    }
  }

  /**
   * Settles creates whose answer was lost: waits for search to catch up, then adopts what it finds.
   * Not found: still ambiguous, retryable after another settle delay (the next attempt searches
   * before it creates). No match property: not retryable, it needs a person or the key property.
   */
  async settle(
    type: string,
    items: CreateItem[],
    cause: CrmError,
  ): Promise<Map<number, CreateOutcome>> {
    const out = new Map<number, CreateOutcome>();
    const readable = items.some((i) => i.match);
    if (readable && this.settleDelayMs > 0) await sleep(this.settleDelayMs);
    const found = readable
      ? await this.existing(type, items)
      : new Map<number, string>();
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const id = found.get(i);
      if (id) {
        try {
          out.set(i, { crmId: await this.api.patch(type, id, item.props) });
          this.warn(
            `${type}: a create whose answer was lost was applied; settled by ${item.match!.property} to ${id}`,
          );
        } catch (error) {
          out.set(i, { error: asCrmError(error) });
        }
        continue;
      }
      const error = item.match
        ? new CrmAmbiguousWriteError(
            `${cause.message}; not found by ${item.match.property} after ${this.settleDelayMs} ms, so the next attempt looks for it again before creating`,
            { retryable: true, retryAfterMs: this.settleDelayMs },
          )
        : new CrmAmbiguousWriteError(
            `${cause.message}; the record has no key to read it back by, so it is not retried: check HubSpot for it, then retry the dead letter. Provision the key property (etlify provision --apply) to make first writes safe to repeat`,
            { retryable: false },
          );
      if (!item.match && item.recordKey)
        this.unsettled.set(item.recordKey, error);
      out.set(i, { error });
    }
    return out;
  }
}

export function asCrmError(error: unknown): CrmError {
  if (error instanceof CrmError) return error;
  return new CrmError(error instanceof Error ? error.message : String(error));
}
