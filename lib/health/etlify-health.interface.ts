/** Limits past which `EtlifyHealthIndicator.isHealthy` reports `down`. */
export interface EtlifyHealthThresholds {
  /** Jobs waiting, delayed or running. Default 10 000. */
  maxQueueBacklog?: number;
  /** Age of the oldest job waiting or running, in ms. Default: not checked. */
  maxOldestJobAgeMs?: number;
  /** Dead-lettered records (all CRMs). Default 100. */
  maxDeadLetters?: number;
  /** Age of the oldest stale record, in ms (one query per entity). Default: not checked. */
  maxOldestStaleAgeMs?: number;
  /** Daily CRM quota left (when the rate governor knows it). Default: not checked. */
  minDailyQuotaLeft?: number;
  /** Redis must answer a ping (when a queue is configured). Default true. */
  requireRedis?: boolean;
}

export const DEFAULT_HEALTH_THRESHOLDS = {
  maxQueueBacklog: 10_000,
  maxDeadLetters: 100,
  requireRedis: true,
} as const;
