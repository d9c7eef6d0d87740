/** Instrumentation scope and instrument names (Prometheus shows dots as underscores, plus unit suffixes). */
export const METER_NAME = 'nestjs-etlify';

export const METRIC_NAMES = {
  /** Counter: records by outcome; attributes crm, entity, status. */
  records: 'etlify.sync.records',
  /** Histogram (s): one adapter call; attributes crm, operation, outcome. */
  crmCallDuration: 'etlify.crm.call.duration',
  /** Histogram: records per batch call; attributes crm, operation. */
  batchSize: 'etlify.crm.batch.size',
  /** Histogram (s): from the change's commit (its enqueue) to the record synced; attributes crm, entity. */
  changeToCrm: 'etlify.sync.change_to_crm.duration',
} as const;

export const DURATION_BUCKETS_S = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30,
];
export const LATENCY_BUCKETS_S = [
  0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900,
];
export const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 75, 100];
