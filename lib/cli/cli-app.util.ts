import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RunHistoryService, RunFigures } from '../ops/run-history.service';
import { SyncService } from '../sync/sync.service';
import { CliUsageError, lastValue, ParsedArgs } from './cli-args.util';
import { CliIo, loadModuleClass, StderrLogger } from './sync-stale.command';

/** `--module` and `--export`, shared by every command that boots the app. */
export const APP_OPTIONS_USAGE = `  --module <file>      compiled module to load, e.g. dist/app.module.js (required)
  --export <name>      exported module class (default: AppModule, else the only module export)`;

/**
 * Boots the user's application context (logs on stderr), runs `work` with it and closes it,
 * also on Ctrl-C.
 */
export async function withApp<T>(
  args: ParsedArgs,
  io: CliIo,
  work: (app: INestApplicationContext, sync: SyncService) => Promise<T>,
): Promise<T> {
  const file = lastValue(args, 'module');
  if (!file) throw new CliUsageError('--module <file> is required');
  const moduleClass = loadModuleClass(file, lastValue(args, 'export'), io.cwd);
  const app = await NestFactory.createApplicationContext(moduleClass, {
    logger: new StderrLogger(io.stderr),
    abortOnError: false,
  });
  const interrupted = () => {
    io.stderr.write('\ninterrupted: closing the application\n');
    void app.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  try {
    let sync: SyncService;
    try {
      sync = app.get(SyncService, { strict: false });
    } catch {
      throw new Error(
        `${file} does not import EtlifyModule from this copy of nestjs-etlify (is the package installed twice?)`,
      );
    }
    return await work(app, sync);
  } finally {
    process.removeListener('SIGINT', interrupted);
    await app.close();
  }
}

/** Stores the CLI run in the run history (when the app has it). */
export async function recordRun(
  app: INestApplicationContext,
  kind: string,
  startedAt: Date,
  figures: RunFigures | null,
  failure?: unknown,
): Promise<void> {
  let runs: RunHistoryService;
  try {
    runs = app.get(RunHistoryService, { strict: false });
  } catch {
    return;
  }
  await runs.record(kind, startedAt, figures, failure);
}

/** Entity names are user input: an unknown one is a usage error (exit 2). */
export async function asUsage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (
      /is not an etlified entity|Unknown CRM|is not mirrored into|pass \{ crm \}/.test(
        message,
      )
    )
      throw new CliUsageError(message);
    throw error;
  }
}

/** `3m 12s`, `2h 5m`, `4d 1h`: ages for people. */
export function age(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** A left-aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c ?? '').padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
