export const SYNC_STATE_TABLE = 'crm_synchronisations';

/** Static metadata key written by @EtlifiedEntity on entity classes (they are not providers). */
export const ETLIFIED_ENTITY_METADATA = 'etlify:entity';

export const CRM_ADAPTER_TOKEN_PREFIX = 'ETLIFY_CRM_ADAPTER:';

export const CRM_NAME_PATTERN = /^[a-z0-9_-]+$/;

export const DEFAULT_MAX_SYNC_ERRORS = 3;
export const DEFAULT_STALE_BATCH_SIZE = 1000;
/** Batch calls an inline syncStale keeps in flight (the rate governor still meters each). */
export const DEFAULT_STALE_CONCURRENCY = 4;
export const DEFAULT_QUEUE_CONCURRENCY = 5;
export const DEFAULT_BATCH_WINDOW_MS = 200;
export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_JOB_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 1000;
/** How long a Bull call may take before enqueueing rejects (Redis down must not hang a save). */
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 5000;

/** How long a sync may hold its record's lease before another caller may take over. */
export const SYNC_LEASE_MS = 15_000;
/** While a CRM call runs, its lease is renewed this often, so only a dead process lets it lapse. */
export const SYNC_LEASE_RENEW_MS = 5_000;
/** How often a caller waiting on another's lease looks again. */
export const SYNC_LEASE_POLL_MS = 25;
/** How long a serializer may take for one record before that record fails (`serializerTimeoutMs`). */
export const DEFAULT_SERIALIZER_TIMEOUT_MS = 10_000;

/** Token of the module-shaping options (DataSource, queue) split off by ConfigurableModuleBuilder. */
export const ETLIFY_MODULE_EXTRAS = 'ETLIFY_MODULE_EXTRAS';
/**
 * Token of the raw module options. It lives here, not in the module definition, so providers can
 * inject it without importing the definition (which imports every feature: an import cycle).
 */
export const ETLIFY_MODULE_OPTIONS_TOKEN = 'ETLIFY_MODULE_OPTIONS';
/** Token of the queue producer, present only when a queue is configured. */
export const ETLIFY_SYNC_PRODUCER = 'ETLIFY_SYNC_PRODUCER';
/** Token of the stale-record finder's runner behind `SyncService.syncStale` (a `StaleSyncer`). */
export const ETLIFY_STALE_SYNCER = 'ETLIFY_STALE_SYNCER';

/** How far the sync follows `syncDependencies` chains (and looks for cycles) before it stops waiting. */
export const MAX_SYNC_DEPENDENCY_DEPTH = 8;
/**
 * Capture's own bound on an enqueue, beyond the producer's `enqueueTimeoutMs`: a queue that does
 * not answer makes capture log and give up (the sweeper catches up) instead of holding its work.
 */
export const CAPTURE_ENQUEUE_GRACE_MS = 1000;
/** How long shutdown waits for captured changes still being flushed. */
export const CAPTURE_DRAIN_TIMEOUT_MS = 10_000;
/** Key under which capture marks a DataSource it has subscribed to (one subscriber per DataSource). */
export const CAPTURE_REGISTRATION = Symbol.for('nestjs-etlify:capture');

/** Table of the stale sweeper's high-water marks and its database lease. */
export const STALE_SWEEP_TABLE = 'etlify_stale_sweeps';
/** Name of the sweeper's job in @nestjs/schedule's SchedulerRegistry. */
export const STALE_SWEEP_JOB_NAME = 'etlify-stale-sweep';
/** Key of the single-flight lock (Redis key, or row of the sweep table). */
export const STALE_SWEEP_LOCK_KEY = 'etlify:stale-sweep:lock';
/** Lifetime of the sweep lock; the running sweep renews it every third of this. */
export const STALE_SWEEP_LOCK_TTL_MS = 60_000;
/** An incremental sweep looks this far behind its high-water mark (clock skew, long transactions). */
export const STALE_INCREMENTAL_OVERLAP_MS = 5 * 60_000;
/** Incremental sweeps fall back to a full scan (the backstop) when the last one is older than this. */
export const STALE_FULL_SCAN_INTERVAL_MS = 24 * 60 * 60_000;
/** Token of the Bull queue registered for the configured `queue.name`. */
export const ETLIFY_QUEUE = 'ETLIFY_QUEUE';
/** Bull job names. */
export const SYNC_JOB_NAME = 'sync';
export const DELETE_JOB_NAME = 'delete';
/**
 * Job ids tried per record: a record whose job is already running gets a follow-up id, so a change
 * made after the running job loaded the record is never swallowed by Bull's duplicate-id check.
 */
export const JOB_ID_SLOTS = 3;
/**
 * Field the batching worker sets on a job's Bull hash right before it reads the record: until then
 * a running job still sees every committed change, so a new change may collapse into it.
 */
export const JOB_LOADING_FIELD = 'etlifyLoadingAt';
/**
 * Delay of a follow-up job (a change to a record whose sync is already running): a record
 * changing in a burst is written about once per this interval instead of once per change.
 */
export const FOLLOW_UP_DELAY_MS = 1000;
