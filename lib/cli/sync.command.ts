import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { entityClass } from '../ops/entity-ref.util';
import { CrmRegistry } from '../registry/crm.registry';
import { CliUsageError, lastValue, ParsedArgs } from './cli-args.util';
import { APP_OPTIONS_USAGE, asUsage, recordRun, withApp } from './cli-app.util';
import { CliIo } from './sync-stale.command';

export const SYNC_USAGE = `Usage: etlify sync <Entity> <id…> --module <file> [options]

Syncs the named records now (SyncService.syncById), one line per record.

Options:
${APP_OPTIONS_USAGE}
  --crm <name>         the CRM (needed when the entity is mirrored into several)
  --async              enqueue instead of syncing inline (needs a queue)
  --json               print the outcomes as JSON on stdout
  -h, --help           this help

Exit code: 0 when every record synced (or was unchanged, skipped, queued), 1 on errors, 2 on a usage error.`;

export const SYNC_FLAGS = ['async'] as const;

/** `etlify sync <Entity> <id…>`. */
export async function syncCommand(
  args: ParsedArgs,
  io: CliIo,
): Promise<number> {
  const [entity, ...ids] = args.positionals;
  if (!entity || !ids.length)
    throw new CliUsageError(
      'sync takes an entity name and one or more ids, e.g. `etlify sync User 42 43`',
    );
  return withApp(args, io, async (app, sync) => {
    const registry = app.get(CrmRegistry, { strict: false });
    const target = await asUsage(async () => entityClass(registry, entity));
    const started = new Date();
    const results: Array<{ id: string } & SyncOutcome> = [];
    for (const id of ids) {
      const outcome = await asUsage(() =>
        sync.syncById(target, id, {
          crm: lastValue(args, 'crm'),
          async: args.flags.has('async'),
        }),
      );
      results.push({ id, ...outcome });
    }
    const count = (status: string) =>
      results.filter((r) => r.status === status).length;
    const errors = count('error');
    await recordRun(app, 'cli:sync', started, {
      total: results.length,
      synced: count('synced'),
      notModified: count('not_modified'),
      skipped: count('skipped'),
      enqueued: count('enqueued'),
      errors,
    });
    io.stdout.write(
      args.flags.has('json')
        ? `${JSON.stringify(results)}\n`
        : `${results.map((r) => `${entity}#${r.id} → ${r.crm}: ${r.status}${r.crmId ? ` (CRM id ${r.crmId})` : ''}${r.error ? `: ${r.error}` : ''}`).join('\n')}\n`,
    );
    return errors > 0 || results.some((r) => r.status === 'skipped' && r.error)
      ? 1
      : 0;
  });
}
