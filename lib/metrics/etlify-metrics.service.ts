import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type {
  Attributes,
  Counter,
  Histogram,
  Meter,
  MetricsAPI,
} from '@opentelemetry/api';
import { loadOptionalPackage } from '../ops/optional-package.util';
import {
  BATCH_BUCKETS,
  DURATION_BUCKETS_S,
  LATENCY_BUCKETS_S,
  METER_NAME,
  METRIC_NAMES,
} from './etlify-metrics.constants';
import { crmTypeKey } from '../util/crm-key.util';

interface Instruments {
  records: Counter;
  crmCallDuration: Histogram;
  batchSize: Histogram;
  changeToCrm: Histogram;
}

/**
 * OpenTelemetry instruments through `@opentelemetry/api` (an optional peer): without it, or
 * without a MeterProvider registered before the app boots, every record is a no-op. Also keeps
 * a process-local count of CRM calls for run history.
 */
@Injectable()
export class EtlifyMetrics implements OnApplicationBootstrap {
  private instruments: Instruments | null = null;
  private readonly attributes = new Map<string, Attributes>();
  private readonly calls = new Map<string, number>();

  onApplicationBootstrap(): void {
    const api = loadOptionalPackage<{ metrics: MetricsAPI }>(
      '@opentelemetry/api',
    );
    if (api)
      this.instruments = createInstruments(api.metrics.getMeter(METER_NAME));
  }

  get enabled(): boolean {
    return this.instruments !== null;
  }

  /** Records that ended with `status` (synced, not_modified, failed, dead_lettered, …). */
  records(crm: string, entity: string, status: string, count = 1): void {
    if (!this.instruments || count <= 0) return;
    this.instruments.records.add(
      count,
      this.attrs(crmTypeKey(crm, entity, 'records', status), () => ({
        crm,
        entity,
        status,
      })),
    );
  }

  /** One adapter call (`upsert`, `batchUpsert`, …) and how long it took. */
  crmCall(
    crm: string,
    operation: string,
    ok: boolean,
    ms: number,
    batchSize?: number,
  ): void {
    this.calls.set(crm, (this.calls.get(crm) ?? 0) + 1);
    if (!this.instruments) return;
    const outcome = ok ? 'ok' : 'error';
    this.instruments.crmCallDuration.record(
      ms / 1000,
      this.attrs(crmTypeKey(crm, operation, 'call', outcome), () => ({
        crm,
        operation,
        outcome,
      })),
    );
    if (batchSize !== undefined)
      this.instruments.batchSize.record(
        batchSize,
        this.attrs(crmTypeKey(crm, operation, 'batch'), () => ({
          crm,
          operation,
        })),
      );
  }

  /** From a change's commit to its record in the CRM. */
  changeToCrm(crm: string, entity: string, ms: number): void {
    if (!this.instruments) return;
    this.instruments.changeToCrm.record(
      Math.max(0, ms) / 1000,
      this.attrs(crmTypeKey(crm, entity, 'latency'), () => ({ crm, entity })),
    );
  }

  /** CRM calls this process made so far (all CRMs, or one). */
  crmCalls(crm?: string): number {
    if (crm) return this.calls.get(crm) ?? 0;
    let total = 0;
    for (const n of this.calls.values()) total += n;
    return total;
  }

  /** Attribute objects are reused: the SDK hashes them on every record. */
  private attrs(key: string, build: () => Attributes): Attributes {
    let value = this.attributes.get(key);
    if (!value) {
      value = build();
      this.attributes.set(key, value);
    }
    return value;
  }
}

function createInstruments(meter: Meter): Instruments {
  return {
    records: meter.createCounter(METRIC_NAMES.records, {
      description:
        'Records synced, not modified, failed, dead-lettered, rate-limited or deleted',
    }),
    crmCallDuration: meter.createHistogram(METRIC_NAMES.crmCallDuration, {
      description:
        'Duration of one CRM adapter call, its own retries and rate waits included',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
    batchSize: meter.createHistogram(METRIC_NAMES.batchSize, {
      description: 'Records per batch call to the CRM',
      advice: { explicitBucketBoundaries: BATCH_BUCKETS },
    }),
    changeToCrm: meter.createHistogram(METRIC_NAMES.changeToCrm, {
      description:
        'From a captured change (enqueued after commit) to the record synced in the CRM',
      unit: 's',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    }),
  };
}
