import { Tree } from '@angular-devkit/schematics';
import {
  SchematicTestRunner,
  UnitTestTree,
} from '@angular-devkit/schematics/testing';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  describeTables,
  loadMigration,
  packageMigrations,
} from '../../test/support/migration-shape';

const runner = new SchematicTestRunner(
  'nestjs-etlify',
  join(__dirname, '..', 'collection.json'),
);

function appTree(): UnitTestTree {
  const tree = new UnitTestTree(Tree.empty());
  tree.create('nest-cli.json', JSON.stringify({ sourceRoot: 'src' }));
  tree.create('package.json', '{}');
  return tree;
}

describe('etlify-migration schematic', () => {
  it('creates a timestamped TypeORM migration in src/migrations', async () => {
    const tree = await runner.runSchematic(
      'etlify-migration',
      { timestamp: 1760000000000 },
      appTree(),
    );
    expect(tree.files).toEqual([
      '/nest-cli.json',
      '/package.json',
      '/src/migrations/1760000000000-create-etlify-tables.ts',
    ]);
    const content = tree.readContent(
      '/src/migrations/1760000000000-create-etlify-tables.ts',
    );
    expect(content).toContain(
      'export class CreateEtlifyTables1760000000000 implements MigrationInterface {',
    );
    expect(content).toContain("name = 'CreateEtlifyTables1760000000000';");
    expect(content).toContain(
      "const SYNC_STATE_TABLE = 'crm_synchronisations';",
    );
    expect(content).not.toContain('<%');
  });

  it('honours --path, a name and the default timestamp (now)', async () => {
    const before = Date.now();
    const tree = await runner.runSchematic(
      'etlify-migration',
      { name: 'EtlifyState', path: 'database/migrations' },
      appTree(),
    );
    const file = tree.files.find((f) =>
      f.startsWith('/src/database/migrations/'),
    )!;
    const match = /\/(\d+)-etlify-state\.ts$/.exec(file);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(before);
    expect(tree.readContent(file)).toContain(
      `export class EtlifyState${match![1]} implements`,
    );
  });

  it('writes into the folder where the app keeps its migrations', async () => {
    const app = appTree();
    app.create('src/database/migrations/1700000000000-init.ts', '');
    const tree = await runner.runSchematic(
      'etlify-migration',
      { timestamp: 1760000000000 },
      app,
    );
    expect(tree.files).toContain(
      '/src/database/migrations/1760000000000-create-etlify-tables.ts',
    );
  });

  it('in an ES module app imports only the typeorm package (nothing relative to suffix)', async () => {
    const app = appTree();
    app.overwrite('package.json', JSON.stringify({ type: 'module' }));
    const tree = await runner.runSchematic(
      'etlify-migration',
      { timestamp: 1760000000000 },
      app,
    );
    const content = tree.readContent(
      '/src/migrations/1760000000000-create-etlify-tables.ts',
    );
    expect([...content.matchAll(/from\s+'([^']*)'/g)].map((m) => m[1])).toEqual(
      ['typeorm'],
    );
  });

  it('rejects a bad timestamp with a clear error', async () => {
    await expect(
      runner.runSchematic('etlify-migration', { timestamp: -1 }, appTree()),
    ).rejects.toThrow(/timestamp.*positive integer/);
  });

  it('creates the same tables and indexes as the migrations the package ships (SQLite), and drops them', async () => {
    const tree = await runner.runSchematic(
      'etlify-migration',
      { timestamp: 1760000000000 },
      appTree(),
    );
    const generated = loadMigration(
      tree.readContent('/src/migrations/1760000000000-create-etlify-tables.ts'),
    );
    const shapes = [];
    for (const migrations of [[generated], packageMigrations()]) {
      const ds = new DataSource({
        type: 'better-sqlite3',
        database: ':memory:',
        migrations,
      });
      await ds.initialize();
      try {
        await ds.runMigrations();
        shapes.push(await describeTables(ds));
        for (let i = 0; i < migrations.length; i++) {
          await ds.undoLastMigration();
        }
        expect(await describeTables(ds)).toEqual({});
      } finally {
        await ds.destroy();
      }
    }
    expect(Object.keys(shapes[0])).toEqual(
      expect.arrayContaining(['crm_synchronisations', 'etlify_stale_sweeps']),
    );
    expect(shapes[0]).toEqual(shapes[1]);
  });
});
