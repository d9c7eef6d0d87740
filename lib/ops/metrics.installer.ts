import { Injectable, OnModuleInit } from '@nestjs/common';
import { EtlifyMetrics } from '../metrics/etlify-metrics.service';
import { instrumentAdapter } from '../metrics/instrumented-adapter.util';
import { CrmRegistry } from '../registry/crm.registry';

/** Puts the timing view in front of every CRM's adapter before the first sync. */
@Injectable()
export class MetricsInstaller implements OnModuleInit {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly metrics: EtlifyMetrics,
  ) {}

  onModuleInit(): void {
    this.registry.instrumentAdapters((crm) =>
      instrumentAdapter(crm.adapter, crm.name, this.metrics),
    );
  }
}
