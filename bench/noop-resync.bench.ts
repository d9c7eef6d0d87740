import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Column,
  DataSource,
  Entity,
  MoreThan,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifyModule,
  EtlifyStaleSweep,
  SyncService,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';

/**
 * No-op resync on PostgreSQL: 100,000 synced records whose update time was touched but whose
 * payload did not change, swept inline. Beside it, in the same run, the raw cost of reading the
 * same rows in pages of 1000 with TypeORM.
 */
const SCHEMA = 'etlify_bench_noop';
const N = Number(process.env.BENCH_NOOP_N ?? 100_000);
const BATCH = 1000;

class BenchContactSerializer {
  readonly version = 1;
  toCrmPayload(contact: BenchContact) {
    return { email: contact.email, firstname: contact.firstName };
  }
}

@Entity('contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: BenchContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
class BenchContact {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ name: 'first_name', type: 'varchar', length: 100 })
  firstName!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

const pgOptions = {
  type: 'postgres' as const,
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  username: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
};

export async function noopResyncBench(): Promise<void> {
  const admin = new DataSource(pgOptions);
  await admin.initialize();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  await admin.destroy();

  const crm = new InMemoryCrmAdapter();
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...pgOptions,
        schema: SCHEMA,
        entities: [BenchContact, CrmSynchronisation, EtlifyStaleSweep],
        synchronize: true,
      }),
      EtlifyModule.forRoot({
        crms: [{ name: 'hubspot', adapter: crm }],
        capture: false,
        staleSweep: false,
      }),
    ],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  const ds = app.get(DataSource);
  const sync = app.get(SyncService);
  await ds.query(
    `INSERT INTO ${SCHEMA}.contacts (email, first_name, updated_at) SELECT 'c' || g || '@bench-etlify.com', 'F' || g, timestamp '2025-01-01' FROM generate_series(1, ${N}) g`,
  );
  const first = await sync.syncStale({ batchSize: BATCH });
  if (first.synced !== N)
    throw new Error(`setup: synced ${first.synced} of ${N}`);
  // Every record looks changed to the finder; none to the digest guard.
  await ds.query(`UPDATE ${SCHEMA}.contacts SET updated_at = now()`);
  await ds.query(`VACUUM ANALYZE ${SCHEMA}.contacts`);
  await ds.query(`VACUUM ANALYZE ${SCHEMA}.crm_synchronisations`);

  const repo = ds.getRepository(BenchContact);
  let start = process.hrtime.bigint();
  let read = 0;
  for (let after = 0; ;) {
    const page = await repo.find({
      where: { id: MoreThan(after) },
      order: { id: 'ASC' },
      take: BATCH,
    });
    if (!page.length) break;
    read += page.length;
    after = page[page.length - 1].id;
  }
  const baselineMs = Number(process.hrtime.bigint() - start) / 1e6;

  const callsBefore = crm.callCount();
  start = process.hrtime.bigint();
  const stats = await sync.syncStale({
    batchSize: BATCH,
    fullScan: true,
  } as Parameters<SyncService['syncStale']>[0]);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const calls = crm.callCount() - callsBefore;
  await app.close();

  console.log(
    `\nNo-op resync on PostgreSQL: ${N} synced records, update time touched, payload unchanged (InMemoryCrmAdapter)`,
  );
  console.table([
    {
      case: `baseline: TypeORM read of the same rows, pages of ${BATCH}`,
      records: read,
      ms: Math.round(baselineMs),
      'records/s': Math.round(read / (baselineMs / 1000)),
      'CRM calls': '-',
    },
    {
      case: `syncStale inline (finder + load + digest guard), pages of ${BATCH}`,
      records: stats.total,
      ms: Math.round(ms),
      'records/s': Math.round(stats.total / (ms / 1000)),
      'CRM calls': calls,
      'not modified': stats.notModified ?? 0,
    },
  ]);
}

if (require.main === module) {
  noopResyncBench().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
