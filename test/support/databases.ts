import { randomBytes } from 'node:crypto';
import { DataSource, DataSourceOptions } from 'typeorm';

export type Dialect = 'postgres' | 'mariadb' | 'sqlite';

export const DIALECTS: Dialect[] = ['postgres', 'mariadb', 'sqlite'];

/** A fresh, empty database (PostgreSQL schema / MariaDB database / SQLite in memory) per test run. */
export interface TestDatabase {
  dialect: Dialect;
  options: DataSourceOptions;
  drop(): Promise<void>;
}

export async function createTestDatabase(
  dialect: Dialect,
): Promise<TestDatabase> {
  const name = `etlify_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    return {
      dialect,
      options: { type: 'better-sqlite3', database: ':memory:' },
      drop: async () => undefined,
    };
  }
  if (dialect === 'postgres') {
    const base = {
      type: 'postgres' as const,
      host: process.env.PGHOST ?? '127.0.0.1',
      port: Number(process.env.PGPORT ?? 5432),
      username: process.env.PGUSER ?? 'postgres',
      database: process.env.PGDATABASE ?? 'test',
    };
    await admin({ ...base }, `CREATE SCHEMA "${name}"`);
    return {
      dialect,
      options: { ...base, schema: name },
      drop: () => admin({ ...base }, `DROP SCHEMA "${name}" CASCADE`),
    };
  }
  const base = {
    type: 'mariadb' as const,
    host: process.env.MYSQL_HOST ?? '127.0.0.1',
    port: Number(process.env.MYSQL_PORT ?? 3306),
    username: process.env.MYSQL_USER ?? 'root',
  };
  await admin({ ...base, database: 'test' }, `CREATE DATABASE \`${name}\``);
  return {
    dialect,
    options: { ...base, database: name },
    drop: () =>
      admin({ ...base, database: 'test' }, `DROP DATABASE \`${name}\``),
  };
}

async function admin(options: DataSourceOptions, sql: string): Promise<void> {
  const ds = new DataSource(options);
  await ds.initialize();
  try {
    await ds.query(sql);
  } finally {
    await ds.destroy();
  }
}
