import { randomUUID } from 'node:crypto';
import type { SweepLock, SweepLockRedisClient } from './sweep-lock.interface';

/** Compare-and-act scripts: a holder never extends or frees a lock that expired and was retaken. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The sweep lock in Redis, on the Bull queue's own connection. */
export class RedisSweepLock implements SweepLock {
  readonly kind = 'redis' as const;

  constructor(
    private readonly client: SweepLockRedisClient,
    private readonly key: string,
  ) {}

  async acquire(ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.client.set(this.key, token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : null;
  }

  async renew(token: string, ttlMs: number): Promise<boolean> {
    return (
      Number(await this.client.eval(RENEW, 1, this.key, token, ttlMs)) === 1
    );
  }

  async release(token: string): Promise<void> {
    await this.client.eval(RELEASE, 1, this.key, token);
  }
}
