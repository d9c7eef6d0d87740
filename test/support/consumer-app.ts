import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { minVersion } from 'semver';
import { DataSource } from 'typeorm';

/**
 * Helpers of the packaging test: fresh consumer apps in temp dirs that install the packed tarball
 * with npm (its shared cache first, then the registry), as a user's app would.
 */
export const root = resolve(__dirname, '..', '..');
export const fixtures = join(root, 'test', 'fixtures', 'consumer-app');
export const rootPkg = JSON.parse(
  readFileSync(join(root, 'package.json'), 'utf8'),
) as {
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
export const dev = (name: string): string => rootPkg.devDependencies[name];

/** Runs a command and returns its stdout; a failure carries the command's output in its message. */
export function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): string {
  try {
    return execFileSync(command, args, {
      cwd,
      stdio: 'pipe',
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        npm_config_loglevel: 'error',
        npm_config_update_notifier: 'false',
        npm_config_fund: 'false',
        npm_config_audit: 'false',
        ...env,
      },
    }).toString();
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer; message: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

/** npm; package metadata always revalidated (a stale cached packument would hide the newest major), tarballs from the cache. */
export const npm = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
  run('npm', args, cwd, env);
export function npmInstall(cwd: string, packages: string[] = []): string {
  // The registry this machine reaches has served, for minutes at a time, package documents that
  // lack the version their latest tag names (npm then resolves an older major and fails ERESOLVE):
  // a few tries, apart, before the failure counts.
  for (let attempt = 1; ; attempt++) {
    try {
      return npm(
        ['install', '--prefer-online', '--ignore-scripts', ...packages],
        cwd,
      );
    } catch (error) {
      const message = (error as Error).message;
      if (attempt >= 4 || !/ERESOLVE|ETARGET|notarget/.test(message))
        throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);
    }
  }
}

/** The Nest CLI colours its output; the assertions read plain text. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
export const plain = (text: string) => text.replace(ANSI_COLOUR, '');

/** The app's own Nest CLI (`nest ...`), as `npx nest` would run it. */
export const nestCli = (app: string, ...args: string[]) =>
  plain(
    run(
      process.execPath,
      [join(app, 'node_modules/@nestjs/cli/bin/nest.js'), ...args],
      app,
    ),
  );

export const readJson = (path: string) =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
export const writeJson = (path: string, value: unknown) =>
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
export const installedVersion = (app: string, name: string): string =>
  readJson(join(app, 'node_modules', name, 'package.json')).version;

/** The runtime peers: what `npm install nestjs-etlify` asks the app for. */
export function runtimePeers(): string[] {
  return Object.keys(rootPkg.peerDependencies).filter(
    (name) => !rootPkg.peerDependenciesMeta[name]?.optional,
  );
}

/** The queue drivers' packages: optional peers, one pair per driver. */
export const QUEUE_PEERS = ['@nestjs/bull', 'bull', '@nestjs/bullmq', 'bullmq'];

/** The lowest version each peer range admits: what the oldest supported app runs. */
export function lowestPeer(name: string): string {
  return minVersion(rootPkg.peerDependencies[name])!.version;
}

/** One alternative of a peer range (`^0.3.20 || ^1.0.0` → `^0.3.20`), for a major's newest release. */
export function peerAlternative(name: string, index: number): string {
  return rootPkg.peerDependencies[name].split('||')[index].trim();
}

/**
 * A fixture file with `{{js}}` in its relative imports: `.js` for an ES module app, nothing for a
 * CommonJS one.
 */
export function fixture(name: string, esm: boolean): string {
  return readFileSync(join(fixtures, name), 'utf8').replace(
    /\{\{js\}\}/g,
    esm ? '.js' : '',
  );
}

/** A PostgreSQL schema per app, so apps and runs never share tables. */
export class ConsumerSchema {
  readonly name = `consumer_${randomBytes(4).toString('hex')}`;
  private readonly admin = new DataSource({
    type: 'postgres',
    host: process.env.PGHOST ?? '127.0.0.1',
    username: process.env.PGUSER ?? 'postgres',
    database: process.env.PGDATABASE ?? 'test',
  });

  async create(): Promise<void> {
    await this.admin.initialize();
    await this.admin.query(`CREATE SCHEMA "${this.name}"`);
  }

  async drop(): Promise<void> {
    if (!this.admin.isInitialized) return;
    await this.admin.query(`DROP SCHEMA IF EXISTS "${this.name}" CASCADE`);
    await this.admin.destroy();
  }

  /** What the consumer apps read: their TypeOrmModule.forRoot takes the schema from the environment. */
  get env(): NodeJS.ProcessEnv {
    return {
      PGHOST: process.env.PGHOST ?? '127.0.0.1',
      PGUSER: process.env.PGUSER ?? 'postgres',
      PGDATABASE: process.env.PGDATABASE ?? 'test',
      CONSUMER_SCHEMA: this.name,
    };
  }
}
