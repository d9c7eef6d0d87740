import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** What the sample runs against, from the environment; nothing to set up by default. */
export interface SampleSettings {
  /** The SQLite file (recreated on every run). */
  database: string;
  /** Set: a queue on this Redis carries the syncs. Unset: they run inline after commit. */
  redisUrl?: string;
  /** The queue's driver (QUEUE_DRIVER): 'bull' (default) or 'bullmq'. */
  queueDriver: 'bull' | 'bullmq';
  /** Set: the real HubSpot portal of this private app token. Unset: the in-process sandbox. */
  hubspotToken?: string;
  /** Makes emails and domains unique to a run against a real portal ('' with the sandbox). */
  runId: string;
  /** The queue's Redis key prefix for this run, so runs never share jobs. */
  redisPrefix: string;
}

export function readSettings(
  env: NodeJS.ProcessEnv = process.env,
): SampleSettings {
  return {
    database: env.SAMPLE_DB ?? join(__dirname, 'sample.db'),
    redisUrl: env.REDIS_URL || undefined,
    queueDriver: env.QUEUE_DRIVER === 'bullmq' ? 'bullmq' : 'bull',
    hubspotToken: env.HUBSPOT_TOKEN || undefined,
    runId: env.HUBSPOT_TOKEN ? randomBytes(3).toString('hex') : '',
    redisPrefix: `etlify-sample-${randomBytes(3).toString('hex')}`,
  };
}
