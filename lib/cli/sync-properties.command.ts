import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  PropertySyncService,
  type PropertySyncReport,
} from '../schema/property-sync.service';
import {
  CliUsageError,
  lastValue,
  listValue,
  ParsedArgs,
} from './cli-args.util';
import { CliIo, loadModuleClass, StderrLogger } from './sync-stale.command';

export const SYNC_PROPERTIES_USAGE = `Usage: etlify sync-properties --module <file> [options]

Boots your Nest application context and checks, per CRM and object type, the properties your
serializers produce (declared in crmProperties, plus those of a sample record) against the CRM:
missing ones, and ones whose type disagrees. A dry run by default: it only reads.

Options:
  --module <file>      compiled module to load, e.g. dist/app.module.js (required)
  --export <name>      exported module class (default: AppModule, else the only module export)
  --crm <name>         only this CRM
  --entity <Name>      only this entity; repeat or separate with commas
  --apply              create the missing properties (from crmProperties) in their property group
  --json               print the report as JSON on stdout
  -h, --help           this help

Exit code: 0 when every property exists with its declared type, 1 when some are missing,
disagree or could not be checked, 2 on a usage error.`;

export const SYNC_PROPERTIES_VALUED = [
  'module',
  'export',
  'crm',
  'entity',
] as const;
export const SYNC_PROPERTIES_FLAGS = ['apply', 'json', 'help'] as const;

/** `etlify sync-properties`: resolves to the process exit code. */
export async function syncPropertiesCommand(
  args: ParsedArgs,
  io: CliIo,
): Promise<number> {
  const file = lastValue(args, 'module');
  if (!file) throw new CliUsageError('--module <file> is required');
  const moduleClass = loadModuleClass(file, lastValue(args, 'export'), io.cwd);
  const apply = args.flags.has('apply');
  const app: INestApplicationContext =
    await NestFactory.createApplicationContext(moduleClass, {
      logger: new StderrLogger(io.stderr),
      abortOnError: false,
    });
  try {
    let service: PropertySyncService;
    try {
      service = app.get(PropertySyncService, { strict: false });
    } catch {
      throw new Error(
        `${file} does not import EtlifyModule from this copy of nestjs-etlify (is the package installed twice?)`,
      );
    }
    const entities = listValue(args, 'entity');
    const report = await service.syncProperties({
      crm: lastValue(args, 'crm'),
      entities: entities.length ? entities : undefined,
      apply,
    });
    io.stdout.write(
      args.flags.has('json')
        ? `${JSON.stringify(report)}\n`
        : propertiesSummary(report),
    );
    // After --apply, `missing` counts only what could not be created (no declared type).
    return report.missing + report.mismatched + report.errors > 0 ? 1 : 0;
  } finally {
    await app.close();
  }
}

/** One row per property that needs attention, then the totals. */
export function propertiesSummary(report: PropertySyncReport): string {
  const rows = report.checks
    .filter((c) => c.status !== 'ok')
    .map((c) => [
      `${c.crm}/${c.objectType}`,
      c.name,
      c.status,
      c.entities.join(', '),
      c.message,
    ]);
  const header = ['crm/object', 'property', 'status', 'entities', 'what to do'];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < cells.length - 1 ? cell.padEnd(widths[i]) : cell))
      .join('  ');
  const ok = report.checks.length - rows.length;
  const out = rows.length ? [line(header), ...rows.map(line), ''] : [];
  out.push(
    report.apply
      ? `${report.checks.length} properties: ${ok} ok, created ${report.created}, missing ${report.missing}, type mismatches ${report.mismatched}, errors ${report.errors}`
      : `Dry run: ${report.checks.length} properties: ${ok} ok, missing ${report.missing}, type mismatches ${report.mismatched}, errors ${report.errors}; nothing written (--apply creates the missing ones)`,
  );
  return `${out.join('\n')}\n`;
}
