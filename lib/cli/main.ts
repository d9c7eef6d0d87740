#!/usr/bin/env node
import 'reflect-metadata';
import { CliUsageError, ParsedArgs, parseArgs } from './cli-args.util';
import {
  DEAD_LETTERS_FLAGS,
  DEAD_LETTERS_USAGE,
  DEAD_LETTERS_VALUED,
  deadLettersCommand,
} from './dead-letters.command';
import {
  EXPLAIN_FLAGS,
  EXPLAIN_USAGE,
  explainCommand,
} from './explain.command';
import {
  PROVISION_FLAGS,
  PROVISION_USAGE,
  PROVISION_VALUED,
  provisionCommand,
} from './provision.command';
import { STATUS_FLAGS, STATUS_USAGE, statusCommand } from './status.command';
import {
  SYNC_PROPERTIES_FLAGS,
  SYNC_PROPERTIES_USAGE,
  SYNC_PROPERTIES_VALUED,
  syncPropertiesCommand,
} from './sync-properties.command';
import { SYNC_FLAGS, SYNC_USAGE, syncCommand } from './sync.command';
import {
  CliIo,
  SYNC_STALE_FLAGS,
  SYNC_STALE_USAGE,
  SYNC_STALE_VALUED,
  syncStaleCommand,
} from './sync-stale.command';

const USAGE = `Usage: etlify <command> [options]

Commands:
  sync-stale                  find and sync stale records (backfill)
  sync <Entity> <id…>         sync these records now
  explain <Entity> <id>       where one record stands in the CRM, and why
  status                      states, dead letters, queue, quota, last sweep and runs
  dead-letters list|retry|discard   dead-lettered records
  provision                   create or check the CRM key property (dry run unless --apply)
  sync-properties             check (or --apply: create) the CRM properties serializers write

See \`etlify <command> --help\`. Exit code: 0 ok, 1 failures, 2 usage error.
`;

interface Command {
  usage: string;
  valued: readonly string[];
  flags: readonly string[];
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

const APP = ['module', 'export'] as const;
const COMMON_FLAGS = ['json', 'help'] as const;

const COMMANDS: Record<string, Command> = {
  'sync-stale': {
    usage: SYNC_STALE_USAGE,
    valued: SYNC_STALE_VALUED,
    flags: SYNC_STALE_FLAGS,
    run: syncStaleCommand,
  },
  sync: {
    usage: SYNC_USAGE,
    valued: [...APP, 'crm'],
    flags: [...COMMON_FLAGS, ...SYNC_FLAGS],
    run: syncCommand,
  },
  explain: {
    usage: EXPLAIN_USAGE,
    valued: [...APP, 'crm'],
    flags: [...COMMON_FLAGS, ...EXPLAIN_FLAGS],
    run: explainCommand,
  },
  status: {
    usage: STATUS_USAGE,
    valued: APP,
    flags: [...COMMON_FLAGS, ...STATUS_FLAGS],
    run: statusCommand,
  },
  'dead-letters': {
    usage: DEAD_LETTERS_USAGE,
    valued: [...APP, 'crm', 'entity', ...DEAD_LETTERS_VALUED],
    flags: [...COMMON_FLAGS, ...DEAD_LETTERS_FLAGS],
    run: deadLettersCommand,
  },
  provision: {
    usage: PROVISION_USAGE,
    valued: PROVISION_VALUED,
    flags: PROVISION_FLAGS,
    run: provisionCommand,
  },
  'sync-properties': {
    usage: SYNC_PROPERTIES_USAGE,
    valued: SYNC_PROPERTIES_VALUED,
    flags: SYNC_PROPERTIES_FLAGS,
    run: syncPropertiesCommand,
  },
};

/** The `etlify` bin shipped with nestjs-etlify. */
async function main(argv: string[]): Promise<number> {
  const io: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
  };
  const valued = new Set(Object.values(COMMANDS).flatMap((c) => c.valued));
  // The command is the first word that is not an option nor an option's value.
  const name = argv.find(
    (arg, i) =>
      !arg.startsWith('-') &&
      !(i > 0 && valued.has(argv[i - 1].replace(/^--/, ''))),
  );
  const command = name ? COMMANDS[name] : undefined;
  try {
    if (!name) {
      const help = argv.includes('--help') || argv.includes('-h');
      io.stdout.write(USAGE);
      return help ? 0 : 2;
    }
    if (!command) throw new CliUsageError(`unknown command "${name}"`);
    const args = parseArgs(argv, command.valued, command.flags);
    if (args.flags.has('help')) {
      io.stdout.write(`${command.usage}\n`);
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr.write(
        `etlify: ${error.message}\n\n${command?.usage ?? USAGE}\n`,
      );
      return 2;
    }
    io.stderr.write(
      `etlify: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // A handle the user's app left open must not keep a finished CLI alive.
  setTimeout(() => process.exit(code), 1_000).unref();
});
