const DAY_MS = 86_400_000;

/**
 * The portal's wall clock: HubSpot resets the daily quota at midnight in the portal's time zone,
 * not UTC, so the sandbox computes days and resets here (DST included, through Intl).
 */
export class PortalClock {
  private readonly format?: Intl.DateTimeFormat;

  constructor(
    readonly timeZone: string,
    private readonly fixedOffsetMinutes: number | undefined,
    readonly now: () => number,
  ) {
    if (fixedOffsetMinutes === undefined) {
      try {
        this.format = new Intl.DateTimeFormat('en-US', {
          timeZone,
          hourCycle: 'h23',
          year: 'numeric',
          month: '2-digit',
          day: '2-digit',
          hour: '2-digit',
          minute: '2-digit',
          second: '2-digit',
        });
      } catch {
        throw new Error(
          `HubspotSandbox: timeZone "${timeZone}" is not an IANA time zone; use e.g. "America/Los_Angeles" or set utcOffsetMinutes`,
        );
      }
    } else if (
      !Number.isInteger(fixedOffsetMinutes) ||
      Math.abs(fixedOffsetMinutes) > 14 * 60
    ) {
      throw new Error(
        `HubspotSandbox: utcOffsetMinutes must be a whole number of minutes between -840 and 840, got ${fixedOffsetMinutes}`,
      );
    }
  }

  /** Milliseconds to add to UTC to get the portal's wall time at `at`. */
  offsetMs(at: number): number {
    if (!this.format) return (this.fixedOffsetMinutes ?? 0) * 60_000;
    const parts: Record<string, number> = {};
    for (const p of this.format.formatToParts(new Date(at))) {
      if (p.type !== 'literal') parts[p.type] = Number(p.value);
    }
    const wall = Date.UTC(
      parts.year,
      parts.month - 1,
      parts.day,
      parts.hour,
      parts.minute,
      parts.second,
    );
    return wall - (at - (((at % 1000) + 1000) % 1000));
  }

  /** The portal's calendar day of `at`, as days since the epoch in wall time. */
  dayOf(at: number): number {
    return Math.floor((at + this.offsetMs(at)) / DAY_MS);
  }

  /** Epoch ms of the next portal midnight after `at` (when the daily quota resets). */
  nextMidnight(at: number): number {
    const wallMidnight = (this.dayOf(at) + 1) * DAY_MS;
    let utc = wallMidnight - this.offsetMs(at);
    // The offset can differ at midnight itself (DST switch during the day): settle on it.
    utc = wallMidnight - this.offsetMs(utc);
    return utc;
  }

  /** `+HH:MM` / `-HH:MM` offset at `at`, as account-info details show it. */
  offsetLabel(at: number): string {
    const minutes = Math.round(this.offsetMs(at) / 60_000);
    const sign = minutes < 0 ? '-' : '+';
    const abs = Math.abs(minutes);
    const hh = String(Math.floor(abs / 60)).padStart(2, '0');
    const mm = String(abs % 60).padStart(2, '0');
    return `${sign}${hh}:${mm}`;
  }
}
