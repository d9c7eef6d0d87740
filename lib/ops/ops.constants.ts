/** Token of the queue inspector (present only when a queue is configured). */
export const ETLIFY_QUEUE_INSPECTOR = 'ETLIFY_QUEUE_INSPECTOR';

/** Table of run history (sweeps and CLI runs). */
export const RUN_HISTORY_TABLE = 'etlify_runs';
/** Run-history rows kept by default: newest first, older ones pruned after each run. */
export const DEFAULT_RUN_HISTORY_KEEP = 500;
/** Run-history rows older than this are pruned whatever their number. */
export const DEFAULT_RUN_HISTORY_MAX_AGE_DAYS = 30;

/** Dead letters per page when no `limit` is given, and the most a page may hold. */
export const DEFAULT_DEAD_LETTER_PAGE = 50;
export const MAX_DEAD_LETTER_PAGE = 1000;

/** How long a health or status check waits for Redis before calling it unreachable. */
export const REDIS_PING_TIMEOUT_MS = 1000;
