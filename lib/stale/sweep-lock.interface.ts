/** Single-flight across processes: only the holder of the lock runs a sweep. */
export interface SweepLock {
  readonly kind: 'redis' | 'database';
  /** The lock's token when taken, null when another holder has it. */
  acquire(ttlMs: number): Promise<string | null>;
  /** Extends the lock while the sweep runs; false when it was lost. */
  renew(token: string, ttlMs: number): Promise<boolean>;
  release(token: string): Promise<void>;
}

/** The ioredis commands the Redis lock uses (a Bull queue's `client` has them). */
export interface SweepLockRedisClient {
  set(
    key: string,
    value: string,
    px: 'PX',
    ttlMs: number,
    nx: 'NX',
  ): Promise<string | null>;
  eval(
    script: string,
    numKeys: number,
    ...args: Array<string | number>
  ): Promise<unknown>;
}
