import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import {
  Column,
  DataSource,
  Entity,
  Index,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmRegistry,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifyModule,
  EtlifyStaleSweep,
  NullAdapter,
} from '../lib/index';
import { StaleRecordFinder } from '../lib/stale/stale-record.finder';

/**
 * PostgreSQL, 1,000,000 users with 3,000,000 investments (has-many dependency), 1 % stale:
 * the finder (full scan and incremental sweep) beside the original gem's query on the same data,
 * each in its own process so its peak RSS is its own. The dataset is kept in schema
 * `etlify_bench_stale` and reused when present.
 */
const SCHEMA = 'etlify_bench_stale';
const USERS = Number(process.env.BENCH_STALE_USERS ?? 1_000_000);
const PER_USER = 3;
const SYNCED_AT = '2026-01-01 00:00:00';
const MARK = '2026-01-15 00:00:00';
const CHANGED_AT = '2026-02-01 00:00:00';
const BATCH = 1000;

class BenchUserSerializer {
  readonly version = 1;
  toCrmPayload(user: BenchUser) {
    return { email: user.email };
  }
}

@Entity('users')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: BenchUserSerializer,
  crmObjectType: 'contacts',
  dependencies: ['investments'],
})
export class BenchUser {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @OneToMany(() => BenchInvestment, (i) => i.user) investments!: unknown[];
  @Index() @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('investments')
export class BenchInvestment {
  @PrimaryGeneratedColumn() id!: number;
  @Index() @ManyToOne(() => BenchUser, (u) => u.investments) user!: BenchUser;
  @Column({ type: 'integer' }) amount!: number;
  @Index() @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

const pgOptions = {
  type: 'postgres' as const,
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  username: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
  schema: SCHEMA,
};
const ENTITIES = [
  BenchUser,
  BenchInvestment,
  CrmSynchronisation,
  EtlifyStaleSweep,
];

/** The gem's shape: one correlated MAX per dependency, every id returned at once. */
const GEM_QUERY = `SELECT users.id FROM ${SCHEMA}.users
LEFT JOIN ${SCHEMA}.crm_synchronisations cs ON cs.resource_type = 'BenchUser' AND cs.resource_id = users.id::varchar AND cs.crm_name = 'hubspot'
WHERE (cs.id IS NULL OR COALESCE(cs.last_synced_at, 'epoch') < GREATEST(COALESCE(users.updated_at, 'epoch'),
  COALESCE((SELECT MAX(i.updated_at) FROM ${SCHEMA}.investments i WHERE i."userId" = users.id), 'epoch')))
AND (cs.id IS NULL OR COALESCE(cs.error_count, 0) < 3)
ORDER BY users.id`;

async function ensureDataset(): Promise<void> {
  const admin = new DataSource({ ...pgOptions, schema: undefined });
  await admin.initialize();
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  await admin.destroy();
  const ds = new DataSource({
    ...pgOptions,
    entities: ENTITIES,
    synchronize: true,
  });
  await ds.initialize();
  try {
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.users`,
    );
    // The index the incremental sweep needs on the state table (README, "Stale records");
    // synchronize drops indexes the entities do not declare, so it is made again on each run.
    await ds.query(
      `CREATE INDEX IF NOT EXISTS "IDX_bench_state_updated" ON ${SCHEMA}.crm_synchronisations (crm_name, resource_type, updated_at)`,
    );
    if (n === USERS) return;
    console.log(
      `generating ${USERS} users, ${USERS * PER_USER} investments in ${SCHEMA} (kept for later runs)...`,
    );
    await ds.query(
      `TRUNCATE ${SCHEMA}.investments, ${SCHEMA}.users, ${SCHEMA}.crm_synchronisations, ${SCHEMA}.etlify_stale_sweeps RESTART IDENTITY CASCADE`,
    );
    await ds.query(
      `INSERT INTO ${SCHEMA}.users (email, updated_at) SELECT 'u' || g || '@bench-etlify.com', timestamp '2025-01-01' + (g % 300) * interval '1 day' FROM generate_series(1, ${USERS}) g`,
    );
    await ds.query(
      `INSERT INTO ${SCHEMA}.investments ("userId", amount, updated_at) SELECT 1 + (g % ${USERS}), g % 1000, timestamp '2025-01-01' + (g % 300) * interval '1 day' FROM generate_series(1, ${USERS * PER_USER}) g`,
    );
    await ds.query(
      `INSERT INTO ${SCHEMA}.crm_synchronisations (crm_name, resource_type, resource_id, crm_id, last_digest, last_synced_at, error_count, state, serializer_version, created_at, updated_at)
       SELECT 'hubspot', 'BenchUser', g::varchar, g::varchar, 'digest', '${SYNCED_AT}', 0, 'synced', 1, '${SYNCED_AT}', '${SYNCED_AT}' FROM generate_series(1, ${USERS}) g`,
    );
    // 1 % stale: 0.4 % changed themselves, 0.4 % through an investment, 0.2 % new (no state row).
    await ds.query(
      `UPDATE ${SCHEMA}.users SET updated_at = '${CHANGED_AT}' WHERE id % 250 = 1`,
    );
    await ds.query(
      `UPDATE ${SCHEMA}.investments SET updated_at = '${CHANGED_AT}' WHERE id IN (SELECT min(id) FROM ${SCHEMA}.investments WHERE "userId" % 250 = 2 GROUP BY "userId")`,
    );
    await ds.query(
      `UPDATE ${SCHEMA}.users SET updated_at = '${CHANGED_AT}' WHERE id % 500 = 3`,
    );
    await ds.query(
      `DELETE FROM ${SCHEMA}.crm_synchronisations WHERE resource_type = 'BenchUser' AND resource_id::int % 500 = 3`,
    );
    await ds.query(
      `INSERT INTO ${SCHEMA}.etlify_stale_sweeps (sweep_key, high_water_mark, serializer_version, full_scan_at) VALUES ('hubspot:BenchUser', '${MARK}', 1, now())`,
    );
    await ds.query(`VACUUM ANALYZE ${SCHEMA}.users`);
    await ds.query(`VACUUM ANALYZE ${SCHEMA}.investments`);
    await ds.query(`VACUUM ANALYZE ${SCHEMA}.crm_synchronisations`);
  } finally {
    await ds.destroy();
  }
}

interface VariantResult {
  variant: string;
  ids: number;
  checksum: string;
  ms: number;
  rssMb: number;
  rssGrowthMb: number;
}

/** Runs in a child process: one variant, then prints its figures as JSON. */
async function runVariant(variant: string): Promise<VariantResult> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...pgOptions,
        entities: ENTITIES,
        synchronize: false,
      }),
      EtlifyModule.forRoot({
        crms: [{ name: 'hubspot', adapter: new NullAdapter() }],
        capture: false,
        staleSweep: false,
      }),
    ],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  let ids = 0;
  let sum = 0n;
  // RSS sampled while the query runs: the process's own baseline (Nest, TypeORM, ts-node) apart.
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }, 5);
  const started = process.hrtime.bigint();
  if (variant === 'gem') {
    const rows: Array<{ id: number }> = await app
      .get(DataSource)
      .query(GEM_QUERY);
    ids = rows.length;
    for (const row of rows) sum += BigInt(row.id);
  } else {
    const finder = app.get(StaleRecordFinder);
    const config = app.get(CrmRegistry).getEntityConfig(BenchUser, 'hubspot');
    const since = variant === 'incremental' ? new Date(`${MARK}Z`) : null;
    for await (const page of finder.pages(config, {
      batchSize: BATCH,
      since,
    })) {
      ids += page.length;
      for (const id of page) sum += BigInt(id);
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  await app.close();
  return {
    variant,
    ids,
    checksum: sum.toString(),
    ms,
    rssMb: process.resourceUsage().maxRSS / 1024,
    rssGrowthMb: (rssPeak - rssBefore) / 1024 / 1024,
  };
}

/**
 * The measured processes run this file compiled to JavaScript (imports are relative for that), so
 * their RSS is the finder's and not the TypeScript compiler's.
 */
const BUILD_DIR = join(
  __dirname,
  '..',
  'node_modules',
  '.cache',
  'etlify-bench',
);

function compile(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '--outDir',
        BUILD_DIR,
        '--rootDir',
        join(__dirname, '..'),
        '--module',
        'commonjs',
        '--target',
        'ES2022',
        '--moduleResolution',
        'node',
        '--experimentalDecorators',
        '--emitDecoratorMetadata',
        '--esModuleInterop',
        '--skipLibCheck',
        '--useDefineForClassFields',
        'false',
        '--types',
        'node',
        join(__dirname, 'stale-finder.bench.ts'),
      ],
      (error, stdout) =>
        error ? reject(new Error(`tsc: ${stdout}`)) : resolve(),
    );
  });
}

function child(variant: string): Promise<VariantResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(BUILD_DIR, 'bench', 'stale-finder.bench.js'), variant],
      { env: process.env, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error)
          return reject(new Error(`${variant}: ${stderr || error.message}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

export async function staleFinderBench(): Promise<void> {
  await ensureDataset();
  await compile();
  // A warm-up run of each, then the measured one, so both see a warm cache.
  const rows: Array<Record<string, string | number>> = [];
  let gem: VariantResult | undefined;
  for (const variant of ['gem', 'full', 'incremental']) {
    await child(variant);
    const result = await child(variant);
    gem ??= result;
    rows.push({
      case:
        variant === 'gem'
          ? 'gem query (correlated MAX, all ids at once)'
          : `etlify finder, ${variant} scan (pages of ${BATCH})`,
      ids: result.ids,
      'same ids as gem':
        result.checksum === gem.checksum && result.ids === gem.ids
          ? 'yes'
          : 'NO',
      ms: Math.round(result.ms),
      'speed-up': +(gem.ms / result.ms).toFixed(1),
      'peak RSS MB': Math.round(result.rssMb),
      'RSS growth during query MB': +result.rssGrowthMb.toFixed(1),
    });
  }
  console.log(
    `\nStale finder on PostgreSQL: ${USERS} users, ${USERS * PER_USER} investments, 1 % stale`,
  );
  console.table(rows);
}

if (require.main === module) {
  const variant = process.argv[2];
  const run = variant
    ? runVariant(variant).then((r) => console.log(JSON.stringify(r)))
    : staleFinderBench();
  run.then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
