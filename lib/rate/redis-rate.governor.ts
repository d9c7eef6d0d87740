import { createHash, randomUUID } from 'node:crypto';
import type {
  RateBucket,
  RateGovernor,
  RateGovernorSnapshot,
  RateObservation,
} from '../interfaces/rate-governor.interface';
import {
  DEFAULT_RATE_KEY_PREFIX,
  DEFAULT_SEARCH_PER_SECOND,
  SEARCH_INTERVAL_MS,
} from './rate.constants';
import type {
  RateRedisClient,
  RedisRateGovernorOptions,
} from './rate-governor-options.interface';
import {
  assertRateOptions,
  dailyQuotaError,
  msUntilUtcMidnight,
  safetyMarginMs,
  utcDay,
  withJitter,
} from './rate-governor.util';
import { ACQUIRE_SCRIPT, OBSERVE_SCRIPT } from './redis-rate.scripts';
import { sleep } from '../util/sleep.util';

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const ACQUIRE = script(ACQUIRE_SCRIPT);
const OBSERVE = script(OBSERVE_SCRIPT);

/**
 * A call budget shared by every process of the app through Redis: each grant is one atomic Lua
 * script over a sorted set of grant times (a sliding window), with separate keys for search and
 * the daily quota. Processes never talk to each other; Redis's clock is the only clock.
 */
export class RedisRateGovernor implements RateGovernor {
  private readonly keyBase: string;
  private readonly member = randomUUID();
  private sequence = 0;
  private readonly windowMs: Record<RateBucket, number>;
  private readonly limits: Record<RateBucket, number>;

  constructor(
    private readonly redis: RateRedisClient,
    private readonly options: RedisRateGovernorOptions,
  ) {
    assertRateOptions(options);
    if (!options.name) {
      throw new Error('RedisRateGovernor needs a name (the CRM name)');
    }
    const margin = safetyMarginMs(options);
    this.keyBase = `${options.keyPrefix ?? DEFAULT_RATE_KEY_PREFIX}:{${options.name}}`;
    this.windowMs = {
      standard: options.intervalMs + margin,
      search: SEARCH_INTERVAL_MS + Math.min(margin, SEARCH_INTERVAL_MS / 5),
    };
    this.limits = {
      standard: options.maxRequests,
      search: options.searchPerSecond ?? DEFAULT_SEARCH_PER_SECOND,
    };
  }

  async acquire(bucket: RateBucket = 'standard'): Promise<void> {
    for (;;) {
      const now = Date.now();
      const [wait, retryAfterMs] = (await this.run(
        ACQUIRE,
        [
          this.key(bucket),
          this.key(`${bucket}:block`),
          this.key(`daily:${utcDay(now)}`),
          this.key('daily:block'),
          this.key('calls'),
        ],
        [
          this.limits[bucket],
          this.windowMs[bucket],
          this.options.dailyLimit ?? 0,
          `${this.member}:${this.sequence++}`,
          msUntilUtcMidnight(now),
        ],
      )) as [number, number];
      if (wait === 0) return;
      if (wait < 0) throw dailyQuotaError(retryAfterMs);
      await sleep(withJitter(wait));
    }
  }

  async observe(o: RateObservation): Promise<void> {
    const now = Date.now();
    const dailyBlock =
      o.policy === 'DAILY' || o.dailyRemaining === 0
        ? (o.retryAfterMs ?? msUntilUtcMidnight(now))
        : 0;
    const bucketBlock =
      o.policy !== 'DAILY' && o.retryAfterMs ? o.retryAfterMs : 0;
    const crmUsed =
      o.remaining !== undefined
        ? (o.max ?? this.limits[o.bucket]) - o.remaining
        : -1;
    if (
      crmUsed < 0 &&
      !dailyBlock &&
      !bucketBlock &&
      o.dailyRemaining === undefined
    )
      return;
    await this.run(
      OBSERVE,
      [
        this.key(o.bucket),
        this.key(`${o.bucket}:block`),
        this.key('daily:block'),
        this.key('daily:remaining'),
      ],
      [
        Math.min(crmUsed, this.limits[o.bucket]),
        Math.ceil(bucketBlock),
        Math.ceil(dailyBlock),
        this.windowMs[o.bucket],
        `${this.member}:crm:${this.sequence++}`,
        o.dailyRemaining ?? -1,
      ],
    );
  }

  async snapshot(): Promise<RateGovernorSnapshot> {
    const [calls, daily] = await Promise.all([
      this.redis.get(this.key('calls')),
      this.redis.get(this.key('daily:remaining')),
    ]);
    return {
      callsMade: Number(calls ?? 0),
      dailyRemaining: daily === null ? undefined : Number(daily),
    };
  }

  /** The Redis client belongs to its owner (e.g. the Bull queue): nothing to close here. */
  close(): void {}

  private key(suffix: string): string {
    return `${this.keyBase}:${suffix}`;
  }

  private async run(
    s: Script,
    keys: string[],
    args: Array<string | number>,
  ): Promise<unknown> {
    try {
      return await this.redis.evalsha(s.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
      return this.redis.eval(s.source, keys.length, ...keys, ...args);
    }
  }
}
