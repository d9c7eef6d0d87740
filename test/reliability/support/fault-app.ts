import 'reflect-metadata';
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import {
  DynamicModule,
  Injectable,
  type LoggerService,
  Module,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule } from '@nestjs/bull';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Column,
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
  type HubspotAdapterOptions,
} from 'nestjs-etlify';

/**
 * The app of the fault suite: companies keyed by the library's key property (no idProperty, so
 * every first write is an upsert by `etlify_key`), synced by worker processes through Bull.
 * Run as a script, it is one worker: FAULT_WORKER_CONFIG holds the JSON of FaultWorkerConfig.
 */
export const FAULT_CRM = 'hubspot';

@Injectable()
export class FaultCompanySerializer implements EtlifySerializer<FaultCompany> {
  toCrmPayload(company: FaultCompany): CrmPayload {
    return { name: company.name, description: `rev ${company.revision}` };
  }
}

@Entity('fault_companies')
@EtlifiedEntity({
  crm: FAULT_CRM,
  serializer: FaultCompanySerializer,
  crmObjectType: 'companies',
})
export class FaultCompany {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'int', default: 0 }) revision!: number;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

/** The payload the current row produces (what the sandbox must hold at the end). */
export function expectedPayload(c: FaultCompany): Record<string, string> {
  return { name: c.name, description: `rev ${c.revision}` };
}

export interface FaultAppOptions {
  db: DataSourceOptions;
  redis: { host: string; port: number };
  prefix: string;
  queueName: string;
  processors: boolean;
  /** Create the tables; default: in the producer process (processors false). */
  synchronize?: boolean;
  adapter: Partial<HubspotAdapterOptions> & {
    accessToken: string;
    baseUrl: string;
  };
  logger?: LoggerService;
  rateLimit?: { maxRequests: number; intervalMs: number };
}

export function faultAppModule(options: FaultAppOptions): DynamicModule {
  @Module({})
  class FaultAppModule {}
  return {
    module: FaultAppModule,
    imports: [
      TypeOrmModule.forRoot({
        ...options.db,
        entities: [FaultCompany, CrmSynchronisation, EtlifyStaleSweep],
        synchronize: options.synchronize ?? options.processors === false,
        logging: false,
      } as any),
      BullModule.forRoot({
        redis: { ...options.redis, maxRetriesPerRequest: null } as any,
        prefix: options.prefix,
        settings: { lockDuration: 5_000, stalledInterval: 2_000 },
      }),
      EtlifyModule.forRoot({
        crms: [
          {
            name: FAULT_CRM,
            adapter: new HubspotAdapter({
              timeoutMs: 3_000,
              retryBaseDelayMs: 100,
              maxRetries: 6,
              settleDelayMs: 1_000,
              logger: options.logger,
              ...options.adapter,
            }),
            rateLimit: options.rateLimit ?? {
              maxRequests: 190,
              intervalMs: 10_000,
            },
            maxSyncErrors: 10,
          },
        ],
        queue: {
          name: options.queueName,
          processors: options.processors,
          batchWindowMs: 100,
          backoffMs: 200,
          attempts: 20,
          enqueueTimeoutMs: 2_000,
        },
        capture: false,
        staleSweep: false,
      }),
    ],
    providers: [FaultCompanySerializer],
  };
}

/** Log lines of a worker, one per line on stdout, so the parent can read every word said. */
class StdoutLogger implements LoggerService {
  log(): void {}
  warn(message: unknown, context?: string): void {
    process.stdout.write(`WARN [${context ?? ''}] ${String(message)}\n`);
  }
  error(message: unknown, ...rest: unknown[]): void {
    process.stdout.write(
      `ERROR ${String(message)} ${rest.map(String).join(' ')}\n`,
    );
  }
}

export type FaultWorkerConfig = Omit<FaultAppOptions, 'processors' | 'logger'>;

/** Forks one worker process; resolves once it is up. Its output lines land in `lines`. */
export async function startFaultWorker(
  config: FaultWorkerConfig,
  lines: string[],
): Promise<ChildProcess> {
  const child = fork(__filename, [], {
    execArgv: [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
    ],
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(__dirname, '..', '..', '..', 'tsconfig.json'),
      FAULT_WORKER_CONFIG: JSON.stringify(config),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const collect = (chunk: Buffer) =>
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  await new Promise<void>((resolve, reject) => {
    child.once('message', (message) =>
      message === 'ready' ? resolve() : reject(new Error(String(message))),
    );
    child.once('exit', (code) =>
      reject(
        new Error(`worker exited with ${code}: ${lines.slice(-5).join(' | ')}`),
      ),
    );
  });
  return child;
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

async function runWorker(): Promise<void> {
  const config = JSON.parse(
    process.env.FAULT_WORKER_CONFIG!,
  ) as FaultWorkerConfig;
  const logger = new StdoutLogger();
  const app = await NestFactory.createApplicationContext(
    faultAppModule({ ...config, processors: true, logger }),
    { logger },
  );
  process.on('message', (message) => {
    if (message === 'close') void app.close().then(() => process.exit(0));
  });
  process.on('unhandledRejection', (error) =>
    process.stdout.write(`UNHANDLED ${String(error)}\n`),
  );
  process.send!('ready');
}

if (require.main === module) {
  runWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
