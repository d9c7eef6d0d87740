import type { DataSource } from 'typeorm';
import type { CrmAdapter } from './crm-adapter.interface';
import type { CrmPayload } from './crm-payload.interface';

export interface RateLimitOptions {
  /** Calls allowed per `intervalMs` (HubSpot: 100 Free/Starter, 190 Pro/Enterprise, 250 with the increase). */
  maxRequests: number;
  /** Length of the rolling window in ms (HubSpot: 10 000). */
  intervalMs: number;
  /** Calls allowed per day; unset = unlimited (the CRM's own headers still stop us). */
  dailyLimit?: number;
  /** Search calls per second (HubSpot: 5). */
  searchPerSecond?: number;
}

export interface CrmOptions {
  /** Unique name, `[a-z0-9_-]+`; entities refer to it in `@EtlifiedEntity({ crm })`. */
  name: string;
  /** An adapter instance (`new HubspotAdapter({...})`), not a class. */
  adapter: CrmAdapter;
  /** `false` => every call returns `disabled`, no I/O. Default `true`. */
  enabled?: boolean;
  /** Call budget; shared by every process through Redis when a queue is configured. */
  rateLimit?: RateLimitOptions;
  /** After this many consecutive errors a record is dead-lettered. Default 3. */
  maxSyncErrors?: number;
}

export interface EtlifyQueueOptions {
  /** Queue name (register its Redis connection with `BullModule.forRoot` in your app). */
  name: string;
  /**
   * The queue library: `'bull'` (default; install `@nestjs/bull bull`, `BullModule.forRoot` from
   * `@nestjs/bull`) or `'bullmq'` (install `@nestjs/bullmq bullmq ioredis`, `BullModule.forRoot`
   * from `@nestjs/bullmq`). Only the chosen one is loaded, so only it needs to be installed.
   */
  driver?: EtlifyQueueDriver;
  /**
   * BullMQ only: the worker's lock on a job it runs, and how often it looks for jobs whose worker
   * died (both in ms; BullMQ's defaults 30000 / 30000). Bull reads these from
   * `BullModule.forRoot({ settings: { lockDuration, stalledInterval } })`.
   */
  worker?: { lockDurationMs?: number; stalledIntervalMs?: number };
  /**
   * CRM calls in flight per process. Default 5. The worker runs `concurrency × batchSize` sync
   * handlers, so batches can fill while others are in flight, and `concurrency` delete handlers.
   */
  concurrency?: number;
  /** How long the batching worker waits to fill a batch, in ms. Default 200. */
  batchWindowMs?: number;
  /** Records per CRM call in the batching worker (≤ 100). Default 100. */
  batchSize?: number;
  /** Attempts per job before giving up (rate-limit waits do not count). Default 5. */
  attempts?: number;
  /** Base delay of the exponential backoff, in ms. Default 1000. */
  backoffMs?: number;
  /** Run the job processors in this process; `false` for producer-only processes (e.g. an API). Default true. */
  processors?: boolean;
  /** An enqueue that Redis has not answered within this many ms rejects (Redis down never hangs a save). Default 5000. */
  enqueueTimeoutMs?: number;
}

/** The queue libraries nestjs-etlify drives. */
export type EtlifyQueueDriver = 'bull' | 'bullmq';

export interface StaleSweepOptions {
  /** Cron expression (5 or 6 fields). Default every 15 minutes. */
  cron: string;
  /** Ids read per page by the finder. Default 1000. */
  batchSize?: number;
}

export interface EtlifyModuleOptions {
  crms: CrmOptions[];
  /**
   * How long a serializer's `toCrmPayload` may take for one record, in ms, before that record fails
   * (a hung serializer never stalls other records or the shutdown). Default 10000; per entity:
   * `@EtlifiedEntity({ serializerTimeoutMs })`.
   */
  serializerTimeoutMs?: number;
  /** Bull queue; `false` (default) => everything runs inline. */
  queue?: EtlifyQueueOptions | false;
  /** TypeORM subscribers sync changed entities after commit. Default `true`. */
  capture?: boolean;
  /** Periodic stale-record sweep; `false` => no sweeper. */
  staleSweep?: StaleSweepOptions | false;
  /** Digest of a payload; default SHA-256 of canonical JSON. */
  digest?: (payload: CrmPayload) => string;
  /** TypeORM DataSource name (or instance). Default: the default DataSource. */
  dataSource?: string | DataSource;
}
