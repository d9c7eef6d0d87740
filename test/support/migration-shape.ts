import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, MigrationInterface } from 'typeorm';
import * as ts from 'typescript';

type MigrationClass = new () => MigrationInterface;

/** Every migration the package ships (lib/migrations), oldest first, so a new one is never left out. */
export function packageMigrations(): MigrationClass[] {
  const folder = join(__dirname, '../../lib/migrations');
  return readdirSync(folder)
    .filter((file) => file.endsWith('.migration.ts'))
    .flatMap((file) =>
      Object.values(
        // Loaded by file name so that a migration added later is compared too.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(join(folder, file)) as Record<string, MigrationClass>,
      ),
    )
    .sort((a, b) => timestampOf(a) - timestampOf(b));
}

function timestampOf(migration: MigrationClass): number {
  return Number(/(\d{13})$/.exec(migration.name)?.[1] ?? 0);
}

/** Compiles a generated migration's TypeScript and returns the class it exports. */
export function loadMigration(source: string): MigrationClass {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
    },
  });
  const module = {
    exports: {} as Record<string, new () => MigrationInterface>,
  };
  new Function('module', 'exports', 'require', outputText)(
    module,
    module.exports,
    require,
  );
  const classes = Object.values(module.exports);
  if (classes.length !== 1)
    throw new Error(`expected one exported migration, got ${classes.length}`);
  return classes[0];
}

/** A table as TypeORM reads it back from the database, in a form two runs can be compared by. */
export async function describeTable(ds: DataSource, table: string) {
  const runner = ds.createQueryRunner();
  try {
    const found = await runner.getTable(table);
    if (!found) throw new Error(`table ${table} was not created`);
    return {
      columns: found.columns.map((c) => ({
        name: c.name,
        type: c.type,
        length: c.length,
        precision: c.precision,
        nullable: c.isNullable,
        default: c.default,
        onUpdate: c.onUpdate,
        primary: c.isPrimary,
        generated: c.isGenerated,
      })),
      indices: found.indices
        .map((i) => ({
          name: i.name,
          columns: i.columnNames,
          unique: i.isUnique,
        }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    };
  } finally {
    await runner.release();
  }
}

/** Every table of the DataSource's schema/database but TypeORM's own migrations table, described. */
export async function describeTables(ds: DataSource) {
  const type = ds.options.type;
  const rows: Array<{ name: string }> =
    type === 'postgres'
      ? await ds.query(
          'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1',
          [(ds.driver as { schema?: string }).schema ?? 'public'],
        )
      : type === 'mysql' || type === 'mariadb'
        ? await ds.query(
            'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
          )
        : await ds.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
          );
  const names = rows
    .map((row) => row.name ?? (row as Record<string, string>).NAME)
    .filter((name) => name !== 'migrations')
    .sort();
  const tables: Record<string, Awaited<ReturnType<typeof describeTable>>> = {};
  for (const name of names) tables[name] = await describeTable(ds, name);
  return tables;
}
