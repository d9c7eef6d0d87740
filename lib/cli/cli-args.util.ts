/** A parsed command line: the command, `--flag value` options (repeatable) and boolean flags. */
export interface ParsedArgs {
  command?: string;
  /** Arguments after the command that are not options (`explain Contact 42`). */
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

export class CliUsageError extends Error {}

/**
 * Hand-rolled, so the package adds no dependency: `--name value`, `--name=value`, `--flag`.
 * `valued` lists the options that take a value; any other `--x` is a boolean flag.
 */
export function parseArgs(
  argv: string[],
  valued: readonly string[],
  booleans: readonly string[],
): ParsedArgs {
  const parsed: ParsedArgs = {
    positionals: [],
    options: new Map(),
    flags: new Set(),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      if (parsed.command === undefined && arg !== '-h') {
        parsed.command = arg;
        continue;
      }
      if (arg === '-h') {
        parsed.flags.add('help');
        continue;
      }
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (valued.includes(name)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined || (eq === -1 && value.startsWith('--'))) {
        throw new CliUsageError(`--${name} needs a value`);
      }
      parsed.options.set(name, [...(parsed.options.get(name) ?? []), value]);
    } else if (booleans.includes(name)) {
      if (eq !== -1)
        throw new CliUsageError(`--${name} is a flag and takes no value`);
      parsed.flags.add(name);
    } else {
      throw new CliUsageError(`unknown option --${name}`);
    }
  }
  return parsed;
}

/** The last value of an option. */
export function lastValue(args: ParsedArgs, name: string): string | undefined {
  const values = args.options.get(name);
  return values?.[values.length - 1];
}

/** Every value of a repeatable option, commas splitting values too. */
export function listValue(args: ParsedArgs, name: string): string[] {
  return (args.options.get(name) ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean);
}
