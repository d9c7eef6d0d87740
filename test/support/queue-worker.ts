import 'reflect-metadata';
import { DynamicModule, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule, queueOption } from './queue-driver';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Column,
  DataSourceOptions,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmAdapter,
  CrmPayload,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifyModule,
  EtlifyQueueDriver,
  EtlifyQueueOptions,
  EtlifySerializer,
  HubspotAdapter,
  RateLimitOptions,
} from 'nestjs-etlify';

/**
 * Fixtures of the queue specs, and (run as a script) a worker process for the killed-worker test:
 * `QUEUE_WORKER_CONFIG` holds the JSON of QueueWorkerConfig; the worker reports 'ready' over IPC.
 */

/**
 * CRM name of these fixtures; distinct from the other fixtures' 'hubspot', because @EtlifiedEntity
 * classes of a declared CRM must be entities of the app's DataSource (the benches share a process).
 */
export const QUEUE_CRM = 'queued-crm';

@Injectable()
export class QueuedContactSerializer implements EtlifySerializer<QueuedContact> {
  readonly version = 1;
  toCrmPayload(contact: QueuedContact): CrmPayload {
    if (contact.name === 'boom')
      throw new Error('cannot serialize this contact');
    return { email: contact.email, firstname: contact.name };
  }
}

@Entity('queued_contacts')
@EtlifiedEntity({
  crm: QUEUE_CRM,
  serializer: QueuedContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
export class QueuedContact {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  email!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

export const REDIS = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};

export interface QueueAppOptions {
  db: DataSourceOptions;
  synchronize: boolean;
  adapter: CrmAdapter;
  queue: EtlifyQueueOptions;
  /** Bull key prefix; one per test. */
  prefix: string;
  /** The queue driver; default: the one under test (ETLIFY_QUEUE_DRIVER). */
  driver?: EtlifyQueueDriver;
  maxSyncErrors?: number;
  /** TypeORM capture of saves (off by default: the specs enqueue explicitly). */
  capture?: boolean;
  rateLimit?: RateLimitOptions;
  /** Redis to use instead of the local one (e.g. a closed port). */
  redis?: { host: string; port: number; disconnectTimeout?: number };
  /** Short Bull locks so a killed worker's jobs are found stalled quickly. */
  bullSettings?: { lockDuration?: number; stalledInterval?: number };
}

/**
 * The root module of an app that syncs QueuedContact through a Bull queue. No forFeature: it
 * would add QueuedContact to every `autoLoadEntities` DataSource built later in the process.
 */
export function queueAppModule(options: QueueAppOptions): DynamicModule {
  @Module({})
  class QueueAppModule {}
  return {
    module: QueueAppModule,
    imports: [
      TypeOrmModule.forRoot({
        ...options.db,
        entities: [QueuedContact, CrmSynchronisation],
        synchronize: options.synchronize,
        logging: false,
      } as any),
      BullModule.forRoot(
        {
          redis: options.redis ?? REDIS,
          prefix: options.prefix,
          settings: options.bullSettings,
        },
        options.driver,
      ),
      EtlifyModule.forRoot({
        crms: [
          {
            name: QUEUE_CRM,
            adapter: options.adapter,
            maxSyncErrors: options.maxSyncErrors,
            rateLimit: options.rateLimit,
          },
        ],
        queue: queueOption(options.queue, options.bullSettings, options.driver),
        capture: options.capture ?? false,
        staleSweep: false,
      }),
    ],
    providers: [QueuedContactSerializer],
  };
}

/** Polls `check` until it returns a truthy value; fails naming `what` after `timeoutMs` (a bound, not an assertion). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | false | null | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** What the parent test passes to a worker process, as JSON in QUEUE_WORKER_CONFIG. */
export interface QueueWorkerConfig {
  db: DataSourceOptions;
  prefix: string;
  queue: EtlifyQueueOptions;
  baseUrl: string;
  bullSettings?: { lockDuration?: number; stalledInterval?: number };
}

async function runWorker(): Promise<void> {
  const config = JSON.parse(
    process.env.QUEUE_WORKER_CONFIG!,
  ) as QueueWorkerConfig;
  const app = await NestFactory.createApplicationContext(
    queueAppModule({
      db: config.db,
      synchronize: false,
      adapter: new HubspotAdapter({
        accessToken: 'test-token',
        baseUrl: config.baseUrl,
      }),
      queue: config.queue,
      prefix: config.prefix,
      bullSettings: config.bullSettings,
    }),
    { logger: false },
  );
  process.on('message', (message) => {
    if (message === 'close') void app.close().then(() => process.exit(0));
  });
  process.send!('ready');
}

if (require.main === module) {
  runWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
