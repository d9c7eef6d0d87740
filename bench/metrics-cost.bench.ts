import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { DataSource } from 'typeorm';
import { EtlifyModule, SyncService } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { createTestDatabase } from '../test/support/databases';
import {
  Company,
  CompanySerializer,
  User,
  UserSerializer,
} from '../test/support/fixtures';

/**
 * What metrics cost per synced record: the same bulk syncs (syncStale, inline, InMemoryCrmAdapter so
 * the CRM hides nothing) in an app booted without a MeterProvider (API no-op) and one booted with
 * the OpenTelemetry SDK, rounds alternated. Goal: ≤ 2 % more time per record.
 */
async function boot() {
  const db = await createTestDatabase('sqlite');
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...(db.options as any),
        autoLoadEntities: true,
        synchronize: true,
      }),
      TypeOrmModule.forFeature([User, Company]),
      EtlifyModule.forRoot({
        crms: [
          { name: 'hubspot', adapter: new InMemoryCrmAdapter() },
          { name: 'audit', adapter: new InMemoryCrmAdapter() },
        ],
        capture: false,
        staleSweep: false,
      }),
    ],
    providers: [UserSerializer, CompanySerializer],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  return {
    app,
    users: app.get(DataSource).getRepository(User),
    sync: app.get(SyncService),
  };
}

async function round(
  h: Awaited<ReturnType<typeof boot>>,
  n: number,
  r: number,
): Promise<number> {
  await h.users
    .createQueryBuilder()
    .update(User)
    .set({ lastName: `R${r}` })
    .execute();
  const started = process.hrtime.bigint();
  const stats = await h.sync.syncStale({ crm: 'hubspot', fullScan: true });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (stats.synced !== n)
    throw new Error(`expected ${n} synced, got ${stats.synced}`);
  return (ms * 1000) / n;
}

async function main(): Promise<void> {
  const n = Number(process.env.BENCH_N ?? 3000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
  const off = await boot();
  const provider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 1000,
      }),
    ],
  });
  metrics.setGlobalMeterProvider(provider);
  const on = await boot();
  for (const h of [off, on])
    await h.users.save(
      Array.from({ length: n }, (_, i) =>
        h.users.create({
          email: `m${i}@bench-etlify.com`,
          firstName: 'F',
          lastName: 'L',
        }),
      ),
    );
  await round(off, n, -1);
  await round(on, n, -1);
  const times = { off: [] as number[], on: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    times.off.push(await round(off, n, r));
    times.on.push(await round(on, n, r));
  }
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [a, b] = [median(times.off), median(times.on)];
  console.log(
    `\nMetrics cost per synced record (${n} records × ${rounds} rounds, syncStale inline, InMemoryCrmAdapter, SQLite)`,
  );
  console.table([
    {
      case: 'metrics off (no MeterProvider: API no-op) — baseline',
      'µs / record (median)': +a.toFixed(1),
    },
    {
      case: 'metrics on (OpenTelemetry SDK)',
      'µs / record (median)': +b.toFixed(1),
    },
  ]);
  const overhead = ((b - a) / a) * 100;
  console.log(
    `overhead: ${overhead.toFixed(2)} % (goal ≤ 2 %: ${overhead <= 2 ? 'met' : 'NOT met'})`,
  );
  await off.app.close();
  await on.app.close();
  await provider.shutdown();
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
