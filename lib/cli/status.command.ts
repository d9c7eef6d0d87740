import type { EtlifyStatus } from '../ops/status.interface';
import { StatusService } from '../ops/status.service';
import { CliIo } from './sync-stale.command';
import { ParsedArgs } from './cli-args.util';
import { age, APP_OPTIONS_USAGE, table, withApp } from './cli-app.util';

export const STATUS_USAGE = `Usage: etlify status --module <file> [options]

Per CRM and entity: sync states, dead letters and the oldest stale record; the queue's backlog
and oldest job; daily quota left; the last sweep and the last runs. Never calls the CRM.

Options:
${APP_OPTIONS_USAGE}
  --no-stale           skip the oldest-stale query (one query per entity)
  --json               print the figures as JSON on stdout
  -h, --help           this help

Exit code: 0 when nothing needs attention, 1 when there are dead letters or Redis does not answer,
2 on a usage error.`;

export const STATUS_FLAGS = ['no-stale'] as const;

/** `etlify status`. */
export async function statusCommand(
  args: ParsedArgs,
  io: CliIo,
): Promise<number> {
  return withApp(args, io, async (app) => {
    const status = await app
      .get(StatusService, { strict: false })
      .status({ stale: !args.flags.has('no-stale'), runs: 5 });
    io.stdout.write(
      args.flags.has('json') ? `${JSON.stringify(status)}\n` : render(status),
    );
    return status.deadLetters > 0 || status.queue?.reachable === false ? 1 : 0;
  });
}

function render(status: EtlifyStatus): string {
  const out: string[] = [];
  const states = [
    'synced',
    'pending',
    'buffered',
    'error',
    'dead',
    'skipped',
    'discarded',
  ];
  for (const crm of status.crms) {
    const quota =
      crm.dailyQuotaLeft === null ? 'unknown' : String(crm.dailyQuotaLeft);
    out.push(
      `CRM ${crm.name}${crm.enabled ? '' : ' (disabled)'}: daily quota left ${quota}`,
    );
    out.push(
      table(
        ['entity', ...states, 'oldest stale'],
        crm.entities.map((e) => [
          e.entity,
          ...states.map((s) => String(e.states[s] ?? 0)),
          e.oldestStaleAgeMs === undefined
            ? '-'
            : e.oldestStaleAgeMs === null
              ? 'none'
              : age(e.oldestStaleAgeMs),
        ]),
      ),
      '',
    );
  }
  out.push(`Dead letters: ${status.deadLetters}`);
  const q = status.queue;
  if (!q) out.push('Queue: none (inline sync)');
  else if (!q.reachable) out.push(`Queue ${q.name}: Redis does not answer`);
  else
    out.push(
      `Queue ${q.name}: ${q.waiting} waiting, ${q.delayed} delayed, ${q.active} active, ${q.failed} failed; oldest job ${age(q.oldestJobAgeMs)}`,
    );
  const sweep = status.lastSweep;
  out.push(
    sweep
      ? `Last sweep: ${sweep.startedAt.toISOString()} (${sweep.status}, ${sweep.total} found, ${sweep.synced} synced, ${sweep.errors} errors, ${sweep.crmCalls} CRM calls, ${age(sweep.durationMs)})`
      : 'Last sweep: none recorded',
  );
  if (status.runs.length) {
    out.push('', 'Last runs:');
    out.push(
      table(
        [
          'started',
          'kind',
          'status',
          'total',
          'synced',
          'errors',
          'CRM calls',
          'took',
        ],
        status.runs.map((r) => [
          r.startedAt.toISOString(),
          r.kind,
          r.status,
          String(r.total),
          String(r.synced),
          String(r.errors),
          String(r.crmCalls),
          age(r.durationMs),
        ]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
