import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPoint,
  Histogram,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

/**
 * OpenTelemetry's in-memory exporter behind the global MeterProvider (Jest gives each spec file
 * its own globals, so this stays within the file). Register before the app boots.
 */
export function installInMemoryMetrics() {
  const exporter = new InMemoryMetricExporter(
    AggregationTemporality.CUMULATIVE,
  );
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 3_600_000,
  });
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  return {
    /** Data points of one instrument after a flush, with their attributes. */
    async points(name: string): Promise<Array<DataPoint<number | Histogram>>> {
      exporter.reset();
      await reader.forceFlush();
      const found: Array<DataPoint<number | Histogram>> = [];
      for (const batch of exporter.getMetrics())
        for (const scope of batch.scopeMetrics)
          for (const metric of scope.metrics)
            if (metric.descriptor.name === name)
              found.push(
                ...(metric.dataPoints as Array<DataPoint<number | Histogram>>),
              );
      return found;
    },
    async shutdown() {
      await provider.shutdown();
      metrics.disable();
    },
  };
}

/** Sum of a counter's points whose attributes include `match`. */
export function sumOf(
  points: Array<DataPoint<number | Histogram>>,
  match: Record<string, string>,
): number {
  return points
    .filter((p) =>
      Object.entries(match).every(([k, v]) => p.attributes[k] === v),
    )
    .reduce(
      (n, p) => n + (typeof p.value === 'number' ? p.value : p.value.count),
      0,
    );
}
