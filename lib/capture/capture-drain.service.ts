import { Injectable } from '@nestjs/common';

/**
 * The captured work still being flushed. Capture adds to it and SyncService waits on it, so
 * neither holds the other: capture already depends on SyncService for its deletes.
 */
@Injectable()
export class CaptureDrain {
  private readonly inFlight = new Set<Promise<void>>();

  /** Counts `work` until it settles. */
  track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
  }

  /** Resolves when nothing captured is still being flushed. */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}
