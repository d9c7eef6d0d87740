import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, Dialect, TestDatabase } from './databases';

/**
 * Like createTestDatabase, but SQLite lives in a temporary file so that several apps (or a CLI
 * child process) can open the same database, and an app can be restarted on it.
 */
export async function createSharedTestDatabase(
  dialect: Dialect,
): Promise<TestDatabase> {
  if (dialect !== 'sqlite') return createTestDatabase(dialect);
  const dir = mkdtempSync(join(tmpdir(), 'etlify-stale-'));
  return {
    dialect,
    options: { type: 'better-sqlite3', database: join(dir, 'test.sqlite') },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}
