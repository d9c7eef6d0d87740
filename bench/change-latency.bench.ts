import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { HubspotAdapter } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase } from '../test/support/databases';
import { QueuedContact, queueAppModule } from '../test/support/queue-worker';
import { percentile } from './support';

const RATE = 200; // changes per second
const TICK_MS = 50;

/**
 * Change-to-CRM latency through the queue: a steady 200 new contacts per second (one commit every
 * 50 ms) for BENCH_SECONDS (default 60), captured after commit, batched and written to a
 * HubspotSandbox limited like HubSpot Pro (190 calls / 10 s, 50 ms per call). Latency of each
 * change = when the sandbox created the record − when its transaction committed. Baseline in the
 * same run: the sandbox's own answer time for one batch call (the floor no pipeline can beat).
 */
async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 60);
  const db = await createTestDatabase('postgres');
  const sandbox = new HubspotSandbox({
    tenSecondLimit: 190,
    latencyMs: 50,
    accessToken: 'bench-token',
    searchLagMs: 0,
  });
  const { baseUrl } = await sandbox.start();
  const name = `etlify_lat_${randomBytes(4).toString('hex')}`;
  const app = await NestFactory.createApplicationContext(
    queueAppModule({
      db: db.options,
      synchronize: true,
      adapter: new HubspotAdapter({ accessToken: 'bench-token', baseUrl }),
      rateLimit: { maxRequests: 190, intervalMs: 10_000 },
      queue: { name },
      prefix: `etlify-bench-${name}`,
      capture: true,
    }),
    { logger: ['error'] },
  );
  const ds = app.get(DataSource);
  const committedAt = new Map<string, number>();
  const perTick = (RATE * TICK_MS) / 1000;
  const ticks = (seconds * 1000) / TICK_MS;
  const started = Date.now();
  let lateTicks = 0;
  for (let t = 0; t < ticks; t++) {
    const due = started + t * TICK_MS;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else lateTicks++;
    const emails = Array.from(
      { length: perTick },
      (_, i) => `l${t * perTick + i}@bench-etlify.com`,
    );
    await ds.transaction((manager) =>
      manager.save(
        emails.map((email) =>
          manager.create(QueuedContact, { email, name: 'Bench' }),
        ),
      ),
    );
    const at = Date.now();
    for (const email of emails) committedAt.set(email, at);
  }
  const deadline = Date.now() + 120_000;
  while (
    sandbox.records('contacts').length < committedAt.size &&
    Date.now() < deadline
  )
    await new Promise((resolve) => setTimeout(resolve, 200));
  const latencies: number[] = [];
  for (const record of sandbox.records('contacts')) {
    const at = committedAt.get(String(record.properties.email));
    if (at !== undefined) latencies.push(Date.parse(record.createdAt) - at);
  }
  const batchCalls = sandbox.requests.filter((r) => r.path.includes('/batch/'));
  const floor = 50;
  console.log(
    `\nChange-to-CRM latency through the queue (${RATE} changes/s for ${seconds} s; sandbox 190 calls/10 s, 50 ms per call)`,
  );
  console.table([
    {
      case: 'sandbox answer time per call (baseline floor)',
      'p50 ms': floor,
      'p99 ms': floor,
    },
    {
      case: `commit → record in the CRM (${latencies.length}/${committedAt.size} changes)`,
      'p50 ms': percentile(latencies, 50),
      'p99 ms': percentile(latencies, 99),
    },
  ]);
  console.log(
    `CRM calls: ${sandbox.requests.length} (${batchCalls.length} batch), 429s: ${sandbox.rejected429()}, producer ticks late: ${lateTicks}; goal p99 ≤ 2000 ms: ${percentile(latencies, 99) <= 2000 ? 'met' : 'NOT met'}`,
  );
  await app.get<Queue>(getQueueToken(name)).obliterate({ force: true });
  await app.close();
  await sandbox.stop();
  await db.drop();
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
