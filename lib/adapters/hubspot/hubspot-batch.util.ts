/** Wire shapes of HubSpot batch answers and helpers to split work into valid batches. */
import type { HubspotBatchErrorItem } from './hubspot-errors.util';

export interface HubspotRecordJson {
  id: string;
  properties?: Record<string, string | null>;
  new?: boolean;
}

/** 200/201/207 body of batch create/read/update/upsert. */
export interface HubspotBatchResponse {
  results?: HubspotRecordJson[];
  errors?: HubspotBatchErrorItem[];
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(items.slice(i, i + size));
  return out;
}

/**
 * Splits items into rounds in which no identity appears twice: HubSpot rejects a whole batch
 * when two inputs resolve to one record, so a repeated identity waits for the next round.
 */
export function rounds<T>(items: T[], identity: (item: T) => string): T[][] {
  const out: Array<{ items: T[]; seen: Set<string> }> = [];
  for (const item of items) {
    const id = identity(item);
    let round = out.find((r) => !r.seen.has(id));
    if (!round) {
      round = { items: [], seen: new Set() };
      out.push(round);
    }
    round.items.push(item);
    round.seen.add(id);
  }
  return out.map((r) => r.items);
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker),
  );
}

/** Values of a context field of a 207 error (e.g. `ids`, `objectWriteTraceId`). */
export function contextValues(
  error: HubspotBatchErrorItem,
  field: string,
): string[] {
  const values = error.context?.[field];
  return Array.isArray(values) ? values.map(String) : [];
}
