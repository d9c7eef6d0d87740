export const SYNC_STATE_TABLE = 'crm_synchronisations';

/** Static metadata key written by @EtlifiedEntity on entity classes (they are not providers). */
export const ETLIFIED_ENTITY_METADATA = 'etlify:entity';

export const CRM_ADAPTER_TOKEN_PREFIX = 'ETLIFY_CRM_ADAPTER:';

export const CRM_NAME_PATTERN = /^[a-z0-9_-]+$/;

export const DEFAULT_MAX_SYNC_ERRORS = 3;
export const DEFAULT_STALE_CRON = '*/15 * * * *';
export const DEFAULT_STALE_BATCH_SIZE = 1000;
export const DEFAULT_QUEUE_CONCURRENCY = 5;
export const DEFAULT_BATCH_WINDOW_MS = 200;
export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_JOB_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 1000;

/** How long a sync may hold its record's lease before another caller may take over. */
export const SYNC_LEASE_MS = 60_000;
/** How often a caller waiting on another's lease looks again. */
export const SYNC_LEASE_POLL_MS = 25;

/** Digest stored for a record whose `syncIf` said no. */
export const SKIPPED_DIGEST = 'skipped';

/** Token of the module-shaping options (DataSource, queue) split off by ConfigurableModuleBuilder. */
export const ETLIFY_MODULE_EXTRAS = 'ETLIFY_MODULE_EXTRAS';
/** Token of the validated options with every default merged. */
export const ETLIFY_RESOLVED_OPTIONS = 'ETLIFY_RESOLVED_OPTIONS';
/** Token of the queue producer, present only when a queue is configured. */
export const ETLIFY_SYNC_PRODUCER = 'ETLIFY_SYNC_PRODUCER';
