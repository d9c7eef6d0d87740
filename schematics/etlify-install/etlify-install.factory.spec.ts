import { logging } from '@angular-devkit/core';
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

const APP_MODULE = [
  "import { Module } from '@nestjs/common';",
  "import { TypeOrmModule } from '@nestjs/typeorm';",
  "import { AppController } from './app.controller';",
  '',
  '@Module({',
  '  imports: [',
  "    TypeOrmModule.forRoot({ type: 'postgres', autoLoadEntities: true }),",
  '  ],',
  '  controllers: [AppController],',
  '})',
  'export class AppModule {}',
  '',
].join('\n');

function appTree(
  dependencies: Record<string, string>,
  module = APP_MODULE,
): UnitTestTree {
  const tree = new UnitTestTree(Tree.empty());
  tree.create('nest-cli.json', JSON.stringify({ sourceRoot: 'src' }));
  tree.create('package.json', JSON.stringify({ name: 'app', dependencies }));
  tree.create('src/app.module.ts', module);
  return tree;
}

const BASE = { 'nestjs-etlify': '*', '@nestjs/typeorm': '*', typeorm: '*' };

async function run(
  tree: UnitTestTree,
  options: object = {},
  schematic = 'etlify-install',
) {
  const messages: string[] = [];
  const subscription = runner.logger.subscribe((entry: logging.LogEntry) =>
    messages.push(entry.message),
  );
  try {
    return {
      tree: await runner.runSchematic(schematic, options, tree),
      messages,
    };
  } finally {
    subscription.unsubscribe();
  }
}

describe('etlify-install schematic', () => {
  it('reads the token with ConfigService when @nestjs/config is a dependency', async () => {
    const { tree, messages } = await run(
      appTree({ ...BASE, '@nestjs/config': '*' }),
    );
    const module = tree.readContent('/src/app.module.ts');
    expect(module).toContain(
      "import { EtlifyModule, HubspotAdapter } from 'nestjs-etlify';",
    );
    expect(module).toContain(
      "import { ConfigModule, ConfigService } from '@nestjs/config';",
    );
    expect(module).toContain(
      [
        '  imports: [',
        "    TypeOrmModule.forRoot({ type: 'postgres', autoLoadEntities: true }),",
        '    EtlifyModule.forRootAsync({',
        '      imports: [ConfigModule],',
        '      inject: [ConfigService],',
        '      useFactory: (config: ConfigService) => ({',
        '        crms: [',
        '          {',
        "            name: 'hubspot',",
        '            adapter: new HubspotAdapter({',
        "              accessToken: config.getOrThrow<string>('HUBSPOT_TOKEN'),",
        '            }),',
        '          },',
        '        ],',
        '      }),',
        '    }),',
        '  ],',
      ].join('\n'),
    );
    expect(messages.join('\n')).toContain('ConfigModule.forRoot()');
    expect(messages.join('\n')).not.toContain('TypeORM DataSource');
  });

  it('reads process.env without @nestjs/config, and is reachable as `etlify`', async () => {
    const { tree } = await run(
      appTree(BASE),
      { tokenVariable: 'CRM_TOKEN', crm: 'sales' },
      'etlify',
    );
    const module = tree.readContent('/src/app.module.ts');
    expect(module).not.toContain('@nestjs/config');
    expect(module).toContain('useFactory: () => ({');
    expect(module).toContain("name: 'sales',");
    expect(module).toContain("accessToken: process.env.CRM_TOKEN ?? '',");
  });

  it('adds the imports array to a module without one and names what is missing', async () => {
    const bare =
      "import { Module } from '@nestjs/common';\n\n@Module({\n  providers: [],\n})\nexport class AppModule {}\n";
    const { tree, messages } = await run(
      appTree({ '@nestjs/core': '*' }, bare),
    );
    const module = tree.readContent('/src/app.module.ts');
    expect(module).toMatch(
      /providers: \[\],\n {2}imports: \[\n {4}EtlifyModule\.forRootAsync\(\{\n {6}useFactory[\s\S]*\n {4}\}\),\n {2}\],\n\}\)/,
    );
    expect(messages.join('\n')).toContain('add TypeOrmModule.forRoot');
    expect(messages.join('\n')).toContain(
      'npm install nestjs-etlify @nestjs/typeorm typeorm',
    );
  });

  it('keeps an existing @nestjs/config import and adds only the missing name', async () => {
    const withConfig = APP_MODULE.replace(
      "import { Module } from '@nestjs/common';",
      "import { Module } from '@nestjs/common';\nimport { ConfigModule } from '@nestjs/config';",
    );
    const { tree } = await run(
      appTree({ ...BASE, '@nestjs/config': '*' }, withConfig),
    );
    const module = tree.readContent('/src/app.module.ts');
    expect(module).toContain("import { ConfigService } from '@nestjs/config';");
    expect(module.match(/ConfigModule \}/g)).toHaveLength(1);
  });

  it('does nothing on a module that already uses EtlifyModule', async () => {
    const first = await run(appTree(BASE));
    const once = first.tree.readContent('/src/app.module.ts');
    const second = await run(first.tree);
    expect(second.tree.readContent('/src/app.module.ts')).toBe(once);
    expect(second.messages.join('\n')).toContain('already uses EtlifyModule');
  });

  it('in an ES module app (Nest 12) keeps every relative import ending in .js', async () => {
    const esmModule = APP_MODULE.replace(
      "from './app.controller';",
      "from './app.controller.js';",
    );
    const tree = appTree({ ...BASE, '@nestjs/config': '*' }, esmModule);
    tree.overwrite(
      'package.json',
      JSON.stringify({ name: 'app', type: 'module', dependencies: BASE }),
    );
    const { tree: out } = await run(tree, { config: true });
    const module = out.readContent('/src/app.module.ts');
    expect(module).toContain('EtlifyModule.forRootAsync({');
    const relative = [...module.matchAll(/from\s+'(\.[^']*)'/g)].map(
      (m) => m[1],
    );
    expect(relative).toEqual(['./app.controller.js']);
    // Package imports stay bare: Node resolves them through the packages' exports.
    expect(module).toContain("from 'nestjs-etlify';");
    expect(module).toContain("from '@nestjs/config';");
  });

  it('fails clearly on a missing root module or a bad option', async () => {
    await expect(
      run(appTree(BASE), { module: 'src/main.module.ts' }),
    ).rejects.toThrow(
      'Root module src/main.module.ts not found: pass --module',
    );
    await expect(run(appTree(BASE), { crm: 'Hub Spot' })).rejects.toThrow(
      /crm.*\[a-z0-9_-\]\+/,
    );
    await expect(run(appTree(BASE), { tokenVariable: 'A-B' })).rejects.toThrow(
      /tokenVariable/,
    );
  });
});
