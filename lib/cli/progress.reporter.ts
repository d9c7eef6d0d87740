import type { StaleProgress } from '../stale/stale-run-options.interface';

/** How often the bar is redrawn on a terminal, and a plain line printed otherwise. */
const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 5_000;
const BAR_WIDTH = 28;

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** A progress bar with rate and ETA on a terminal; a plain line every few seconds otherwise. */
export class ProgressReporter {
  private readonly started = Date.now();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
  ) {}

  update(progress: StaleProgress): void {
    const now = Date.now();
    const interval = this.stream.isTTY ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS;
    if (now - this.last < interval) return;
    this.last = now;
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? progress.processed / elapsed : 0;
    const total = progress.total;
    const eta =
      total !== undefined && rate > 0
        ? (total - progress.processed) / rate
        : Number.NaN;
    const counts =
      total !== undefined
        ? `${progress.processed}/${total}`
        : `${progress.processed}`;
    const tail = `${counts} ${Math.round(rate)} rec/s ETA ${duration(eta)} ${progress.entity} → ${progress.crm}`;
    if (this.stream.isTTY) {
      const ratio = total ? Math.min(1, progress.processed / total) : 0;
      const filled = Math.round(ratio * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%`;
      const line = `${this.label} ${bar} ${tail}`;
      this.stream.write(
        `\r${line.slice(0, (this.stream.columns ?? 120) - 1)}\x1b[K`,
      );
      this.drawn = true;
    } else {
      this.stream.write(`${this.label}: ${tail}\n`);
    }
  }

  /** Clears the bar before the summary is printed. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
  }
}
