import type { DeadLetter } from '../ops/dead-letter.interface';
import {
  CliUsageError,
  lastValue,
  listValue,
  ParsedArgs,
} from './cli-args.util';
import {
  age,
  APP_OPTIONS_USAGE,
  asUsage,
  recordRun,
  table,
  withApp,
} from './cli-app.util';
import { CliIo } from './sync-stale.command';

export const DEAD_LETTERS_USAGE = `Usage: etlify dead-letters <list|retry|discard> --module <file> [options]

  list                          dead-lettered records, oldest first (paged)
  retry <Entity> <id>           put one back and sync it (enqueued when there is a queue)
  retry --all                   put every dead letter back (filtered by --crm / --entity)
  discard <Entity> <id> --reason "<why>"   take one off the list until the record changes

Options:
${APP_OPTIONS_USAGE}
  --crm <name>         only this CRM
  --entity <Name>      list / retry --all: only this entity; repeat or separate with commas
  --category <NAME>    list: only this error category (VALIDATION, AUTHENTICATION, LOCAL, …)
  --limit <n>          list: page size (default 50)
  --after <cursor>     list: the "next" cursor of the previous page
  --reason <text>      discard: why (kept on the record)
  --all                retry: every dead letter
  --json               print JSON on stdout
  -h, --help           this help

Exit code: 0 on success (list: also when there are dead letters), 1 on an error, 2 on a usage error.`;

export const DEAD_LETTERS_VALUED = [
  'category',
  'limit',
  'after',
  'reason',
] as const;
export const DEAD_LETTERS_FLAGS = ['all'] as const;

/** `etlify dead-letters list|retry|discard`. */
export async function deadLettersCommand(
  args: ParsedArgs,
  io: CliIo,
): Promise<number> {
  const [action, entity, id, ...rest] = args.positionals;
  const json = args.flags.has('json');
  const crm = lastValue(args, 'crm');
  if (action === 'list') {
    if (entity)
      throw new CliUsageError(
        'dead-letters list takes no arguments; filter with --crm, --entity, --category',
      );
    const limitText = lastValue(args, 'limit');
    const limit = limitText === undefined ? undefined : Number(limitText);
    if (
      limit !== undefined &&
      (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    )
      throw new CliUsageError(
        `--limit must be a whole number from 1 to 1000, got "${limitText}"`,
      );
    return withApp(args, io, async (_app, sync) => {
      const entities = listValue(args, 'entity');
      const page = await asUsage(() =>
        sync.deadLetters({
          crm,
          entities: entities.length ? entities : undefined,
          category: lastValue(args, 'category'),
          limit,
          after: lastValue(args, 'after'),
        }),
      );
      io.stdout.write(
        json
          ? `${JSON.stringify(page)}\n`
          : renderList(page.items, page.total, page.next),
      );
      return 0;
    });
  }
  if (action === 'retry' && args.flags.has('all')) {
    if (entity)
      throw new CliUsageError(
        'retry --all takes no entity or id; filter with --crm, --entity',
      );
    return withApp(args, io, async (app, sync) => {
      const started = new Date();
      const entities = listValue(args, 'entity');
      const count = await asUsage(() =>
        sync.retryDeadLetters({
          crm,
          entities: entities.length ? entities : undefined,
        }),
      );
      await recordRun(app, 'cli:dead-letters-retry', started, {
        total: count,
        errors: 0,
        enqueued: count,
      });
      io.stdout.write(
        json
          ? `${JSON.stringify({ retried: count })}\n`
          : `${count} dead letter(s) put back\n`,
      );
      return 0;
    });
  }
  if (action === 'retry' || action === 'discard') {
    if (!entity || !id || rest.length)
      throw new CliUsageError(
        `dead-letters ${action} takes an entity name and one id (or retry --all)`,
      );
    const reason = lastValue(args, 'reason');
    if (action === 'discard' && !reason?.trim())
      throw new CliUsageError(
        'dead-letters discard needs --reason "<why>" (it is kept on the record)',
      );
    return withApp(args, io, async (app, sync) => {
      if (action === 'discard') {
        const letter = await asUsage(() =>
          sync.discardDeadLetter(entity, id, { crm, reason: reason! }),
        );
        io.stdout.write(
          json
            ? `${JSON.stringify(letter)}\n`
            : `${entity}#${id} → ${letter.crm}: discarded (${reason})\n`,
        );
        return 0;
      }
      const started = new Date();
      const outcome = await asUsage(() =>
        sync.retryDeadLetter(entity, id, { crm }),
      );
      const failed = outcome.status === 'error';
      await recordRun(app, 'cli:dead-letters-retry', started, {
        total: 1,
        errors: failed ? 1 : 0,
        synced: outcome.status === 'synced' ? 1 : 0,
        enqueued: outcome.status === 'enqueued' ? 1 : 0,
      });
      io.stdout.write(
        json
          ? `${JSON.stringify(outcome)}\n`
          : `${entity}#${id} → ${outcome.crm}: ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}\n`,
      );
      return failed ? 1 : 0;
    });
  }
  throw new CliUsageError(
    'dead-letters needs an action: list, retry or discard',
  );
}

function renderList(
  items: DeadLetter[],
  total: number,
  next: string | null,
): string {
  if (!items.length) return 'No dead letters.\n';
  const now = Date.now();
  const rows = items.map((d) => [
    `${d.entity}#${d.id}`,
    d.crm,
    String(d.errorCount),
    d.category ?? '-',
    d.correlationId ?? '-',
    age(now - d.failedAt.getTime()),
    (d.lastError ?? '').slice(0, 80),
  ]);
  const lines = [
    table(
      [
        'record',
        'crm',
        'errors',
        'category',
        'correlation id',
        'failed',
        'last error',
      ],
      rows,
    ),
  ];
  lines.push(
    '',
    `${items.length} of ${total} dead letter(s)${next ? `; next page: --after ${next}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
