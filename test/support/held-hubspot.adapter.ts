import {
  CrmBatchUpsertRequest,
  CrmBatchUpsertResult,
  CrmUpsertRequest,
  HubspotAdapter,
} from 'nestjs-etlify';

/** A held CRM write: `entered` resolves when it waits; `release()` lets it go on. */
export interface Hold {
  entered: Promise<void>;
  release(): void;
}

/**
 * A HubspotAdapter whose next write (upsert or batchUpsert) can be held, either before its HTTP
 * call or after it (the write applied in the sandbox, its answer not yet back), so a test can
 * land a delete in the middle of a sync deterministically.
 */
export class HeldHubspotAdapter extends HubspotAdapter {
  private next?: {
    where: 'before' | 'after';
    gate: Promise<void>;
    signal(): void;
  };

  hold(where: 'before' | 'after'): Hold {
    let release!: () => void;
    let signal!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (signal = resolve));
    this.next = { where, gate, signal };
    return { entered, release };
  }

  override async upsert(req: CrmUpsertRequest): Promise<string> {
    return this.held(() => super.upsert(req));
  }

  override async batchUpsert(
    req: CrmBatchUpsertRequest,
  ): Promise<CrmBatchUpsertResult[]> {
    return this.held(() => super.batchUpsert(req));
  }

  private async held<T>(call: () => Promise<T>): Promise<T> {
    const hold = this.next;
    this.next = undefined;
    if (!hold) return call();
    if (hold.where === 'before') {
      hold.signal();
      await hold.gate;
      return call();
    }
    const result = await call();
    hold.signal();
    await hold.gate;
    return result;
  }
}
