import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  CrmSynchronisation,
  EtlifyQueueDriver,
  HubspotAdapter,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase } from '../test/support/databases';
import type { RawQueue } from '../test/support/queue-driver';
import { QueuedContact, queueAppModule } from '../test/support/queue-worker';

const TRANSACTIONS = 100;

/**
 * End to end: N inserts committed in 100 transactions, captured after commit, queued, batched and
 * written to a HubspotSandbox (190 calls / 10 s, 50 ms latency) through the HubspotAdapter.
 * Baseline in the same run: the same inserts with capture off (database time only). The queue runs
 * once on each driver (Bull, BullMQ), the same workload in the same process.
 */
async function run(
  capture: boolean,
  n: number,
  driver: EtlifyQueueDriver,
  producerOnly = false,
) {
  const db = await createTestDatabase('postgres');
  const sandbox = new HubspotSandbox({
    tenSecondLimit: 190,
    latencyMs: 50,
    accessToken: 'bench-token',
  });
  const { baseUrl } = await sandbox.start();
  const name = `etlify_bench_${randomBytes(4).toString('hex')}`;
  const app = await NestFactory.createApplicationContext(
    queueAppModule({
      db: db.options,
      synchronize: true,
      adapter: new HubspotAdapter({ accessToken: 'bench-token', baseUrl }),
      rateLimit: { maxRequests: 190, intervalMs: 10_000 },
      queue: { name, processors: !producerOnly },
      prefix: `etlify-bench-${name}`,
      capture,
      driver,
    }),
    { logger: ['error'] },
  );
  const ds = app.get(DataSource);
  const states = ds.getRepository(CrmSynchronisation);
  // Every SQL statement of this process from here on (inserts, capture, worker, the polling below).
  const probe = ds.createQueryRunner();
  const proto = Object.getPrototypeOf(probe) as {
    query: (...a: unknown[]) => unknown;
  };
  await probe.release();
  const query = proto.query;
  let statements = 0;
  let polls = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    statements++;
    return query.apply(this, args);
  };
  const perTx = n / TRANSACTIONS;
  const started = Date.now();
  for (let t = 0; t < TRANSACTIONS; t++) {
    await ds.transaction((manager) =>
      manager.save(
        Array.from({ length: perTx }, (_, i) =>
          manager.create(QueuedContact, {
            email: `b${t * perTx + i}@bench-etlify.com`,
            name: `Bench ${t * perTx + i}`,
          }),
        ),
      ),
    );
  }
  const committed = Date.now() - started;
  let row: Record<string, string | number> = {
    case: !capture
      ? 'inserts only (baseline)'
      : producerOnly
        ? `capture + ${driver === 'bullmq' ? 'BullMQ' : 'Bull'}, producer only`
        : `capture + ${driver === 'bullmq' ? 'BullMQ' : 'Bull'} → sandbox`,
    records: n,
    'commits ms': committed,
  };
  if (capture && producerOnly) {
    // Everything captured is in the queue: the producer's whole cost.
    await app.get(SyncService).idle();
    row['all enqueued ms'] = Date.now() - started;
  } else if (capture) {
    for (;;) {
      polls++;
      const synced = await states.countBy({ state: 'synced' });
      if (synced >= n) break;
      if (Date.now() - started > 300_000)
        throw new Error(`only ${synced}/${n} synced after 300 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const wall = Date.now() - started;
    const writes = sandbox.requests.filter(
      (r) =>
        r.method === 'POST' &&
        /\/batch\/(upsert|create|update)$/.test(r.path) &&
        r.status < 300,
    );
    const records = sandbox.records('contacts');
    const emails = new Set(records.map((r) => r.properties.email));
    row = {
      ...row,
      'all in CRM ms': wall,
      'records/s': Math.round((n * 1000) / wall),
      'CRM write calls': writes.length,
      'records per call': +(
        writes.reduce((sum, r) => sum + (r.bodyInputs ?? 0), 0) / writes.length
      ).toFixed(1),
      'HTTP calls': sandbox.requests.length,
      '429s': sandbox.rejected429(),
      duplicates: records.length - emails.size,
      'CRM records': records.length,
    };
  }
  proto.query = query;
  // Less the inserts' own statements (the baseline has the same) and this loop's polls.
  row['SQL statements'] = statements - polls;
  await app.get<RawQueue>(getQueueToken(name)).obliterate({ force: true });
  await app.close();
  await sandbox.stop();
  await db.drop();
  return row;
}

export async function queueE2eBench(): Promise<void> {
  const n = Number(process.env.BENCH_QUEUE_N ?? 10_000);
  const rows = [
    await run(false, n, 'bull'),
    await run(true, n, 'bull', true),
    await run(true, n, 'bull'),
    await run(true, n, 'bullmq', true),
    await run(true, n, 'bullmq'),
  ];
  const base = Number(rows[0]['SQL statements']);
  for (const row of rows.slice(1)) {
    row['commits vs baseline'] = `${Math.round(
      ((Number(row['commits ms']) - Number(rows[0]['commits ms'])) * 100) /
        Number(rows[0]['commits ms']),
    )}%`;
    row['SQL per record (sync)'] = +(
      (Number(row['SQL statements']) - base) /
      n
    ).toFixed(2);
  }
  console.log(
    `\nQueue end to end (${n} inserts in ${TRANSACTIONS} transactions, PostgreSQL, sandbox 190/10 s, 50 ms latency)`,
  );
  console.table(rows);
}

if (require.main === module) {
  queueE2eBench().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
