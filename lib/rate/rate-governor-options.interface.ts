import type { RateLimitOptions } from '../interfaces/etlify-options.interface';

/** Options of the built-in governors: the CRM's `rateLimit` plus tuning knobs. */
export interface RateGovernorOptions extends RateLimitOptions {
  /**
   * Extra ms each granted call stays counted, to cover the delay between our grant and the CRM's
   * stamp. Default min(500, 5 % of intervalMs).
   */
  safetyMarginMs?: number;
  /**
   * Follow the CRM's `X-HubSpot-RateLimit-Max` header instead of `maxRequests` (used when the
   * user configured no `rateLimit`). Default false.
   */
  learnLimitFromHeaders?: boolean;
}

/** Options of `RedisRateGovernor`. */
export interface RedisRateGovernorOptions extends RateGovernorOptions {
  /** Names this budget in Redis; every process of the app must use the same name (the CRM's). */
  name: string;
  /** Key prefix. Default `etlify:rate`. */
  keyPrefix?: string;
}

/**
 * The few Redis commands the shared governor needs; an ioredis client (e.g. a Bull queue's
 * `client`) satisfies it. The governor never closes a client it was given.
 */
export interface RateRedisClient {
  evalsha(
    sha: string,
    numKeys: number,
    ...args: Array<string | number>
  ): Promise<unknown>;
  eval(
    script: string,
    numKeys: number,
    ...args: Array<string | number>
  ): Promise<unknown>;
  get(key: string): Promise<string | null>;
}
