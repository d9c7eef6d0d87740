/**
 * A separate OS process for the shared-governor test: it syncs new contacts into the sandbox as
 * fast as its governor allows, then reports how many calls it made. Started with
 * `child_process.fork(..., { execArgv: ['-r', 'ts-node/register/transpile-only'] })`.
 */
import Redis from 'ioredis';
import { HubspotAdapter } from '../../lib/adapters/hubspot/hubspot.adapter';
import type { RateGovernor } from '../../lib/interfaces/rate-governor.interface';
import { InProcessRateGovernor } from '../../lib/rate/in-process-rate.governor';
import { RedisRateGovernor } from '../../lib/rate/redis-rate.governor';

export interface GovernorWorkerConfig {
  baseUrl: string;
  accessToken: string;
  /** `redis`: one budget shared through Redis; `process`: a budget per process (the control). */
  governor: 'redis' | 'process';
  redisUrl: string;
  keyPrefix: string;
  maxRequests: number;
  intervalMs: number;
  concurrency: number;
  worker: number;
}

export interface GovernorWorkerReport {
  worker: number;
  synced: number;
  failed: number;
  firstError?: string;
}

type Message =
  | { type: 'config'; config: GovernorWorkerConfig }
  | { type: 'go'; until: number };

let config: GovernorWorkerConfig;
let redis: Redis | undefined;
let adapter: HubspotAdapter;

process.on('message', (message: Message) => {
  if (message.type === 'config') {
    config = message.config;
    redis =
      config.governor === 'redis' ? new Redis(config.redisUrl) : undefined;
    const limits = {
      maxRequests: config.maxRequests,
      intervalMs: config.intervalMs,
    };
    const governor: RateGovernor = redis
      ? new RedisRateGovernor(redis, {
          ...limits,
          name: 'hubspot',
          keyPrefix: config.keyPrefix,
        })
      : new InProcessRateGovernor(limits);
    adapter = new HubspotAdapter({
      accessToken: config.accessToken,
      baseUrl: config.baseUrl,
      // A 429 must show up as a failure here, not be waited out.
      maxRateLimitWaits: 0,
      logger: { log() {}, warn() {}, error() {} },
    });
    adapter.attach({ crmName: 'hubspot', rateGovernor: governor });
    process.send?.({ type: 'ready' });
  } else if (message.type === 'go') {
    void run(message.until);
  }
});

async function run(until: number): Promise<void> {
  const report: GovernorWorkerReport = {
    worker: config.worker,
    synced: 0,
    failed: 0,
  };
  let n = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < until) {
      const email = `w${config.worker}-${n++}@example.com`;
      try {
        await adapter.upsert({
          objectType: 'contacts',
          payload: { email },
          idProperty: 'email',
        });
        report.synced++;
      } catch (error) {
        report.failed++;
        report.firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, loop));
  adapter.close();
  await redis?.quit();
  process.send?.({ type: 'report', report }, () => process.exit(0));
}
