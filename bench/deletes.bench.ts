import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CrmSynchronisation, HubspotAdapter } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase } from '../test/support/databases';
import type { RawQueue } from '../test/support/queue-driver';
import { QueuedContact, queueAppModule } from '../test/support/queue-worker';

const TRANSACTIONS = 100;

/** The HubSpot adapter without its bulk delete: every delete job is a read and a DELETE. */
class OneByOneAdapter extends HubspotAdapter {
  override batchDelete = undefined as unknown as HubspotAdapter['batchDelete'];
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * N contacts inserted and synced through the queue, then removed in 100 transactions: the
 * captured deletes go through the queue to a HubspotSandbox (190 calls / 10 s, 50 ms latency).
 * Counted from the first remove to the last state row gone: CRM calls by kind and wall time.
 */
async function run(label: string, n: number, batched: boolean) {
  const db = await createTestDatabase('postgres');
  const sandbox = new HubspotSandbox({
    tenSecondLimit: 190,
    latencyMs: 50,
    accessToken: 'bench-token',
  });
  const { baseUrl } = await sandbox.start();
  const name = `etlify_bench_${randomBytes(4).toString('hex')}`;
  const Adapter = batched ? HubspotAdapter : OneByOneAdapter;
  const app = await NestFactory.createApplicationContext(
    queueAppModule({
      db: db.options,
      synchronize: true,
      adapter: new Adapter({ accessToken: 'bench-token', baseUrl }),
      rateLimit: { maxRequests: 190, intervalMs: 10_000 },
      queue: { name },
      prefix: `etlify-bench-${name}`,
      capture: true,
    }),
    { logger: ['error'] },
  );
  const ds = app.get(DataSource);
  const states = ds.getRepository(CrmSynchronisation);
  const perTx = Math.ceil(n / TRANSACTIONS);
  const saved: QueuedContact[] = [];
  for (let i = 0; i < n; i += perTx) {
    saved.push(
      ...(await ds.transaction((manager) =>
        manager.save(
          Array.from({ length: Math.min(perTx, n - i) }, (_, j) =>
            manager.create(QueuedContact, {
              email: `d${i + j}@bench.example.com`,
              name: `Bench ${i + j}`,
            }),
          ),
        ),
      )),
    );
  }
  await waitUntil(
    'the first syncs',
    async () => (await states.countBy({ state: 'synced' })) >= n,
    600_000,
  );
  const before = sandbox.requests.length;
  const started = Date.now();
  for (let i = 0; i < saved.length; i += perTx) {
    const part = saved.slice(i, i + perTx);
    await ds.transaction((manager) => manager.remove(part));
  }
  await waitUntil(
    'the deletes',
    async () => (await states.count()) === 0,
    3_600_000,
  );
  const wall = Date.now() - started;
  const calls = sandbox.requests.slice(before);
  const count = (test: (r: (typeof calls)[number]) => boolean) =>
    calls.filter(test).length;
  const row = {
    case: label,
    records: n,
    'all deleted ms': wall,
    'records/s': Math.round((n * 1000) / wall),
    'CRM calls': calls.length,
    'batch/archive': count((r) => r.path.endsWith('/batch/archive')),
    'batch/read': count((r) => r.path.endsWith('/batch/read')),
    'GET one': count((r) => r.method === 'GET'),
    'DELETE one': count((r) => r.method === 'DELETE'),
    'calls per 10,000': Math.round((calls.length * 10_000) / n),
    '429s': sandbox.rejected429(),
    'CRM records left': sandbox.records('contacts').length,
  };
  await app.get<RawQueue>(getQueueToken(name)).obliterate({ force: true });
  await app.close();
  await sandbox.stop();
  await db.drop();
  return row;
}

export async function deletesBench(): Promise<void> {
  const n = Number(process.env.BENCH_DELETES_N ?? 10_000);
  // One by one costs two calls per record at 19 calls/s: a smaller run, scaled in the last column.
  const baselineN = Number(process.env.BENCH_DELETES_BASELINE_N ?? 500);
  const rows = [
    await run('one by one (read + DELETE), baseline', baselineN, false),
    await run('batched (batch/read + batch/archive)', n, true),
  ];
  console.log(
    `\nDeletes through the queue (removes in ${TRANSACTIONS} transactions, PostgreSQL, sandbox 190/10 s, 50 ms latency)`,
  );
  console.table(rows);
}

if (require.main === module) {
  deletesBench().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
