import type { Queue } from 'bull';
import { JOB_ID_SLOTS, JOB_LOADING_FIELD } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';

/**
 * Deterministic job ids of one record: `slot` 0 is the usual id, 1.. are follow-ups used while an
 * earlier job of the record is running. Never numeric-looking, so Bull cannot mistake them for its own ids.
 */
export function jobIds(
  jobName: string,
  config: EntitySyncConfig,
  resourceId: string,
): string[] {
  const base = `etlify:${jobName}:${config.crm}:${config.resourceType}:${resourceId}`;
  return Array.from({ length: JOB_ID_SLOTS }, (_, slot) =>
    slot === 0 ? base : `${base}:${slot}`,
  );
}

/** Rejects when `promise` has not settled within `ms` (a Redis that is down makes ioredis wait forever). */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: no answer from Redis within ${ms} ms`)),
      ms,
    );
  });
  // The loser may still reject later; that outcome no longer matters and must not go unhandled.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Sets the field only on a job hash that still exists, so no stray hash can block a job id. */
const MARK_LOADING_SCRIPT = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0`;

/** Marks jobs as loading their records (see JOB_LOADING_FIELD); one round trip. */
export async function markLoading(
  queue: Queue,
  jobIds: Array<string | number>,
): Promise<void> {
  if (!jobIds.length) return;
  const pipeline = queue.client.pipeline();
  const now = String(Date.now());
  for (const id of jobIds)
    pipeline.eval(
      MARK_LOADING_SCRIPT,
      1,
      queue.toKey(String(id)),
      JOB_LOADING_FIELD,
      now,
    );
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}

/**
 * Closes the queue within a bound. Bull waits for the active jobs; with Redis down its close can
 * wait forever and leave ioredis reconnecting, so the clients are disconnected afterwards in any
 * case. @nestjs/bull closes the queue again at onApplicationShutdown, and Bull's second close()
 * returns the first one's promise, which may never settle: that hook is replaced by a last
 * disconnect of whatever Bull reconnected meanwhile.
 */
export async function closeQueue(
  queue: Queue,
  options: { enqueueTimeoutMs: number } | false,
): Promise<void> {
  const ms = Math.max(options ? options.enqueueTimeoutMs : 0, 1000);
  const closing = queue.close();
  void closing.then(
    () => disconnectAll(queue),
    () => disconnectAll(queue),
  );
  try {
    await withTimeout(closing, ms, `closing queue "${queue.name}"`);
  } catch {
    // Nothing more to do: the disconnect below ends every connection.
  }
  disconnectAll(queue);
  (queue as Queue & { onApplicationShutdown?: () => Promise<void> })
    .onApplicationShutdown = async () => disconnectAll(queue);
}

function disconnectAll(queue: Queue): void {
  for (const client of queue.clients)
    if (client.status !== 'end') client.disconnect();
}
