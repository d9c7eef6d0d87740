import { lastValue, ParsedArgs, CliUsageError } from './cli-args.util';
import { APP_OPTIONS_USAGE, asUsage, withApp } from './cli-app.util';
import { CliIo } from './sync-stale.command';

export const EXPLAIN_USAGE = `Usage: etlify explain <Entity> <id> --module <file> [options]

Says where one record stands in the CRM and why (never synced, skipped, buffered, queued, synced,
stale, dead-lettered, …). Reads the database and the queue; the CRM only with --remote.

Options:
${APP_OPTIONS_USAGE}
  --crm <name>         the CRM (needed when the entity is mirrored into several)
  --remote             also read the CRM record and show how it differs from the payload
  --json               print the structured answer as JSON on stdout
  -h, --help           this help

Exit code: 0 when answered, 1 on an error, 2 on a usage error.`;

export const EXPLAIN_FLAGS = ['remote'] as const;

/** `etlify explain <Entity> <id>`. */
export async function explainCommand(
  args: ParsedArgs,
  io: CliIo,
): Promise<number> {
  const [entity, id, ...rest] = args.positionals;
  if (!entity || !id || rest.length)
    throw new CliUsageError(
      'explain takes an entity name and one id, e.g. `etlify explain User 42`',
    );
  return withApp(args, io, async (_app, sync) => {
    const answer = await asUsage(() =>
      sync.explain([entity, id], {
        crm: lastValue(args, 'crm'),
        remote: args.flags.has('remote'),
      }),
    );
    if (args.flags.has('json')) {
      io.stdout.write(`${JSON.stringify(answer)}\n`);
      return 0;
    }
    const lines = [answer.sentence, '', `state: ${answer.state}`];
    if (answer.payload)
      lines.push(`payload: ${JSON.stringify(answer.payload)}`);
    for (const d of answer.remote?.diff ?? [])
      lines.push(
        `  ${d.property}: local ${JSON.stringify(d.local)} / CRM ${JSON.stringify(d.remote ?? null)}`,
      );
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
}
