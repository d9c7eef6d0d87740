import { ONE_DAY_MS } from '../../rate/rate.constants';
import { msUntilUtcMidnight } from '../../rate/rate-governor.util';

/** Reads one account-info endpoint outside the (spent) budget; resolves undefined on failure. */
export type AccountInfoReader = (path: string) => Promise<unknown>;

/**
 * When HubSpot's daily quota comes back: at midnight in the portal's time zone, not UTC. The
 * usage endpoint's `resetsAt` is read first (measured against its own `collectedAt`, so a clock
 * skew between HubSpot and this machine does not matter), then the portal's UTC offset, then UTC.
 * The answer is remembered until that moment has passed.
 */
export class HubspotDailyReset {
  private resetsAt = 0;
  private pending?: Promise<number>;

  constructor(
    private readonly read: AccountInfoReader,
    private readonly paths: { dailyUsage: string; accountDetails: string },
  ) {}

  /** Ms from now until the portal's daily quota resets. */
  async msUntilReset(): Promise<number> {
    const now = Date.now();
    if (this.resetsAt > now) return this.resetsAt - now;
    this.pending ??= this.lookup().finally(() => (this.pending = undefined));
    const ms = await this.pending;
    this.resetsAt = Date.now() + ms;
    return ms;
  }

  private async lookup(): Promise<number> {
    const fromUsage = resetFromUsage(await this.read(this.paths.dailyUsage));
    if (fromUsage !== undefined) return fromUsage;
    const details = (await this.read(this.paths.accountDetails)) as {
      utcOffsetMilliseconds?: unknown;
    } | null;
    const offset = Number(details?.utcOffsetMilliseconds);
    if (details && Number.isFinite(offset)) {
      return msUntilOffsetMidnight(Date.now(), offset);
    }
    return msUntilUtcMidnight(Date.now());
  }
}

/** `resetsAt − collectedAt` of the usage answer (an array, or `{ results: [...] }`). */
export function resetFromUsage(body: unknown): number | undefined {
  const list = Array.isArray(body)
    ? body
    : Array.isArray((body as { results?: unknown })?.results)
      ? (body as { results: unknown[] }).results
      : body && typeof body === 'object'
        ? [body]
        : [];
  for (const entry of list as Array<Record<string, unknown>>) {
    const resetsAt = Date.parse(String(entry?.resetsAt ?? ''));
    if (Number.isNaN(resetsAt)) continue;
    const collected = Date.parse(String(entry.collectedAt ?? ''));
    const base = Number.isNaN(collected) ? Date.now() : collected;
    const ms = resetsAt - base;
    if (ms > 0 && ms <= ONE_DAY_MS * 2) return ms;
  }
  return undefined;
}

/** Ms until the next midnight of a zone `offsetMs` east of UTC (negative west of it). */
export function msUntilOffsetMidnight(now: number, offsetMs: number): number {
  return msUntilUtcMidnight(now + offsetMs);
}
