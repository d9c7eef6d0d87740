import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DataSource } from 'typeorm';

/**
 * What a user gets from the registry: the packed tarball, installed by npm into fresh apps on Nest 11
 * and Nest 12, compiles and syncs a record into the HubSpot sandbox; in the Nest 11 app the real
 * Nest CLI generates with the package's schematics. One spec file so the slow npm installs are shared.
 */
const root = resolve(__dirname, '..');
const fixtures = join(__dirname, 'fixtures/consumer-app');
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dev = (name: string): string => rootPkg.devDependencies[name];

/** Runs a command and returns its stdout; a failure carries the command's stderr in its message. */
function run(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): string {
  try {
    return execFileSync(command, args, {
      cwd,
      stdio: 'pipe',
      env: {
        ...process.env,
        npm_config_loglevel: 'error',
        npm_config_update_notifier: 'false',
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
const npm = (args: string[], cwd: string) => run('npm', args, cwd);
/** The Nest CLI colours its output; the assertions read plain text. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const plain = (text: string) => text.replace(ANSI_COLOUR, '');
const tsc = (cwd: string, project = 'tsconfig.json') =>
  run(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', project],
    cwd,
  );

const NEST_11 = {
  '@nestjs/common': dev('@nestjs/common'),
  '@nestjs/core': dev('@nestjs/core'),
  '@nestjs/typeorm': dev('@nestjs/typeorm'),
  '@nestjs/bull': dev('@nestjs/bull'),
  '@nestjs/schedule': dev('@nestjs/schedule'),
  '@nestjs/axios': dev('@nestjs/axios'),
};
const NEST_12 = {
  '@nestjs/common': '^12.0.0',
  '@nestjs/core': '^12.0.0',
  '@nestjs/typeorm': '^12.0.0',
  '@nestjs/bull': '^12.0.0',
  '@nestjs/schedule': '^12.0.0',
  '@nestjs/axios': '^12.0.0',
};
/** What `nest new` puts in devDependencies, at the versions this repository tests with. */
const NEST_11_TOOLING = {
  '@nestjs/cli': dev('@nestjs/cli'),
  '@nestjs/schematics': dev('@nestjs/schematics'),
  '@nestjs/testing': dev('@nestjs/testing'),
  '@types/jest': dev('@types/jest'),
};

/** Relative imports of a declaration file, resolved to the declaration files they name. */
function declarationImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:from\s+|import\(\s*)['"](\.[^'"]+)['"]/g),
  ].map((m) => m[1]);
  return specifiers.map((s) => {
    const base = resolve(dirname(file), s);
    return existsSync(`${base}.d.ts`)
      ? `${base}.d.ts`
      : join(base, 'index.d.ts');
  });
}

describe('packaged tarball', () => {
  let work: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'etlify-pack-'));
    npm(['run', 'build'], root);
    const packed = JSON.parse(
      npm(['pack', '--json', '--pack-destination', work], root),
    );
    tarball = join(work, packed[0].filename);
    files = packed[0].files.map((f: { path: string }) => f.path);
  }, 120_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('ships dist, the compiled schematics and their templates, README and LICENSE, and no tests, sources or sample', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/testing/index.js',
        'schematics/collection.json',
        'schematics/etlify-serializer/etlify-serializer.factory.js',
        'schematics/etlify-serializer/schema.json',
        'schematics/etlify-serializer/files/__name__.etlify-serializer.ts.template',
        'schematics/etlify-migration/etlify-migration.factory.js',
        'schematics/etlify-install/etlify-install.factory.js',
        'README.md',
        'LICENSE',
        'package.json',
      ]),
    );
    const unwanted = files.filter(
      (f) =>
        /^(test|sample|bench|lib)\//.test(f) ||
        /\.spec\.|e2e-spec|tsconfig/.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    expect(unwanted).toEqual([]);
    // Every compiled file has its source: nothing stale from an earlier build is shipped.
    const orphans = files
      .filter((f) => /^(dist|schematics)\/.*\.js$/.test(f))
      .map((f) => f.replace(/^dist\//, 'lib/').replace(/\.js$/, '.ts'))
      .filter((source) => !existsSync(join(root, source)));
    expect(orphans).toEqual([]);
  });

  it('does not leak axios, bull or ioredis types from the public declarations', () => {
    const seen = new Set<string>();
    const queue = [
      join(root, 'dist/index.d.ts'),
      join(root, 'dist/testing/index.d.ts'),
    ];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      queue.push(...declarationImports(file));
    }
    expect(seen.size).toBeGreaterThan(10);
    const leaks = [...seen].filter((file) =>
      /(?:from\s+|import\(\s*)['"](axios|bull|ioredis|@nestjs\/axios|@nestjs\/bull)['"]/.test(
        readFileSync(file, 'utf8'),
      ),
    );
    expect(leaks).toEqual([]);
  });

  it('does not load the test kit when the runtime entry is required', () => {
    const script =
      "require('./dist/index.js');" +
      'console.log(JSON.stringify(Object.keys(require.cache).map((f) => require("path").relative(process.cwd(), f))))';
    const loaded: string[] = JSON.parse(
      run(process.execPath, ['-e', script], root),
    );
    expect(loaded).toContain('dist/index.js');
    expect(loaded.filter((f) => f.startsWith('dist/testing/'))).toEqual([]);
  });

  describe.each([
    ['Nest 11', NEST_11, NEST_11_TOOLING],
    ['Nest 12', NEST_12, {}],
  ])('installed into a fresh %s app', (label, nest, tooling) => {
    let app: string;
    let schema: string;
    const admin = new DataSource({
      type: 'postgres',
      host: '127.0.0.1',
      username: 'postgres',
      database: 'test',
    });

    beforeAll(async () => {
      app = mkdtempSync(join(tmpdir(), 'etlify-consumer-'));
      schema = `consumer_${randomBytes(4).toString('hex')}`;
      await admin.initialize();
      await admin.query(`CREATE SCHEMA "${schema}"`);
      writeFileSync(
        join(app, 'package.json'),
        JSON.stringify(
          {
            name: 'consumer-app',
            version: '1.0.0',
            private: true,
            dependencies: {
              'nestjs-etlify': `file:${tarball}`,
              ...nest,
              typeorm: dev('typeorm'),
              bull: dev('bull'),
              axios: dev('axios'),
              rxjs: dev('rxjs'),
              'reflect-metadata': dev('reflect-metadata'),
              pg: dev('pg'),
            },
            devDependencies: {
              ...tooling,
              typescript: dev('typescript'),
              '@types/node': dev('@types/node'),
            },
          },
          null,
          2,
        ),
      );
      writeFileSync(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: 'commonjs',
            target: 'ES2022',
            moduleResolution: 'node',
            strict: true,
            experimentalDecorators: true,
            emitDecoratorMetadata: true,
            esModuleInterop: true,
            skipLibCheck: true,
            outDir: 'dist',
            rootDir: 'src',
          },
          include: ['src'],
        }),
      );
      writeFileSync(
        join(app, 'nest-cli.json'),
        JSON.stringify(
          { collection: '@nestjs/schematics', sourceRoot: 'src' },
          null,
          2,
        ),
      );
      mkdirSync(join(app, 'src/user'), { recursive: true });
      copyFileSync(join(fixtures, 'main.ts.txt'), join(app, 'src/main.ts'));
      copyFileSync(
        join(fixtures, 'app.module.ts.txt'),
        join(app, 'src/app.module.ts'),
      );
      copyFileSync(
        join(fixtures, 'user.entity.ts.txt'),
        join(app, 'src/user/user.entity.ts'),
      );
      npm(
        [
          'install',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--ignore-scripts',
        ],
        app,
      );
    }, 300_000);

    afterAll(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.destroy();
      rmSync(app, { recursive: true, force: true });
    });

    it('compiles against the published types and syncs a record into the sandbox', () => {
      tsc(app);
      const out = run(process.execPath, ['dist/main.js'], app, {
        CONSUMER_SCHEMA: schema,
      });
      const result = JSON.parse(out.trim().split('\n').pop()!);
      expect(result.nest.split('.')[0]).toBe(
        nest['@nestjs/core'].replace(/^\^/, '').split('.')[0],
      );
      expect(result.outcome.status).toBe('synced');
      expect(result.stateCrmId).toBe(result.outcome.crmId);
      expect(result.sandboxRecords).toEqual(['consumer@example.com']);
      expect(result.testKitLoadedByRuntime).toBe(false);
      expect(
        readdirSync(join(app, 'node_modules/nestjs-etlify')).sort(),
      ).toEqual(
        ['LICENSE', 'README.md', 'dist', 'package.json', 'schematics'].sort(),
      );
    }, 120_000);

    if (label !== 'Nest 11') return;

    describe('the Nest CLI with the packaged schematics', () => {
      const nestCli = (...args: string[]) =>
        plain(
          run(
            process.execPath,
            [join(app, 'node_modules/@nestjs/cli/bin/nest.js'), ...args],
            app,
          ),
        );
      const read = (path: string) => readFileSync(join(app, path), 'utf8');
      const setCollection = (collection: string) =>
        writeFileSync(
          join(app, 'nest-cli.json'),
          JSON.stringify({ collection, sourceRoot: 'src' }, null, 2),
        );

      it('nest g -c nestjs-etlify etlify-serializer user: typed to the entity, registered in AppModule', () => {
        const out = nestCli(
          'g',
          '-c',
          'nestjs-etlify',
          'etlify-serializer',
          'user',
        );
        expect(out).toContain('CREATE src/user/user.etlify-serializer.ts');
        expect(out).toContain('CREATE src/user/user.etlify-serializer.spec.ts');
        expect(out).toContain('UPDATE src/app.module.ts');
        const serializer = read('src/user/user.etlify-serializer.ts');
        expect(serializer).toContain(
          'export class UserEtlifySerializer implements EtlifySerializer<User> {',
        );
        expect(serializer).toContain(
          "import type { User } from './user.entity';",
        );
        expect(serializer).toContain('readonly version = 1;');
        expect(read('src/app.module.ts')).toContain(
          "import { UserEtlifySerializer } from './user/user.etlify-serializer';",
        );
        expect(read('src/app.module.ts')).toMatch(
          /providers: \[UserEtlifySerializer\]/,
        );
      });

      it('--dry-run reports without writing', () => {
        const out = nestCli(
          'g',
          '-c',
          'nestjs-etlify',
          'etlify-serializer',
          'contact',
          '--dry-run',
        );
        expect(out).toContain(
          'CREATE src/contact/contact.etlify-serializer.ts',
        );
        expect(existsSync(join(app, 'src/contact'))).toBe(false);
      });

      it('with "collection": "nestjs-etlify", nest g etlify-serializer and the built-in nest g service both work', () => {
        setCollection('nestjs-etlify');
        const serializer = nestCli(
          'g',
          'etlify-serializer',
          'account',
          '--no-spec',
          '--flat',
        );
        expect(serializer).toContain('CREATE src/account.etlify-serializer.ts');
        expect(
          existsSync(join(app, 'src/account.etlify-serializer.spec.ts')),
        ).toBe(false);
        const service = nestCli('g', 'service', 'foo');
        expect(service).toContain('CREATE src/foo/foo.service.ts');
        expect(read('src/app.module.ts')).toMatch(
          /providers: \[UserEtlifySerializer, AccountEtlifySerializer, FooService\]/,
        );
      });

      it("--project generates into that project's source root and module", () => {
        const config = read('nest-cli.json');
        mkdirSync(join(app, 'libs/billing/src'), { recursive: true });
        writeFileSync(
          join(app, 'libs/billing/src/billing.module.ts'),
          "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class BillingModule {}\n",
        );
        writeFileSync(
          join(app, 'nest-cli.json'),
          JSON.stringify({
            ...JSON.parse(config),
            projects: {
              billing: {
                type: 'library',
                root: 'libs/billing',
                sourceRoot: 'libs/billing/src',
              },
            },
          }),
        );
        try {
          const out = nestCli(
            'g',
            'etlify-serializer',
            'invoice',
            '--project',
            'billing',
          );
          expect(out).toContain(
            'CREATE libs/billing/src/invoice/invoice.etlify-serializer.ts',
          );
          expect(read('libs/billing/src/billing.module.ts')).toContain(
            'providers: [InvoiceEtlifySerializer]',
          );
        } finally {
          writeFileSync(join(app, 'nest-cli.json'), config);
        }
      });

      it('nest g etlify-migration writes a timestamped migration into src/migrations', () => {
        const out = nestCli('g', 'etlify-migration');
        const created =
          /CREATE src\/migrations\/(\d+)-create-etlify-tables\.ts/.exec(out);
        expect(created).not.toBeNull();
        expect(
          read(`src/migrations/${created![1]}-create-etlify-tables.ts`),
        ).toContain(
          `export class CreateEtlifyTables${created![1]} implements MigrationInterface`,
        );
      });

      it("the schematics' own options go through npx schematics (the Angular CLI that @nestjs/cli brings)", () => {
        const out = plain(
          run(
            join(app, 'node_modules/.bin/schematics'),
            [
              'nestjs-etlify:etlify-migration',
              '--timestamp=1760000000000',
              '--path=database',
            ],
            app,
          ),
        );
        expect(out).toContain(
          'CREATE src/database/1760000000000-create-etlify-tables.ts',
        );
        expect(
          read('src/database/1760000000000-create-etlify-tables.ts'),
        ).toContain(
          'export class CreateEtlifyTables1760000000000 implements MigrationInterface',
        );
      });

      it('nest g etlify adds EtlifyModule.forRootAsync with a HubSpot CRM read from process.env', () => {
        const out = nestCli('g', 'etlify');
        expect(out).toContain('UPDATE src/app.module.ts');
        const module = read('src/app.module.ts');
        expect(module).toContain(
          "import { EtlifyModule, HubspotAdapter } from 'nestjs-etlify';",
        );
        expect(module).toContain('EtlifyModule.forRootAsync({');
        expect(module).toContain(
          "accessToken: process.env.HUBSPOT_TOKEN ?? '',",
        );
      });

      it('the app, with everything generated, compiles with tsc and boots with the token from the environment', () => {
        setCollection('@nestjs/schematics');
        rmSync(join(app, 'dist'), { recursive: true, force: true });
        tsc(app);
        expect(
          existsSync(join(app, 'dist/user/user.etlify-serializer.js')),
        ).toBe(true);
        expect(existsSync(join(app, 'dist/foo/foo.service.js'))).toBe(true);
        const boot = [
          "const { NestFactory } = require('@nestjs/core');",
          "const { CrmRegistry } = require('nestjs-etlify');",
          "const { AppModule } = require('./dist/app.module');",
          'NestFactory.createApplicationContext(AppModule, { logger: false }).then(async (app) => {',
          '  const crms = app.get(CrmRegistry).getCrms();',
          '  console.log(JSON.stringify(crms.map((c) => [c.name, c.adapter.constructor.name])));',
          '  await app.close();',
          '});',
        ].join('\n');
        const env = {
          PGHOST: '127.0.0.1',
          PGUSER: 'postgres',
          PGDATABASE: 'test',
          HUBSPOT_TOKEN: 'pat-test',
        };
        expect(
          JSON.parse(run(process.execPath, ['-e', boot], app, env)),
        ).toEqual([['hubspot', 'HubspotAdapter']]);
      }, 60_000);
    });
  });
});
