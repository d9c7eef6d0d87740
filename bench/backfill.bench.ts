import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { execFile } from 'node:child_process';
import {
  Column,
  DataSource,
  DataSourceOptions,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifyModule,
  EtlifySerializer,
  EtlifyStaleSweep,
  HubspotAdapter,
  SyncService,
} from '../lib/index';
import { HubspotSandbox } from '../lib/testing/index';
import { createTestDatabase } from '../test/support/databases';

/**
 * Inline backfill: `syncStale()` of N new contacts (no state rows yet) on PostgreSQL into a
 * HubspotSandbox at 190 calls / 10 s with 50 ms latency, through the HubspotAdapter and its rate
 * governor. Baseline in the same run: `concurrency: 1` (one batch call at a time, as before the
 * pipeline). Each case runs in its own process so its peak RSS is its own.
 */
const N = Number(process.env.BENCH_BACKFILL_N ?? 100_000);
const CRM = 'backfill-crm';
const TOKEN = 'bench-token';

class BackfillContactSerializer implements EtlifySerializer<BackfillContact> {
  readonly version = 1;
  toCrmPayload(contact: BackfillContact): CrmPayload {
    return { email: contact.email, firstname: contact.name };
  }
}

@Entity('backfill_contacts')
@EtlifiedEntity({
  crm: CRM,
  serializer: BackfillContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
class BackfillContact {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

const ENTITIES = [BackfillContact, CrmSynchronisation, EtlifyStaleSweep];

interface CaseResult {
  records: number;
  ms: number;
  synced: number;
  errors: number;
  calls: number;
  writeCalls: number;
  rejected429: number;
  crmRecords: number;
  pages: number;
  peakRssMb: number;
}

/** Runs in a child process: fresh schema, N rows, one syncStale, figures as JSON on stdout. */
async function runCase(concurrency: number): Promise<CaseResult> {
  const db = await createTestDatabase('postgres');
  const sandbox = new HubspotSandbox({
    tenSecondLimit: 190,
    latencyMs: 50,
    accessToken: TOKEN,
  });
  const { baseUrl } = await sandbox.start();
  const options = {
    ...(db.options as DataSourceOptions),
    entities: ENTITIES,
    synchronize: true,
  } as DataSourceOptions;
  @Module({
    imports: [
      TypeOrmModule.forRoot(options as any),
      EtlifyModule.forRoot({
        crms: [
          {
            name: CRM,
            adapter: new HubspotAdapter({ accessToken: TOKEN, baseUrl }),
            rateLimit: { maxRequests: 190, intervalMs: 10_000 },
          },
        ],
        capture: false,
        staleSweep: false,
      }),
    ],
  })
  class BackfillModule {}
  const app = await NestFactory.createApplicationContext(BackfillModule, {
    logger: ['error'],
  });
  try {
    const ds = app.get(DataSource);
    const table = `"${(db.options as { schema: string }).schema}"."backfill_contacts"`;
    await ds.query(
      `INSERT INTO ${table} (email, name) SELECT 'c' || g || '@backfill-bench.com', 'Contact ' || g FROM generate_series(1, ${N}) g`,
    );
    await ds.query(`ANALYZE ${table}`);
    // Autovacuum is off on the benchmark machine. Left alone, PostgreSQL would plan every page
    // against a state table it believes empty (it fills during the run) and join each page with
    // all of its rows; ANALYZE every 5 s stands in for autoanalyze (on by default, naptime 1 min).
    const stateTable = `"${(db.options as { schema: string }).schema}"."crm_synchronisations"`;
    const analyze = setInterval(() => {
      ds.query(`ANALYZE ${stateTable}`).catch(() => undefined);
    }, 5_000);
    let pages = 0;
    const started = process.hrtime.bigint();
    const stats = await app
      .get(SyncService)
      .syncStale({ concurrency, onProgress: () => pages++ })
      .finally(() => clearInterval(analyze));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const writes = sandbox.requests.filter(
      (r) => r.method === 'POST' && /\/batch\//.test(r.path),
    );
    return {
      records: stats.total,
      ms,
      synced: stats.synced ?? 0,
      errors: stats.errors,
      calls: sandbox.requests.length,
      writeCalls: writes.length,
      rejected429: sandbox.rejected429(),
      crmRecords: sandbox.records('contacts').length,
      pages,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await app.close();
    await sandbox.stop();
    await db.drop();
  }
}

function child(concurrency: number): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        __filename,
        String(concurrency),
      ],
      { env: process.env, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error)
          return reject(new Error(`concurrency ${concurrency}: ${stderr}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

export async function backfillBench(): Promise<void> {
  const cases = (process.env.BENCH_BACKFILL_CONCURRENCY ?? '1,4')
    .split(',')
    .map(Number);
  const rows: Array<Record<string, string | number>> = [];
  let baseline: number | undefined;
  for (const concurrency of cases) {
    const r = await child(concurrency);
    const perSecond = (r.synced * 1000) / r.ms;
    baseline ??= perSecond;
    rows.push({
      case:
        concurrency === 1
          ? 'concurrency 1 (one batch call at a time, baseline)'
          : `concurrency ${concurrency} (pipelined)`,
      records: r.records,
      synced: r.synced,
      errors: r.errors,
      'CRM records': r.crmRecords,
      s: +(r.ms / 1000).toFixed(1),
      'rec/s': Math.round(perSecond),
      'speed-up': +(perSecond / baseline).toFixed(2),
      'HTTP calls': r.calls,
      'batch calls': r.writeCalls,
      '429s': r.rejected429,
      'progress reports': r.pages,
      'peak RSS MB': Math.round(r.peakRssMb),
    });
  }
  console.log(
    `\nInline backfill: syncStale() of ${N} new contacts, PostgreSQL, sandbox 190/10 s, 50 ms latency, pages of 1000`,
  );
  console.table(rows);
}

if (require.main === module) {
  const concurrency = process.argv[2];
  const run = concurrency
    ? runCase(Number(concurrency)).then((r) => console.log(JSON.stringify(r)))
    : backfillBench();
  run.then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
