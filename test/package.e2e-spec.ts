import {
  cpSync,
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
import {
  ConsumerSchema,
  dev,
  fixture,
  fixtures,
  installedVersion,
  lowestPeer,
  nestCli,
  npm,
  npmInstall,
  peerAlternative,
  plain,
  QUEUE_PEERS,
  readJson,
  root,
  rootPkg,
  run,
  runtimePeers,
  writeJson,
} from './support/consumer-app';

/**
 * What a user gets from the registry: the packed tarball, installed by npm into fresh apps of every
 * shape we support, each syncing a record into the HubSpot sandbox:
 *  - Nest 11, CommonJS, Jest, with the lowest version of every peer range;
 *  - Nest 12 from the real `nest new` (ES modules, vitest), with the newest version of every peer,
 *    following the README's install and tutorial: the packaged schematics generate, `nest build`
 *    builds, the app's own tests pass, and a saved entity reaches the sandbox through capture;
 *  - Nest 12 with Jest in ES module mode, on TypeORM 0.3.
 * One spec file so the tarball is built once.
 */
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/**
 * The registry this machine reaches has served package documents whose `latest` tag names a
 * version missing from their `versions` (seen: @nestjs/axios latest 12.0.1, versions up to 4.0.1).
 * npm then cannot install that major at all, so the newest-peers apps are skipped, saying why,
 * while the registry is in that state; they run whenever it serves what its tags promise.
 */
function registryLag(): string[] {
  const line = /^npm install nestjs-etlify( [^\n#]+)$/m.exec(readme);
  const names = (line?.[1] ?? '')
    .trim()
    .split(/\s+/)
    .map((spec) => spec.replace(/(.)@.*$/, '$1'));
  const registry = npm(['config', 'get', 'registry'], root).trim();
  // The abbreviated document, the one `npm install` reads.
  const script = `
    const [registry, ...names] = process.argv.slice(1);
    Promise.all(names.map(async (name) => {
      const res = await fetch(registry.replace(/\\/$/, '') + '/' + name.replace('/', '%2f'), {
        headers: { accept: 'application/vnd.npm.install-v1+json' },
      });
      const doc = await res.json();
      const latest = doc['dist-tags'] && doc['dist-tags'].latest;
      return latest && !(latest in (doc.versions || {})) ? name : undefined;
    })).then((lag) => console.log(JSON.stringify(lag.filter(Boolean))), () => console.log('[]'));
  `;
  try {
    return JSON.parse(
      run(process.execPath, ['-e', script, registry, ...names], root),
    ) as string[];
  } catch {
    return [];
  }
}
const lagging = [
  ...registryLag().map(
    (name) => `the registry's document for ${name} lacks its latest version`,
  ),
];
const describeNewest = lagging.length ? describe.skip : describe;
if (lagging.length)
  console.warn(
    `package test: ${lagging.join('; ')}; the Nest 12 (newest peers) apps are skipped`,
  );
const tsc = (cwd: string) =>
  run(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'],
    cwd,
  );
const nodeModule = (cwd: string, script: string, env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['--input-type=module', '-e', script], cwd, env);

/** Relative imports of a declaration file, resolved to the declaration files they name. */
function declarationImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:from\s+|import\(\s*)['"](\.[^'"]+)['"]/g),
  ].map((m) => m[1]);
  return specifiers.map((s) => {
    const base = resolve(dirname(file), s.replace(/\.js$/, ''));
    return existsSync(`${base}.d.ts`)
      ? `${base}.d.ts`
      : join(base, 'index.d.ts');
  });
}

/** `etlify sync-stale --dry-run` against the app's compiled root module: the CLI must find the app's copy. */
function etlifyDryRun(app: string, env: NodeJS.ProcessEnv) {
  const out = run(
    join(app, 'node_modules/.bin/etlify'),
    [
      'sync-stale',
      '--module',
      'dist/app.module.js',
      '--entity',
      'User',
      '--dry-run',
      '--json',
    ],
    app,
    { HUBSPOT_TOKEN: 'pat-test', ...env },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as {
    total: number;
    errors: number;
  };
}

const DUAL_LOAD = /loaded twice in one process/;

/** Jest's --json report: which spec files ran and passed. */
function jestReport(stdout: string) {
  const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
    numPassedTests: number;
    numFailedTests: number;
    testResults: Array<{ name: string; status: string }>;
  };
  return {
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    files: report.testResults
      .map((r) => [r.name.split('/src/')[1], r.status])
      .sort(),
  };
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
  }, 180_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('ships both builds, the bin, the compiled schematics and their templates, README and LICENSE, and no tests, sources or sample', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/testing/index.js',
        'dist/cli/bin.js',
        'dist/esm/package.json',
        'dist/esm/index.js',
        'dist/esm/index.d.ts',
        'dist/esm/testing/index.js',
        'dist/esm/cli/main.js',
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
        /^(test|sample|bench|lib|scripts)\//.test(f) ||
        /\.spec\.|e2e-spec|tsconfig/.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')),
    );
    expect(unwanted).toEqual([]);
    // Every compiled file has its source: nothing stale from an earlier build is shipped.
    const orphans = files
      .filter((f) => /^(dist|schematics)\/.*\.js$/.test(f))
      .map((f) => f.replace(/^dist\/(esm\/)?/, 'lib/').replace(/\.js$/, '.ts'))
      .filter((source) => !existsSync(join(root, source)));
    expect(orphans).toEqual([]);
    // The ES module build is the same library: file for file, minus the CommonJS-only launcher.
    const build = (prefix: string) =>
      files
        .filter((f) => f.startsWith(prefix) && f.endsWith('.js'))
        .map((f) => f.slice(prefix.length))
        .filter((f) => !f.startsWith('esm/'));
    expect(build('dist/esm/')).toEqual(
      build('dist/').filter((f) => f !== 'cli/bin.js'),
    );
  });

  it('does not leak axios, bull, bullmq or ioredis types from the public declarations of either build', () => {
    const seen = new Set<string>();
    const queue = ['dist', 'dist/esm'].flatMap((build) => [
      join(root, build, 'index.d.ts'),
      join(root, build, 'testing/index.d.ts'),
    ]);
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      queue.push(...declarationImports(file));
    }
    expect(
      [...seen].filter((f) => f.includes('/dist/esm/')).length,
    ).toBeGreaterThan(10);
    const leaks = [...seen].filter((file) =>
      /(?:from\s+|import\(\s*)['"](axios|bull|bullmq|ioredis|@nestjs\/axios|@nestjs\/bull|@nestjs\/bullmq)['"]/.test(
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

  describe('Nest 11, CommonJS, Jest, the lowest version of every peer range', () => {
    let app: string;
    const schema = new ConsumerSchema();
    const lowest = () =>
      Object.fromEntries(
        runtimePeers().map((name) => [name, lowestPeer(name)]),
      );

    beforeAll(async () => {
      app = mkdtempSync(join(tmpdir(), 'etlify-nest11-'));
      await schema.create();
      writeJson(join(app, 'package.json'), {
        name: 'consumer-nest11',
        version: '1.0.0',
        private: true,
        scripts: { test: 'jest' },
        dependencies: {
          'nestjs-etlify': `file:${tarball}`,
          ...lowest(),
          // Both queue drivers, each at the lowest of its peer ranges.
          ...Object.fromEntries(
            QUEUE_PEERS.map((name) => [name, lowestPeer(name)]),
          ),
          pg: dev('pg'),
          // Else npm puts ioredis 6 at the top (an optional peer of @nestjs/microservices, "*") and
          // stops on typeorm 0.3.20's optional peer ioredis ^5 (ERESOLVE), whatever this package does.
          ioredis: '^5.4.0',
        },
        devDependencies: {
          // What `nest new` (CLI 11) puts there; @nestjs/schematics at the lowest of our optional peer range.
          '@nestjs/cli': dev('@nestjs/cli'),
          '@nestjs/schematics': lowestPeer('@nestjs/schematics'),
          '@nestjs/testing': lowestPeer('@nestjs/core'),
          '@types/jest': dev('@types/jest'),
          '@types/node': dev('@types/node'),
          jest: dev('jest'),
          'ts-jest': dev('ts-jest'),
          typescript: dev('typescript'),
        },
        jest: {
          moduleFileExtensions: ['js', 'json', 'ts'],
          rootDir: 'src',
          testRegex: '.*\\.spec\\.ts$',
          transform: { '^.+\\.ts$': 'ts-jest' },
          testEnvironment: 'node',
        },
      });
      writeJson(join(app, 'tsconfig.json'), {
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
          types: ['node', 'jest'],
        },
        include: ['src'],
      });
      writeJson(join(app, 'nest-cli.json'), {
        collection: '@nestjs/schematics',
        sourceRoot: 'src',
      });
      mkdirSync(join(app, 'src/user'), { recursive: true });
      copyFileSync(join(fixtures, 'main.ts.txt'), join(app, 'src/main.ts'));
      writeFileSync(
        join(app, 'src/queue-sync.ts'),
        fixture('queue-sync.ts.txt', false),
      );
      copyFileSync(
        join(fixtures, 'app.module.ts.txt'),
        join(app, 'src/app.module.ts'),
      );
      copyFileSync(
        join(fixtures, 'user.entity.ts.txt'),
        join(app, 'src/user/user.entity.ts'),
      );
      npmInstall(app);
    }, 300_000);

    afterAll(async () => {
      await schema.drop();
      rmSync(app, { recursive: true, force: true });
    });

    it('installed the lowest versions', () => {
      for (const name of runtimePeers())
        expect([name, installedVersion(app, name)]).toEqual([
          name,
          lowestPeer(name),
        ]);
    });

    it('compiles against the published types and syncs a record into the sandbox', () => {
      tsc(app);
      const out = run(process.execPath, ['dist/main.js'], app, schema.env);
      const result = JSON.parse(out.trim().split('\n').pop()!);
      expect(result.nest).toBe(lowestPeer('@nestjs/core'));
      expect(result.outcome.status).toBe('synced');
      expect(result.stateCrmId).toBe(result.outcome.crmId);
      expect(result.sandboxRecords).toEqual(['consumer@example.com']);
      expect(result.testKitLoadedByRuntime).toBe(false);
      // (A node_modules of its own only where the app's tree holds other versions of its dependencies.)
      expect(
        readdirSync(join(app, 'node_modules/nestjs-etlify'))
          .filter((f) => f !== 'node_modules')
          .sort(),
      ).toEqual(
        ['LICENSE', 'README.md', 'dist', 'package.json', 'schematics'].sort(),
      );
    }, 120_000);

    it.each(['bull', 'bullmq'])(
      'three leads saved in one transaction reach the sandbox through the %s queue',
      (driver) => {
        const out = run(process.execPath, ['dist/queue-sync.js'], app, {
          ...schema.env,
          QUEUE_DRIVER: driver,
        });
        expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({
          driver,
          synced: 3,
          records: ['ann@example.com', 'bob@example.com', 'cy@example.com'],
        });
      },
      90_000,
    );

    it('a process that required the CommonJS build cannot also import the ES module build', () => {
      const script = [
        "require('reflect-metadata');",
        "const cjs = require('nestjs-etlify');",
        "import('nestjs-etlify').then(() => console.log('loaded twice'), (e) => console.log(e.name + ': ' + e.message));",
      ].join('\n');
      const out = run(process.execPath, ['-e', script], app);
      expect(out).toContain('EtlifyConfigurationError');
      expect(out).toMatch(DUAL_LOAD);
    });

    describe('the Nest CLI with the packaged schematics', () => {
      const read = (path: string) => readFileSync(join(app, path), 'utf8');
      const setCollection = (collection: string) =>
        writeJson(join(app, 'nest-cli.json'), {
          collection,
          sourceRoot: 'src',
        });

      it('nest g -c nestjs-etlify etlify-serializer user: typed to the entity, registered in AppModule', () => {
        const out = nestCli(
          app,
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
        expect(read('src/user/user.etlify-serializer.spec.ts')).not.toContain(
          'vitest',
        );
        expect(read('src/app.module.ts')).toContain(
          "import { UserEtlifySerializer } from './user/user.etlify-serializer';",
        );
        expect(read('src/app.module.ts')).toMatch(
          /providers: \[UserEtlifySerializer\]/,
        );
      });

      it('--dry-run reports without writing', () => {
        const out = nestCli(
          app,
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
          app,
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
        const service = nestCli(app, 'g', 'service', 'foo');
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
        writeJson(join(app, 'nest-cli.json'), {
          ...JSON.parse(config),
          projects: {
            billing: {
              type: 'library',
              root: 'libs/billing',
              sourceRoot: 'libs/billing/src',
            },
          },
        });
        try {
          const out = nestCli(
            app,
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
        const out = nestCli(app, 'g', 'etlify-migration');
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
        const out = nestCli(app, 'g', 'etlify');
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

      it("the app's own Jest tests pass: the generated spec, and a saved User reaching the sandbox through capture", () => {
        setCollection('@nestjs/schematics');
        writeFileSync(
          join(app, 'src/user/user.etlify-serializer.ts'),
          read('src/user/user.etlify-serializer.ts').replace(
            'firstName: user.firstName',
            'firstname: user.firstName',
          ),
        );
        writeFileSync(
          join(app, 'src/user/user.entity.ts'),
          fixture('user.etlified-entity.ts.txt', false),
        );
        writeFileSync(
          join(app, 'src/user/user.capture.spec.ts'),
          fixture('user.capture.spec.ts.txt', false),
        );
        const out = run(
          process.execPath,
          [
            join(app, 'node_modules/jest/bin/jest.js'),
            '--ci',
            '--json',
            'user/',
          ],
          app,
          schema.env,
        );
        expect(jestReport(out)).toEqual({
          passed: 2,
          failed: 0,
          files: [
            ['user/user.capture.spec.ts', 'passed'],
            ['user/user.etlify-serializer.spec.ts', 'passed'],
          ],
        });
      }, 120_000);

      it('the app, with everything generated, compiles with tsc, boots, and the etlify CLI runs on it', () => {
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
        const env = { ...schema.env, HUBSPOT_TOKEN: 'pat-test' };
        expect(
          JSON.parse(run(process.execPath, ['-e', boot], app, env)),
        ).toEqual([['hubspot', 'HubspotAdapter']]);
        expect(etlifyDryRun(app, schema.env)).toMatchObject({ errors: 0 });
      }, 90_000);
    });
  });

  describeNewest(
    'Nest 12 from `nest new` (ES modules, vitest) and Nest 12 with Jest in ES module mode',
    () => {
      let scaffold: string;

      beforeAll(() => {
        scaffold = mkdtempSync(join(tmpdir(), 'etlify-nest-new-'));
        // The current `nest new` template, from the real CLI of the current major.
        const out = npm(
          [
            'exec',
            '--yes',
            '--prefer-online',
            '--package',
            '@nestjs/cli@^12',
            '--',
            'nest',
            'new',
            'app',
            '--skip-install',
            '--skip-git',
            '--package-manager',
            'npm',
            '--no-observe',
          ],
          scaffold,
        );
        expect(plain(out)).toContain('CREATE app/package.json');
      }, 180_000);

      afterAll(() => {
        rmSync(scaffold, { recursive: true, force: true });
      });

      describe('the README word for word, newest peers', () => {
        let app: string;
        const schema = new ConsumerSchema();
        const read = (path: string) => readFileSync(join(app, path), 'utf8');

        beforeAll(async () => {
          app = join(scaffold, 'vitest-app');
          cpSync(join(scaffold, 'app'), app, { recursive: true });
          await schema.create();
          const pkg = readJson(join(app, 'package.json'));
          expect(pkg.type).toBe('module');
          expect(pkg.devDependencies.vitest).toBeDefined();
          // The README's install line, with the tarball in place of the registry's nestjs-etlify.
          const install = /^npm install nestjs-etlify( [^\n#]+)$/m.exec(readme);
          expect(install).not.toBeNull();
          const packages = install![1].trim().split(/\s+/);
          npmInstall(app, [`nestjs-etlify@file:${tarball}`, ...packages, 'pg']);
        }, 300_000);

        afterAll(async () => {
          await schema.drop();
        });

        it('installed the newest Nest and TypeORM', () => {
          expect(installedVersion(app, '@nestjs/core').split('.')[0]).toBe(
            '12',
          );
          expect(installedVersion(app, 'typeorm').split('.')[0]).toBe('1');
          for (const name of runtimePeers()) {
            const installed = installedVersion(app, name);
            const latest = npm(
              ['view', name, 'version', '--prefer-online'],
              app,
            ).trim();
            expect([name, installed]).toEqual([name, latest]);
          }
        }, 60_000);

        it('the tutorial: nest g etlify, etlify-serializer user and etlify-migration write ES module imports', () => {
          for (const command of [
            'etlify',
            'etlify-serializer user',
            'etlify-migration',
          ])
            expect(readme).toContain(`nest g -c nestjs-etlify ${command}`);
          mkdirSync(join(app, 'src/user'), { recursive: true });
          writeFileSync(
            join(app, 'src/user/user.entity.ts'),
            fixture('user.entity.ts.txt', true),
          );
          // The app's TypeORM connection (the README: EtlifyModule uses your DataSource).
          writeFileSync(
            join(app, 'src/app.module.ts'),
            read('src/app.module.ts')
              .replace(
                "import { Module } from '@nestjs/common';",
                "import { Module } from '@nestjs/common';\nimport { TypeOrmModule } from '@nestjs/typeorm';\nimport { User } from './user/user.entity.js';",
              )
              .replace(
                'imports: [],',
                "imports: [\n    TypeOrmModule.forRoot({ type: 'postgres', schema: process.env.CONSUMER_SCHEMA, autoLoadEntities: true, synchronize: true }),\n    TypeOrmModule.forFeature([User]),\n  ],",
              ),
          );
          expect(nestCli(app, 'g', '-c', 'nestjs-etlify', 'etlify')).toContain(
            'UPDATE src/app.module.ts',
          );
          const serializer = nestCli(
            app,
            'g',
            '-c',
            'nestjs-etlify',
            'etlify-serializer',
            'user',
          );
          expect(serializer).toContain(
            'CREATE src/user/user.etlify-serializer.spec.ts',
          );
          expect(
            nestCli(app, 'g', '-c', 'nestjs-etlify', 'etlify-migration'),
          ).toMatch(/CREATE src\/migrations\/\d+-create-etlify-tables\.ts/);
          const module = read('src/app.module.ts');
          expect(module).toContain(
            "import { UserEtlifySerializer } from './user/user.etlify-serializer.js';",
          );
          expect(module).toContain('EtlifyModule.forRootAsync({');
          expect(read('src/user/user.etlify-serializer.ts')).toContain(
            "import type { User } from './user.entity.js';",
          );
          const spec = read('src/user/user.etlify-serializer.spec.ts');
          expect(spec).toContain(
            "import { beforeEach, describe, expect, it } from 'vitest';",
          );
          expect(spec).toContain("from './user.etlify-serializer.js';");
        }, 120_000);

        it('nest build compiles it, and the app boots with the ES module build', () => {
          // The tutorial's steps 2 and 3: the mapping uses HubSpot's property names; the entity is declared.
          writeFileSync(
            join(app, 'src/user/user.etlify-serializer.ts'),
            read('src/user/user.etlify-serializer.ts').replace(
              'firstName: user.firstName',
              'firstname: user.firstName',
            ),
          );
          writeFileSync(
            join(app, 'src/user/user.entity.ts'),
            fixture('user.etlified-entity.ts.txt', true),
          );
          writeFileSync(
            join(app, 'src/user/user.capture.spec.ts'),
            fixture('user.capture.spec.ts.txt', true),
          );
          nestCli(app, 'build');
          expect(
            existsSync(join(app, 'dist/user/user.etlify-serializer.js')),
          ).toBe(true);
          const boot = [
            "import { NestFactory } from '@nestjs/core';",
            "import { CrmRegistry } from 'nestjs-etlify';",
            "import { AppModule } from './dist/app.module.js';",
            'const app = await NestFactory.createApplicationContext(AppModule, { logger: false });',
            'console.log(JSON.stringify(app.get(CrmRegistry).getCrms().map((c) => c.name)));',
            'await app.close();',
          ].join('\n');
          const out = nodeModule(app, boot, {
            ...schema.env,
            HUBSPOT_TOKEN: 'pat-test',
          });
          expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual([
            'hubspot',
          ]);
        }, 120_000);

        it("the app's own tests pass under vitest, the capture test among them", () => {
          const out = plain(npm(['test'], app, schema.env));
          expect(out).toMatch(/user\.capture\.spec\.ts/);
          expect(out).toMatch(/user\.etlify-serializer\.spec\.ts/);
          expect(out).toMatch(/Tests\s+3 passed/);
        }, 120_000);

        it('the etlify CLI loads the ES module build for an ES module app', () => {
          expect(etlifyDryRun(app, schema.env)).toMatchObject({ errors: 0 });
        }, 60_000);

        it('the README install has no queue package; a queue on a driver not installed fails the boot naming its install command', () => {
          for (const name of QUEUE_PEERS)
            expect([name, existsSync(join(app, 'node_modules', name))]).toEqual(
              [name, false],
            );
          const script = [
            "import { NestFactory } from '@nestjs/core';",
            "import { EtlifyModule } from 'nestjs-etlify';",
            "import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';",
            'const module = { module: class QueueApp {}, imports: [EtlifyModule.forRoot({',
            "  crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }],",
            "  queue: { name: 'etlify', driver: 'bullmq' },",
            '})] };',
            'try { await NestFactory.createApplicationContext(module, { logger: false, abortOnError: false }); console.log("booted"); }',
            "catch (e) { console.log(e.name + ': ' + e.message); }",
          ].join('\n');
          expect(nodeModule(app, script).trim()).toBe(
            'EtlifyConfigurationError: EtlifyModule queue driver "bullmq" needs @nestjs/bullmq, which is not installed: npm install @nestjs/bullmq bullmq ioredis',
          );
        }, 60_000);

        it('with the newest @nestjs/terminus and @nestjs/event-emitter (optional peers), the health check answers and a sync emits its event', () => {
          // In a copy: the app itself stays as the README leaves it for the tests after this one.
          const ops = `${app}-ops`;
          cpSync(app, ops, { recursive: true });
          npmInstall(ops, ['@nestjs/terminus', '@nestjs/event-emitter']);
          for (const name of ['@nestjs/terminus', '@nestjs/event-emitter'])
            expect(installedVersion(ops, name).split('.')[0]).toBe('12');
          // Plain JavaScript: decorators applied as the functions they are.
          const script = [
            "import 'reflect-metadata';",
            "import { Injectable } from '@nestjs/common';",
            "import { NestFactory } from '@nestjs/core';",
            "import { EventEmitterModule, EventEmitter2 } from '@nestjs/event-emitter';",
            "import { HealthCheckService, TerminusModule } from '@nestjs/terminus';",
            "import { TypeOrmModule } from '@nestjs/typeorm';",
            "import { Column, DataSource, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';",
            "import { EtlifiedEntity, EtlifyHealthIndicator, EtlifyModule, SyncService } from 'nestjs-etlify';",
            "import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';",
            'class ProbeSerializer { toCrmPayload(probe) { return { email: probe.email }; } }',
            'Injectable()(ProbeSerializer);',
            'class HealthProbe {}',
            "PrimaryGeneratedColumn()(HealthProbe.prototype, 'id');",
            "Column({ type: 'varchar' })(HealthProbe.prototype, 'email');",
            "UpdateDateColumn()(HealthProbe.prototype, 'updatedAt');",
            "EtlifiedEntity({ crm: 'memory', serializer: ProbeSerializer, crmObjectType: 'contacts' })(HealthProbe);",
            "Entity('health_probes')(HealthProbe);",
            'const module = { module: class OpsApp {}, providers: [ProbeSerializer], imports: [',
            "  TypeOrmModule.forRoot({ type: 'postgres', schema: process.env.CONSUMER_SCHEMA, synchronize: true, autoLoadEntities: true }),",
            '  TypeOrmModule.forFeature([HealthProbe]), EventEmitterModule.forRoot(), TerminusModule,',
            "  EtlifyModule.forRoot({ crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }], staleSweep: false }),",
            '] };',
            "const app = await NestFactory.createApplicationContext(module, { logger: ['error'] });",
            'const events = [];',
            'app.get(EventEmitter2).onAny((name) => events.push(name));',
            "await app.get(DataSource).getRepository(HealthProbe).save({ email: 'ann@example.com' });",
            'await app.get(SyncService).idle();',
            "const health = await app.get(HealthCheckService).check([() => app.get(EtlifyHealthIndicator).isHealthy('etlify')]);",
            'console.log(JSON.stringify({ status: health.status, etlify: health.info?.etlify?.status, events }));',
            'await app.close();',
          ].join('\n');
          const out = nodeModule(ops, script, schema.env);
          expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
            status: 'ok',
            etlify: 'up',
            events: ['etlify.synced'],
          });
        }, 180_000);

        it.each(['bull', 'bullmq'])(
          "after the README's install for the %s driver (newest versions), saved leads reach the sandbox through its queue",
          (driver) => {
            const line = new RegExp(
              `^npm install (@nestjs/${driver} ${driver}[^\\n#]*?)\\s*(#.*)?$`,
              'm',
            ).exec(readme);
            expect(line).not.toBeNull();
            npmInstall(app, line![1].trim().split(/\s+/));
            for (const name of [`@nestjs/${driver}`, driver]) {
              const latest = npm(
                ['view', name, 'version', '--prefer-online'],
                app,
              ).trim();
              expect([name, installedVersion(app, name)]).toEqual([
                name,
                latest,
              ]);
            }
            writeFileSync(
              join(app, 'src/queue-sync.ts'),
              fixture('queue-sync.ts.txt', true),
            );
            nestCli(app, 'build');
            const out = run(process.execPath, ['dist/queue-sync.js'], app, {
              ...schema.env,
              QUEUE_DRIVER: driver,
            });
            expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({
              driver,
              synced: 3,
              records: ['ann@example.com', 'bob@example.com', 'cy@example.com'],
            });
          },
          180_000,
        );

        it('a process that imported the ES module build cannot also require the CommonJS build', () => {
          const script = [
            "import { createRequire } from 'node:module';",
            "await import('nestjs-etlify');",
            "try { createRequire(import.meta.url)('nestjs-etlify'); console.log('loaded twice'); }",
            "catch (e) { console.log(e.name + ': ' + e.message); }",
          ].join('\n');
          const out = nodeModule(app, script);
          expect(out).toContain('EtlifyConfigurationError');
          expect(out).toMatch(DUAL_LOAD);
        });
      });

      describe('Jest in ES module mode, TypeORM 0.3', () => {
        let app: string;
        const schema = new ConsumerSchema();

        beforeAll(async () => {
          app = join(scaffold, 'jest-esm-app');
          cpSync(join(scaffold, 'app'), app, { recursive: true });
          await schema.create();
          // The app swaps vitest for Jest, as the README's "Jest in ES module mode" describes.
          for (const file of readdirSync(app))
            if (file.startsWith('vitest.config')) rmSync(join(app, file));
          const pkg = readJson(join(app, 'package.json'));
          for (const name of Object.keys(pkg.devDependencies))
            if (/vitest/.test(name)) delete pkg.devDependencies[name];
          pkg.devDependencies = {
            ...pkg.devDependencies,
            jest: dev('jest'),
            'ts-jest': dev('ts-jest'),
            '@types/jest': dev('@types/jest'),
          };
          pkg.scripts.test =
            'node --experimental-vm-modules node_modules/jest/bin/jest.js';
          pkg.dependencies = {
            ...pkg.dependencies,
            'nestjs-etlify': `file:${tarball}`,
            ...Object.fromEntries(
              runtimePeers().map((name) => [
                name,
                rootPkg.peerDependencies[name],
              ]),
            ),
            typeorm: peerAlternative('typeorm', 0),
            pg: dev('pg'),
          };
          writeJson(join(app, 'package.json'), pkg);
          const tsconfig = readJson(join(app, 'tsconfig.json'));
          tsconfig.compilerOptions.types = ['jest', 'node'];
          writeJson(join(app, 'tsconfig.json'), tsconfig);
          writeFileSync(
            join(app, 'jest.config.js'),
            fixture('jest.esm.config.js.txt', true),
          );
          npmInstall(app);
        }, 300_000);

        afterAll(async () => {
          await schema.drop();
        });

        it('generates a Jest spec with .js imports, builds, and its tests pass under Jest in ESM mode', () => {
          expect(installedVersion(app, '@nestjs/core').split('.')[0]).toBe(
            '12',
          );
          expect(installedVersion(app, 'typeorm').split('.')[0]).toBe('0');
          mkdirSync(join(app, 'src/user'), { recursive: true });
          writeFileSync(
            join(app, 'src/user/user.entity.ts'),
            fixture('user.entity.ts.txt', true),
          );
          nestCli(app, 'g', '-c', 'nestjs-etlify', 'etlify-serializer', 'user');
          const spec = readFileSync(
            join(app, 'src/user/user.etlify-serializer.spec.ts'),
            'utf8',
          );
          expect(spec).not.toContain('vitest');
          expect(spec).toContain("from './user.etlify-serializer.js';");
          const serializerFile = join(
            app,
            'src/user/user.etlify-serializer.ts',
          );
          writeFileSync(
            serializerFile,
            readFileSync(serializerFile, 'utf8').replace(
              'firstName: user.firstName',
              'firstname: user.firstName',
            ),
          );
          writeFileSync(
            join(app, 'src/user/user.entity.ts'),
            fixture('user.etlified-entity.ts.txt', true),
          );
          writeFileSync(
            join(app, 'src/user/user.capture.spec.ts'),
            fixture('user.capture.spec.ts.txt', true),
          );
          nestCli(app, 'build');
          const out = npm(
            ['test', '--silent', '--', '--ci', '--json'],
            app,
            schema.env,
          );
          expect(jestReport(out)).toEqual({
            passed: 3,
            failed: 0,
            files: [
              ['app.controller.spec.ts', 'passed'],
              ['user/user.capture.spec.ts', 'passed'],
              ['user/user.etlify-serializer.spec.ts', 'passed'],
            ],
          });
        }, 180_000);
      });
    },
  );
});
