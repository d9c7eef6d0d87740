import { INestApplicationContext, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MODULE_METADATA } from '@nestjs/common/constants';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { BatchSyncStats } from '../interfaces/sync-outcome.interface';
import type { StaleRunOptions } from '../stale/stale-run-options.interface';
import { SyncService } from '../sync/sync.service';
import {
  CliUsageError,
  lastValue,
  listValue,
  ParsedArgs,
} from './cli-args.util';
import { ProgressReporter, ProgressStream } from './progress.reporter';
import { recordRun } from './cli-app.util';

export const SYNC_STALE_USAGE = `Usage: etlify sync-stale --module <file> [options]

Boots your Nest application context and syncs every stale record (SyncService.syncStale).

Options:
  --module <file>      compiled module to load, e.g. dist/app.module.js (required)
  --export <name>      exported module class (default: AppModule, else the only module export)
  --crm <name>         only this CRM
  --entity <Name>      only this entity; repeat or separate with commas
  --batch-size <n>     ids per page (default: staleSweep.batchSize, else 1000)
  --concurrency <n>    batch calls in flight while the next pages are read (default 4; 1: one at a time)
  --dry-run            report what would be created / updated / unchanged / skipped; no CRM writes
  --full               scan every row (skip the incremental sweep from the high-water mark)
  --async              enqueue jobs instead of syncing inline (needs a queue)
  --json               print the figures as JSON on stdout
  -h, --help           this help

Exit code: 0 when every record went through, 1 on errors, 2 on a usage error.`;

export const SYNC_STALE_VALUED = [
  'module',
  'export',
  'crm',
  'entity',
  'batch-size',
  'concurrency',
] as const;
export const SYNC_STALE_FLAGS = [
  'dry-run',
  'full',
  'async',
  'json',
  'help',
] as const;

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  cwd: string;
}

/** Warnings and errors of the app go to stderr, so stdout holds only the summary (or its JSON). */
export class StderrLogger implements LoggerService {
  constructor(private readonly stream: ProgressStream) {}
  log(): void {}
  warn(message: unknown, context?: string): void {
    this.write('WARN', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length ? String(rest[rest.length - 1]) : undefined;
    this.write('ERROR', message, context);
  }
  private write(level: string, message: unknown, context?: string): void {
    const text = message instanceof Error ? message.message : String(message);
    this.stream.write(`${level} ${context ? `[${context}] ` : ''}${text}\n`);
  }
}

/** Loads the user's module class from a compiled file. */
export function loadModuleClass(
  file: string,
  exportName: string | undefined,
  cwd: string,
): Type<unknown> {
  const path = resolve(cwd, file);
  if (!existsSync(path)) {
    throw new CliUsageError(`--module: no file at ${path}`);
  }
  // createRequire, not the bare `require` the ES module build lacks; it loads ESM files too (Node >= 20.19).
  const exported = createRequire(path)(path) as Record<string, unknown>;
  const isModule = (value: unknown): value is Type<unknown> =>
    typeof value === 'function' &&
    (Reflect.getMetadata(MODULE_METADATA.IMPORTS, value) !== undefined ||
      Reflect.getMetadata(MODULE_METADATA.PROVIDERS, value) !== undefined);
  if (exportName) {
    const value = exported[exportName];
    if (!isModule(value)) {
      throw new CliUsageError(
        `--export: ${file} exports no Nest module named "${exportName}"`,
      );
    }
    return value;
  }
  if (isModule(exported.AppModule)) return exported.AppModule;
  if (isModule(exported.default)) return exported.default;
  const modules = Object.entries(exported).filter(([, v]) => isModule(v));
  if (modules.length === 1) return modules[0][1] as Type<unknown>;
  throw new CliUsageError(
    modules.length
      ? `${file} exports several modules (${modules.map(([k]) => k).join(', ')}); choose one with --export`
      : `${file} exports no Nest module; point --module at the file of your root module (e.g. dist/app.module.js)`,
  );
}

/** `etlify sync-stale`: resolves to the process exit code. */
export async function syncStaleCommand(
  args: ParsedArgs,
  io: CliIo,
): Promise<number> {
  if (args.positionals.length)
    throw new CliUsageError(`unexpected argument "${args.positionals[0]}"`);
  const file = lastValue(args, 'module');
  if (!file) throw new CliUsageError('--module <file> is required');
  const batchText = lastValue(args, 'batch-size');
  const batchSize = batchText === undefined ? undefined : Number(batchText);
  if (
    batchSize !== undefined &&
    (!Number.isInteger(batchSize) || batchSize < 1)
  ) {
    throw new CliUsageError(
      `--batch-size must be a positive integer, got "${batchText}"`,
    );
  }
  const concurrencyText = lastValue(args, 'concurrency');
  const concurrency =
    concurrencyText === undefined ? undefined : Number(concurrencyText);
  if (
    concurrency !== undefined &&
    (!Number.isInteger(concurrency) || concurrency < 1)
  ) {
    throw new CliUsageError(
      `--concurrency must be a positive integer, got "${concurrencyText}"`,
    );
  }
  const moduleClass = loadModuleClass(file, lastValue(args, 'export'), io.cwd);
  const dryRun = args.flags.has('dry-run');
  const json = args.flags.has('json');

  const app: INestApplicationContext =
    await NestFactory.createApplicationContext(moduleClass, {
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
    const entities = listValue(args, 'entity');
    const reporter = new ProgressReporter(
      io.stderr,
      dryRun ? 'sync-stale (dry run)' : 'sync-stale',
    );
    const options: StaleRunOptions = {
      crm: lastValue(args, 'crm'),
      entities: entities.length ? entities : undefined,
      batchSize,
      concurrency,
      dryRun,
      fullScan: args.flags.has('full'),
      async: args.flags.has('async') ? true : dryRun ? undefined : false,
      countFirst: true,
      onProgress: (progress) => reporter.update(progress),
    };
    const started = Date.now();
    const stats = await sync.syncStale(options);
    reporter.done();
    if (!dryRun)
      await recordRun(app, 'cli:sync-stale', new Date(started), stats);
    io.stdout.write(
      json
        ? `${JSON.stringify(stats)}\n`
        : summary(stats, dryRun, Date.now() - started),
    );
    return stats.errors > 0 ? 1 : 0;
  } finally {
    process.removeListener('SIGINT', interrupted);
    await app.close();
  }
}

/** The human summary: one row per entity and CRM, then the totals. */
export function summary(
  stats: BatchSyncStats,
  dryRun: boolean,
  ms: number,
): string {
  const columns = dryRun
    ? ([
        ['found', 'found'],
        ['create', 'wouldCreate'],
        ['update', 'wouldUpdate'],
        ['unchanged', 'notModified'],
        ['skipped', 'skipped'],
        ['errors', 'errors'],
      ] as const)
    : ([
        ['found', 'found'],
        ['synced', 'synced'],
        ['not modified', 'notModified'],
        ['skipped', 'skipped'],
        ['queued', 'enqueued'],
        ['errors', 'errors'],
      ] as const);
  const rows = (stats.details ?? []).map((d) => [
    `${d.entity} → ${d.crm}`,
    d.scan,
    ...columns.map(([, key]) => String(d[key])),
  ]);
  const header = ['entity', 'scan', ...columns.map(([label]) => label)];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join('  ');
  const out = [line(header), ...rows.map(line), ''];
  const seconds = (ms / 1000).toFixed(1);
  if (dryRun) {
    out.push(
      `Dry run: ${stats.total} stale; would create ${stats.wouldCreate ?? 0}, would update ${stats.wouldUpdate ?? 0}, unchanged ${stats.notModified ?? 0}, skipped ${stats.skipped ?? 0}, errors ${stats.errors}; no CRM writes (${seconds}s)`,
    );
  } else {
    const quota =
      stats.dailyQuotaLeft !== undefined
        ? `, daily quota left ${stats.dailyQuotaLeft}`
        : '';
    out.push(
      `Synced ${stats.synced ?? 0} (created ${stats.created ?? 0}, updated ${stats.updated ?? 0}), not modified ${stats.notModified ?? 0}, skipped ${stats.skipped ?? 0}, queued ${stats.enqueued ?? 0}, errors ${stats.errors}; CRM calls ${stats.crmCalls ?? 0}${quota} (${seconds}s)`,
    );
  }
  return `${out.join('\n')}\n`;
}
