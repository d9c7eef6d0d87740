import { Tree } from '@angular-devkit/schematics';
import {
  SchematicTestRunner,
  UnitTestTree,
} from '@angular-devkit/schematics/testing';
import { join } from 'node:path';

const runner = new SchematicTestRunner(
  'nestjs-etlify',
  join(__dirname, '..', 'collection.json'),
);

/** The files of a fresh `nest new` app that the schematic reads (Nest 11: CommonJS, Jest). */
function appTree(
  options: {
    pkg?: Record<string, unknown>;
    tsconfig?: string;
    suffix?: string;
  } = {},
): UnitTestTree {
  const tree = new UnitTestTree(Tree.empty());
  tree.create(
    'nest-cli.json',
    JSON.stringify({ collection: '@nestjs/schematics', sourceRoot: 'src' }),
  );
  tree.create(
    'package.json',
    JSON.stringify({
      name: 'app',
      dependencies: { '@nestjs/core': '^11.0.0' },
      devDependencies: { jest: '^30.0.0' },
      ...options.pkg,
    }),
  );
  tree.create('tsconfig.json', options.tsconfig ?? '{}');
  tree.create(
    'src/app.module.ts',
    [
      "import { Module } from '@nestjs/common';",
      `import { AppService } from './app.service${options.suffix ?? ''}';`,
      '',
      '@Module({',
      '  imports: [],',
      '  providers: [AppService],',
      '})',
      'export class AppModule {}',
      '',
    ].join('\n'),
  );
  return tree;
}

/** What `nest new` writes with @nestjs/cli 12: an ES module package tested with vitest. */
const nest12App = () =>
  appTree({
    pkg: {
      type: 'module',
      dependencies: { '@nestjs/core': '^12.0.0' },
      devDependencies: { vitest: '^4.1.2' },
    },
    tsconfig: JSON.stringify({
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
    }),
    suffix: '.js',
  });

/** Relative import specifiers of a TypeScript file that name no `.js` file. */
const unsuffixedImports = (content: string) =>
  [...content.matchAll(/from\s+'(\.[^']*)'/g)]
    .map((m) => m[1])
    .filter((path) => !path.endsWith('.js'));

const USER_ENTITY = [
  "import { Column, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';",
  '',
  '@Entity()',
  'export class UserAccount {',
  '  @PrimaryGeneratedColumn() id!: number;',
  "  @Column({ type: 'varchar', nullable: true }) email!: string | null;",
  '  @Column() firstName!: string;',
  '  @Column() age?: number;',
  "  @Column({ type: 'jsonb' }) tags!: string[];",
  '  @UpdateDateColumn() updatedAt!: Date;',
  '}',
  '',
].join('\n');

describe('etlify-serializer schematic', () => {
  it('creates the serializer and its spec in src/<name>/ and registers it in the nearest module', async () => {
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'user' },
      appTree(),
    );

    expect(tree.files).toEqual(
      expect.arrayContaining([
        '/src/user/user.etlify-serializer.ts',
        '/src/user/user.etlify-serializer.spec.ts',
      ]),
    );
    const serializer = tree.readContent('/src/user/user.etlify-serializer.ts');
    expect(serializer).toContain(
      "import type { CrmPayload, EtlifySerializer } from 'nestjs-etlify';",
    );
    expect(serializer).toContain('@Injectable()');
    // No user.entity.ts yet: a placeholder type the user replaces, so the file compiles.
    expect(serializer).toContain('type User = { email: string | null };');
    expect(serializer).not.toContain("from './user.entity");
    expect(serializer).toContain(
      'export class UserEtlifySerializer implements EtlifySerializer<User> {',
    );
    expect(serializer).toContain('readonly version = 1;');
    expect(serializer).toContain('toCrmPayload(user: User): CrmPayload {');
    expect(serializer).toContain('email: user.email ?? null,');

    const spec = tree.readContent('/src/user/user.etlify-serializer.spec.ts');
    expect(spec).toContain(
      "import { UserEtlifySerializer } from './user.etlify-serializer';",
    );
    expect(spec).toContain('providers: [UserEtlifySerializer]');

    const module = tree.readContent('/src/app.module.ts');
    expect(module).toContain(
      "import { UserEtlifySerializer } from './user/user.etlify-serializer';",
    );
    expect(module).toContain('providers: [AppService, UserEtlifySerializer]');
  });

  it('types the serializer to the entity found beside it and maps its scalar columns', async () => {
    const app = appTree();
    app.create('src/user/user.entity.ts', USER_ENTITY);
    app.create(
      'src/user/user.module.ts',
      "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class UserModule {}\n",
    );
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'user' },
      app,
    );

    const serializer = tree.readContent('/src/user/user.etlify-serializer.ts');
    expect(serializer).toContain(
      "import type { UserAccount } from './user.entity';",
    );
    expect(serializer).toContain('implements EtlifySerializer<UserAccount>');
    expect(serializer).toContain(
      'toCrmPayload(user: UserAccount): CrmPayload {',
    );
    expect(serializer).toContain('email: user.email ?? null,');
    expect(serializer).toContain('firstName: user.firstName ?? null,');
    expect(serializer).toContain('age: user.age ?? null,');
    expect(serializer).not.toContain('tags:');
    expect(serializer).not.toContain('updatedAt:');
    // The nearest module is the feature module, not the root one.
    expect(tree.readContent('/src/user/user.module.ts')).toContain(
      'providers: [UserEtlifySerializer]',
    );
    expect(tree.readContent('/src/app.module.ts')).not.toContain(
      'UserEtlifySerializer',
    );
  });

  it('finds the entity in an entities/ folder or elsewhere under the source root', async () => {
    const app = appTree();
    app.create(
      'src/crm/entities/account.entity.ts',
      USER_ENTITY.replace('UserAccount', 'Account'),
    );
    app.create(
      'src/models/order.entity.ts',
      USER_ENTITY.replace('UserAccount', 'Order'),
    );
    let tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'account', path: 'crm', flat: true },
      app,
    );
    expect(tree.readContent('/src/crm/account.etlify-serializer.ts')).toContain(
      "import type { Account } from './entities/account.entity';",
    );
    tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'order' },
      tree,
    );
    expect(tree.readContent('/src/order/order.etlify-serializer.ts')).toContain(
      "import type { Order } from '../models/order.entity';",
    );
  });

  it('leaves an empty mapping when the entity has no plain columns', async () => {
    const app = appTree();
    app.create(
      'src/deal/deal.entity.ts',
      "@Entity()\nexport class Deal {\n  @Column({ type: 'jsonb' }) lines!: string[];\n}\n",
    );
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'deal' },
      app,
    );
    const serializer = tree.readContent('/src/deal/deal.etlify-serializer.ts');
    expect(serializer).toContain('toCrmPayload(_deal: Deal): CrmPayload {');
    expect(serializer).toContain(
      "return {}; // map the Deal's fields to CRM properties",
    );
  });

  it('honours --path, --flat, --no-spec, --spec-file-suffix and --skip-import', async () => {
    let tree = await runner.runSchematic(
      'etlify-serializer',
      {
        name: 'company',
        path: 'crm/serializers',
        flat: true,
        spec: false,
        skipImport: true,
      },
      appTree(),
    );
    expect(tree.files.filter((f) => f.includes('company'))).toEqual([
      '/src/crm/serializers/company.etlify-serializer.ts',
    ]);
    expect(tree.readContent('/src/app.module.ts')).not.toContain(
      'CompanyEtlifySerializer',
    );

    tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'deal', specFileSuffix: 'test' },
      tree,
    );
    expect(tree.files).toContain('/src/deal/deal.etlify-serializer.test.ts');
  });

  it('honours --source-root (the CLI passes a project’s sourceRoot) and names with a path', async () => {
    const app = appTree();
    app.create(
      'apps/billing/src/billing.module.ts',
      "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class BillingModule {}\n",
    );
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'invoices/invoice-line', sourceRoot: 'apps/billing/src' },
      app,
    );
    expect(tree.files).toContain(
      '/apps/billing/src/invoices/invoice-line/invoice-line.etlify-serializer.ts',
    );
    expect(
      tree.readContent(
        '/apps/billing/src/invoices/invoice-line/invoice-line.etlify-serializer.ts',
      ),
    ).toContain('export class InvoiceLineEtlifySerializer');
    expect(tree.readContent('/apps/billing/src/billing.module.ts')).toContain(
      "import { InvoiceLineEtlifySerializer } from './invoices/invoice-line/invoice-line.etlify-serializer';",
    );
  });

  it('registers in the module named by --module, and fails clearly when it does not exist', async () => {
    const app = appTree();
    app.create(
      'src/crm/crm.module.ts',
      "import { Module } from '@nestjs/common';\n\n@Module({})\nexport class CrmModule {}\n",
    );
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'lead', module: 'src/crm/crm.module.ts' },
      app,
    );
    expect(tree.readContent('/src/crm/crm.module.ts')).toContain(
      "import { LeadEtlifySerializer } from '../lead/lead.etlify-serializer';",
    );
    expect(tree.readContent('/src/app.module.ts')).not.toContain('Lead');
    await expect(
      runner.runSchematic(
        'etlify-serializer',
        { name: 'lead', module: 'src/nope.module.ts' },
        appTree(),
      ),
    ).rejects.toThrow(
      'Module /src/nope.module.ts does not exist (option --module).',
    );
  });

  it('rejects a missing name and a non-TypeScript language with a clear error', async () => {
    await expect(
      runner.runSchematic('etlify-serializer', { name: '' }, appTree()),
    ).rejects.toThrow(/name/);
    await expect(
      runner.runSchematic(
        'etlify-serializer',
        { name: 'x', language: 'js' },
        appTree(),
      ),
    ).rejects.toThrow(/TypeScript only/);
  });

  it('in an ES module app (Nest 12, vitest) every relative import ends in .js and the spec imports vitest', async () => {
    const app = nest12App();
    app.create('src/user/user.entity.ts', USER_ENTITY);
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'user' },
      app,
    );
    const serializer = tree.readContent('/src/user/user.etlify-serializer.ts');
    const spec = tree.readContent('/src/user/user.etlify-serializer.spec.ts');
    const module = tree.readContent('/src/app.module.ts');
    expect(serializer).toContain(
      "import type { UserAccount } from './user.entity.js';",
    );
    expect(spec).toContain(
      "import { UserEtlifySerializer } from './user.etlify-serializer.js';",
    );
    expect(spec).toContain(
      "import { beforeEach, describe, expect, it } from 'vitest';",
    );
    expect(module).toContain(
      "import { UserEtlifySerializer } from './user/user.etlify-serializer.js';",
    );
    expect(module).toContain('providers: [AppService, UserEtlifySerializer]');
    for (const content of [serializer, spec, module])
      expect(unsuffixedImports(content)).toEqual([]);
  });

  it('a CommonJS app keeps extensionless imports and a Jest spec with no vitest import', async () => {
    const app = appTree();
    app.create('src/user/user.entity.ts', USER_ENTITY);
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'user' },
      app,
    );
    const spec = tree.readContent('/src/user/user.etlify-serializer.spec.ts');
    expect(spec).not.toContain('vitest');
    expect(spec).toContain("from './user.etlify-serializer';");
    expect(tree.readContent('/src/user/user.etlify-serializer.ts')).toContain(
      "from './user.entity';",
    );
  });

  it.each([
    [
      'tsconfig module nodenext (JSON with comments), CommonJS package',
      {
        tsconfig:
          '{\n  // Node resolution\n  "compilerOptions": { "module": "NodeNext", },\n}',
      },
    ],
    [
      'tsconfig moduleResolution node16 in an extended file',
      { tsconfig: '{ "extends": "./tsconfig.base.json" }' },
    ],
    ['package "type": "module"', { pkg: { type: 'module' } }],
  ])('counts as an ES module app: %s', async (_, options) => {
    const app = appTree(options);
    app.create(
      'tsconfig.base.json',
      JSON.stringify({ compilerOptions: { moduleResolution: 'node16' } }),
    );
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'user', module: 'src/app.module.ts' },
      app,
    );
    expect(tree.readContent('/src/app.module.ts')).toContain(
      "from './user/user.etlify-serializer.js';",
    );
  });

  it('writes a vitest spec when the app has only a vitest config file', async () => {
    const app = appTree({ pkg: { devDependencies: {} } });
    app.create('vitest.config.mts', 'export default {};\n');
    const tree = await runner.runSchematic(
      'etlify-serializer',
      { name: 'user' },
      app,
    );
    expect(
      tree.readContent('/src/user/user.etlify-serializer.spec.ts'),
    ).toContain("from 'vitest';");
  });

  it('keeps the built-in Nest schematics reachable through the collection', async () => {
    const tree = await runner.runSchematic(
      'service',
      { name: 'foo' },
      appTree(),
    );
    expect(tree.files).toContain('/src/foo/foo.service.ts');
    expect(tree.readContent('/src/app.module.ts')).toContain('FooService');
  });
});
