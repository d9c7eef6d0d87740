import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EtlifyModule, SyncService } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { createTestDatabase, Dialect } from '../test/support/databases';
import {
  Company,
  CompanySerializer,
  User,
  UserSerializer,
} from '../test/support/fixtures';
import { summary, timeEach } from './support';

/**
 * Library overhead of one inline sync against InMemoryCrmAdapter, beside the raw cost of
 * `repository.findOneBy` for the same entity in the same run.
 */
async function run(dialect: Dialect, n: number) {
  const db = await createTestDatabase(dialect);
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
  const users = app.get(DataSource).getRepository(User);
  const sync = app.get(SyncService);
  const saved = await users.save(
    Array.from({ length: n }, (_, i) =>
      users.create({
        email: `u${i}@bench-etlify.com`,
        firstName: 'F',
        lastName: 'L',
      }),
    ),
  );
  const rows = [
    summary(
      `${dialect}: repository.findOneBy (baseline)`,
      await timeEach(n, (i) => users.findOneBy({ id: saved[i].id })),
    ),
    summary(
      `${dialect}: first sync (create)`,
      await timeEach(n, (i) => sync.sync(saved[i], { crm: 'hubspot' })),
    ),
    summary(
      `${dialect}: resync, not_modified`,
      await timeEach(n, (i) => sync.sync(saved[i], { crm: 'hubspot' })),
    ),
  ];
  await app.close();
  await db.drop();
  return rows;
}

export async function inlineSyncBench(): Promise<void> {
  const n = Number(process.env.BENCH_N ?? 2000);
  const rows = [...(await run('postgres', n)), ...(await run('sqlite', n))];
  console.log(`\nInline sync overhead (${n} records, InMemoryCrmAdapter)`);
  console.table(rows);
}

if (require.main === module) {
  inlineSyncBench().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
