import { Tree } from '@angular-devkit/schematics';
import {
  SchematicTestRunner,
  UnitTestTree,
} from '@angular-devkit/schematics/testing';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  CrmAssociationState,
  CrmSynchronisation,
  EtlifyRun,
  EtlifyStaleSweep,
} from 'nestjs-etlify';
import {
  createTestDatabase,
  DIALECTS,
  TestDatabase,
} from './support/databases';
import {
  describeTables,
  loadMigration,
  packageMigrations,
} from './support/migration-shape';

/**
 * The migration the `etlify-migration` schematic writes into an app creates, on every dialect, the
 * same tables as the migrations the package ships, and tables the entities work with unchanged.
 */
describe.each(DIALECTS)('etlify-migration output on %s', (dialect) => {
  let generated: ReturnType<typeof loadMigration>;
  const databases: TestDatabase[] = [];
  const sources: DataSource[] = [];

  beforeAll(async () => {
    const runner = new SchematicTestRunner(
      'nestjs-etlify',
      join(__dirname, '../schematics/collection.json'),
    );
    const app = new UnitTestTree(Tree.empty());
    app.create('package.json', '{}');
    const tree = await runner.runSchematic(
      'etlify-migration',
      { timestamp: 1760000000000 },
      app,
    );
    generated = loadMigration(
      tree.readContent('/src/migrations/1760000000000-create-etlify-tables.ts'),
    );
  });

  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    for (const db of databases) await db.drop();
  });

  async function migrate(migrations: ReturnType<typeof loadMigration>[]) {
    const db = await createTestDatabase(dialect);
    databases.push(db);
    const ds = new DataSource({
      ...db.options,
      migrations,
      entities: [
        CrmSynchronisation,
        EtlifyStaleSweep,
        EtlifyRun,
        CrmAssociationState,
      ],
    });
    sources.push(ds);
    await ds.initialize();
    await ds.runMigrations();
    return ds;
  }

  it('creates the tables the shipped migrations create, which the entities use as they are, and drops them', async () => {
    const mine = await migrate([generated]);
    const theirs = await migrate(packageMigrations());
    const shape = await describeTables(mine);
    expect(Object.keys(shape)).toEqual([
      'crm_association_states',
      'crm_synchronisations',
      'etlify_runs',
      'etlify_stale_sweeps',
    ]);
    expect(shape.crm_synchronisations.indices.map((i) => i.name)).toEqual(
      expect.arrayContaining([
        'UQ_crm_synchronisations_record',
        'IDX_crm_synchronisations_synced',
        'IDX_crm_synchronisations_updated',
      ]),
    );
    expect(shape).toEqual(await describeTables(theirs));
    // The entities and the migrated tables agree: nothing left for TypeORM to change.
    expect((await mine.driver.createSchemaBuilder().log()).upQueries).toEqual(
      [],
    );
    const repo = mine.getRepository(CrmSynchronisation);
    const row = { crmName: 'hubspot', resourceType: 'User', resourceId: '1' };
    await repo.save(repo.create(row));
    await expect(repo.save(repo.create(row))).rejects.toThrow();
    await mine.undoLastMigration();
    expect(await describeTables(mine)).toEqual({});
  });
});
