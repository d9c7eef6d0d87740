import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';

/**
 * An InMemoryCrmAdapter whose batch calls wait until `open()` is called, so a test can hold a
 * sweep in the middle of its CRM call and look at what other processes do meanwhile.
 */
export class GatedCrmAdapter extends InMemoryCrmAdapter {
  private release!: () => void;
  private readonly gate = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  private signal!: () => void;
  /** Resolves when the first batch call is waiting at the gate. */
  readonly entered = new Promise<void>((resolve) => {
    this.signal = resolve;
  });
  /** Records received by batch calls. */
  upserted = 0;

  constructor() {
    super();
    const inner = this.batchUpsert!;
    this.batchUpsert = async (req) => {
      this.signal();
      await this.gate;
      this.upserted += req.records.length;
      return inner(req);
    };
  }

  open(): void {
    this.release();
  }
}
