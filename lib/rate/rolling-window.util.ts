/**
 * Times of calls still inside a rolling window, oldest first, pruned in amortised O(1).
 * Used by the in-process governor (our side) and by the HubSpot sandbox (HubSpot's side).
 */
export class RollingWindow {
  private stamps: number[] = [];
  private head = 0;

  constructor(private readonly windowMs: number) {}

  used(now: number): number {
    while (
      this.head < this.stamps.length &&
      this.stamps[this.head] <= now - this.windowMs
    ) {
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.stamps.length) {
      this.stamps = this.stamps.slice(this.head);
      this.head = 0;
    }
    return this.stamps.length - this.head;
  }

  add(now: number, count = 1): void {
    for (let i = 0; i < count; i++) this.stamps.push(now);
  }

  /** Ms until the oldest call in the window leaves it. */
  msUntilFree(now: number): number {
    const oldest = this.stamps[this.head];
    return oldest === undefined ? 0 : Math.max(0, oldest + this.windowMs - now);
  }

  /** Ms until one more call fits under `limit` (0 = now). */
  msUntilRoom(limit: number, now: number): number {
    const used = this.used(now);
    if (used < limit) return 0;
    const freeing = this.stamps[this.head + used - limit];
    return Math.max(1, freeing + this.windowMs - now);
  }
}
