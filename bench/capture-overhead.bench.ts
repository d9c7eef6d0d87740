import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule, getQueueToken } from '@nestjs/bull';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  EtlifyModule,
  EtlifyModuleOptions,
  NullAdapter,
  SyncService,
} from 'nestjs-etlify';
import { createTestDatabase, Dialect } from '../test/support/databases';
import {
  Company,
  CompanySerializer,
  User,
  UserSerializer,
} from '../test/support/fixtures';
import { percentile } from './support';

type Mode = 'off' | 'queue' | 'inline';

const REPLICAS = 2;

const REDIS = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};

interface Subject {
  mode: Mode;
  save(i: number): Promise<unknown>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** One app per mode, each on its own fresh database (schema / in-memory SQLite). */
async function start(dialect: Dialect, mode: Mode): Promise<Subject> {
  const db = await createTestDatabase(dialect);
  const name = `etlify_bench_${randomBytes(4).toString('hex')}`;
  const etlify: EtlifyModuleOptions = {
    crms: [
      // NullAdapter keeps nothing in memory, so a growing heap does not skew later samples.
      { name: 'hubspot', adapter: new NullAdapter() },
      { name: 'audit', adapter: new NullAdapter() },
    ],
    capture: mode !== 'off',
    staleSweep: false,
    // Producer only: the cost measured is capture's, not a worker's competing for the CPU.
    queue: mode === 'queue' ? { name, processors: false } : false,
  };
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...(db.options as any),
        autoLoadEntities: true,
        synchronize: true,
      }),
      TypeOrmModule.forFeature([User, Company]),
      ...(mode === 'queue'
        ? [BullModule.forRoot({ redis: REDIS, prefix: `bench-${name}` })]
        : []),
      EtlifyModule.forRoot(etlify),
    ],
    providers: [UserSerializer, CompanySerializer],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  const users = app.get(DataSource).getRepository(User);
  const sync = app.get(SyncService);
  return {
    mode,
    save: (i) =>
      users.save(
        users.create({
          email: `u${i}@bench-etlify.com`,
          firstName: 'F',
          lastName: 'L',
        }),
      ),
    idle: () => sync.idle(),
    close: async () => {
      if (mode === 'queue')
        await app.get<Queue>(getQueueToken(name)).obliterate({ force: true });
      await app.close();
      await db.drop();
    },
  };
}

/**
 * Time of `repository.save()` (one insert in its own transaction) without capture, with capture
 * feeding a Bull queue, and with capture syncing inline after the commit. The apps take turns
 * sample by sample (in random order), so drift (JIT, GC, disk) hits them alike. Only save() is
 * timed; what capture deferred is drained (`SyncService.idle()`) between samples, never during one.
 */
async function run(dialect: Dialect, n: number) {
  const subjects: Subject[] = [];
  // Two apps per mode, samples pooled: one app's luck (memory layout, its database) averages out.
  for (let replica = 0; replica < REPLICAS; replica++)
    for (const mode of ['off', 'queue', 'inline'] as Mode[])
      subjects.push(await start(dialect, mode));
  const samples = new Map<Mode, number[]>(subjects.map((s) => [s.mode, []]));
  for (let i = -200; i < n / REPLICAS; i++) {
    // A fresh random order each round: no mode always follows the same neighbour (a queue
    // sample leaves Redis replies in flight that would otherwise always land on the same one).
    const order = shuffle(subjects);
    for (const subject of order) {
      const began = process.hrtime.bigint();
      await subject.save(i);
      const ms = Number(process.hrtime.bigint() - began) / 1e6;
      await subject.idle();
      // Let I/O the drained work left behind settle before the next sample starts.
      await new Promise((resolve) => setTimeout(resolve, 1));
      // The first 200 rounds warm up the JIT, pools and metadata caches.
      if (i >= 0) samples.get(subject.mode)!.push(ms);
    }
  }
  for (const subject of subjects) await subject.close();
  const base50 = percentile(samples.get('off')!, 50);
  return [
    row(
      `${dialect}: save(), capture off (baseline)`,
      samples.get('off')!,
      base50,
    ),
    row(
      `${dialect}: save(), capture → Bull queue`,
      samples.get('queue')!,
      base50,
    ),
    row(
      `${dialect}: save(), capture → inline after commit`,
      samples.get('inline')!,
      base50,
    ),
  ];
}

export async function captureOverheadBench(): Promise<void> {
  const n = Number(process.env.BENCH_N ?? 2000);
  const rows = [...(await run('postgres', n)), ...(await run('sqlite', n))];
  console.log(
    `\nCapture overhead on save() (${n} inserts per case, one transaction per save)`,
  );
  console.table(rows);
}

function shuffle<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

function row(label: string, samples: number[], base50: number) {
  const p50 = percentile(samples, 50);
  return {
    case: label,
    n: samples.length,
    'p50 ms': +p50.toFixed(3),
    'p99 ms': +percentile(samples, 99).toFixed(3),
    'p50 vs baseline': `${p50 >= base50 ? '+' : ''}${(((p50 - base50) / base50) * 100).toFixed(1)} %`,
  };
}

if (require.main === module) {
  captureOverheadBench().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
