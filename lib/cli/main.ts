#!/usr/bin/env node
import 'reflect-metadata';
import { CliUsageError, parseArgs } from './cli-args.util';
import {
  SYNC_PROPERTIES_FLAGS,
  SYNC_PROPERTIES_USAGE,
  SYNC_PROPERTIES_VALUED,
  syncPropertiesCommand,
} from './sync-properties.command';
import {
  SYNC_STALE_FLAGS,
  SYNC_STALE_USAGE,
  SYNC_STALE_VALUED,
  syncStaleCommand,
} from './sync-stale.command';

const USAGE = `Usage: etlify <command> [options]

Commands:
  sync-stale        find and sync stale records (backfill); see \`etlify sync-stale --help\`
  sync-properties   check (or --apply: create) the CRM properties serializers write
`;

/** The `etlify` bin shipped with nestjs-etlify. */
async function main(argv: string[]): Promise<number> {
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
  };
  try {
    if (argv.find((arg) => !arg.startsWith('-')) === 'sync-properties') {
      const args = parseArgs(
        argv,
        SYNC_PROPERTIES_VALUED,
        SYNC_PROPERTIES_FLAGS,
      );
      if (args.flags.has('help')) {
        io.stdout.write(`${SYNC_PROPERTIES_USAGE}\n`);
        return 0;
      }
      return await syncPropertiesCommand(args, io);
    }
    const args = parseArgs(argv, SYNC_STALE_VALUED, SYNC_STALE_FLAGS);
    if (!args.command) {
      io.stdout.write(USAGE);
      return args.flags.has('help') ? 0 : 2;
    }
    if (args.command !== 'sync-stale') {
      throw new CliUsageError(`unknown command "${args.command}"`);
    }
    if (args.flags.has('help')) {
      io.stdout.write(`${SYNC_STALE_USAGE}\n`);
      return 0;
    }
    return await syncStaleCommand(args, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.stderr.write(`etlify: ${error.message}\n\n${USAGE}`);
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
