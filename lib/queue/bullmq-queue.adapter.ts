import type { Job, JobsOptions, Queue, Worker, WorkerOptions } from 'bullmq';
import { errorMessage } from '../sync/redact.util';

/**
 * BullMQ behind the part of Bull's Queue API the queue layer uses (producer, batching worker,
 * processor, rate governor, sweep lock), so both drivers share one implementation of the
 * guarantees: fixed job ids per record, ids only in jobs, batching, follow-ups, reschedules,
 * dead letters, bounded enqueue and drain on shutdown.
 *
 * Differences bridged here:
 * - BullMQ rejects job ids with `:`: ids are escaped on their way in and unescaped on their way out.
 * - BullMQ has one Worker per queue: the per-name handlers are registered first, then one Worker
 *   runs with their summed concurrency (as Bull sums the concurrency of named processors).
 * - BullMQ has no `job.discard()`: a discarded job's failure becomes an UnrecoverableError.
 * - BullMQ's Redis client is a promise: commands wait for it, so the boot never waits for Redis.
 */

type Handler = (job: BullMqJobView) => Promise<unknown>;
type RedisCommands = Record<string, (...args: unknown[]) => any>;

export interface BullMqLibrary {
  Worker: new (
    name: string,
    processor: (job: Job) => Promise<unknown>,
    options: WorkerOptions,
  ) => Worker;
  UnrecoverableError: new (message?: string) => Error;
}

export interface BullMqWorkerSettings {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** `%` and `:` escaped, so every record's fixed id is a valid BullMQ job id and maps back to itself. */
export function encodeJobId(id: string): string {
  return id.replace(/%/g, '%25').replace(/:/g, '%3A');
}

export function decodeJobId(id: string): string {
  return id.replace(/%3A/g, ':').replace(/%25/g, '%');
}

/** The id a job has in Redis: escaped on BullMQ, as it is on Bull. */
export function redisJobId(queue: unknown, id: string): string {
  return queue instanceof BullMqQueueAdapter ? encodeJobId(id) : id;
}

/** A BullMQ job seen as the handlers see a Bull job. */
export class BullMqJobView {
  discarded = false;

  constructor(private readonly job: Job) {}

  get id(): string {
    return decodeJobId(String(this.job.id));
  }

  get name(): string {
    return this.job.name;
  }

  get data(): any {
    return this.job.data;
  }

  /** No more attempts: the failure the handler throws next is made unrecoverable. */
  discard(): void {
    this.discarded = true;
  }
}

export class BullMqQueueAdapter {
  readonly client: RedisCommands;
  private readonly handlers = new Map<
    string,
    { concurrency: number; handler: Handler }
  >();
  private readonly errorListeners: Array<(error: Error) => void> = [];
  private worker?: Worker;
  private starting = false;
  private closing?: Promise<void>;
  private ended = false;
  private resolveClosed!: () => void;
  private readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(
    private readonly queue: Queue,
    private readonly library: BullMqLibrary,
    private readonly settings: BullMqWorkerSettings = {},
  ) {
    this.client = lazyRedis(() => redisClientOf(queue));
  }

  get name(): string {
    return this.queue.name;
  }

  /** What closeQueue disconnects when a close did not finish in time (Redis down). */
  get clients(): Array<{ status: string; disconnect(): void }> {
    const ended = () => this.ended;
    return [
      {
        get status() {
          return ended() ? 'end' : 'ready';
        },
        disconnect: () => {
          this.ended = true;
          void this.worker?.disconnect().catch(() => undefined);
          void this.queue.disconnect().catch(() => undefined);
        },
      },
    ];
  }

  toKey(type: string): string {
    return this.queue.toKey(encodeJobId(type));
  }

  async isReady(): Promise<this> {
    await this.queue.waitUntilReady();
    return this;
  }

  on(event: string, listener: (error: Error) => void): this {
    if (event !== 'error')
      throw new Error(`BullMqQueueAdapter: no "${event}" event`);
    this.errorListeners.push(listener);
    this.queue.on('error', listener);
    this.worker?.on('error', listener);
    return this;
  }

  async addBulk(
    jobs: Array<{ name: string; data: unknown; opts: JobsOptions }>,
  ): Promise<void> {
    await this.queue.addBulk(
      jobs.map((job) => ({
        name: job.name,
        data: job.data,
        opts: {
          ...job.opts,
          ...(job.opts.jobId ? { jobId: encodeJobId(job.opts.jobId) } : {}),
        },
      })),
    );
  }

  async getJob(id: string): Promise<BullMqJobView | undefined> {
    const job = await this.queue.getJob(encodeJobId(id));
    return job ? new BullMqJobView(job) : undefined;
  }

  getJobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts();
  }

  /**
   * Registers the handler of one job name; the Worker starts once the names registered in the same
   * tick are known. Settles when the queue closes, as Bull's `process()` does.
   */
  process(name: string, concurrency: number, handler: Handler): Promise<void> {
    this.handlers.set(name, { concurrency, handler });
    if (!this.starting) {
      this.starting = true;
      queueMicrotask(() => this.startWorker());
    }
    return this.closed;
  }

  /** Stops taking jobs, waits for the running ones, then closes the queue's connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.worker?.close();
        await this.queue.close();
        this.ended = true;
      } finally {
        this.resolveClosed();
      }
    })();
    return this.closing;
  }

  private startWorker(): void {
    if (this.closing) return;
    const concurrency = [...this.handlers.values()].reduce(
      (sum, entry) => sum + entry.concurrency,
      0,
    );
    const { Worker, UnrecoverableError } = this.library;
    this.worker = new Worker(
      this.queue.name,
      async (job: Job) => {
        const entry = this.handlers.get(job.name);
        if (!entry)
          throw new UnrecoverableError(
            `no handler for job "${job.name}" in this process`,
          );
        const view = new BullMqJobView(job);
        try {
          return await entry.handler(view);
        } catch (error) {
          if (view.discarded) throw new UnrecoverableError(errorMessage(error));
          throw error;
        }
      },
      {
        connection: this.queue.opts.connection,
        prefix: this.queue.opts.prefix,
        concurrency,
        ...(this.settings.lockDurationMs
          ? { lockDuration: this.settings.lockDurationMs }
          : {}),
        ...(this.settings.stalledIntervalMs
          ? { stalledInterval: this.settings.stalledIntervalMs }
          : {}),
      },
    );
    for (const listener of this.errorListeners)
      this.worker.on('error', listener);
  }
}

/** BullMQ 6 keeps the Redis client on the queue's backend; BullMQ 5 on the queue. */
function redisClientOf(queue: Queue): Promise<RedisCommands> {
  const source = queue as unknown as {
    getBackend?: () => { client: Promise<RedisCommands> };
    client?: Promise<RedisCommands>;
  };
  return typeof source.getBackend === 'function'
    ? source.getBackend().client
    : source.client!;
}

/**
 * The queue's Redis client as Bull exposes it (synchronously, ioredis commands), over BullMQ's
 * promise of it: each command waits for the connection, and a pipeline records its commands and
 * replays them on `exec()`.
 */
function lazyRedis(client: () => Promise<RedisCommands>): RedisCommands {
  return new Proxy({} as RedisCommands, {
    get: (_, command) => {
      if (typeof command !== 'string' || command === 'then') return undefined;
      if (command === 'pipeline') return () => lazyPipeline(client);
      return (...args: unknown[]) =>
        client().then((redis) => redis[command](...args));
    },
  });
}

function lazyPipeline(client: () => Promise<RedisCommands>): RedisCommands {
  const calls: Array<[string, unknown[]]> = [];
  const pipeline: RedisCommands = new Proxy({} as RedisCommands, {
    get: (_, command) => {
      if (typeof command !== 'string' || command === 'then') return undefined;
      if (command === 'exec')
        return async () => {
          const real = (await client()).pipeline();
          for (const [name, args] of calls) real[name](...args);
          return real.exec();
        };
      return (...args: unknown[]) => {
        calls.push([command, args]);
        return pipeline;
      };
    },
  });
  return pipeline;
}
