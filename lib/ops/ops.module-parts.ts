import { TypeOrmModule } from '@nestjs/typeorm';
import { EtlifyEventBus } from '../events/etlify-event.bus';
import { SyncMonitor } from '../events/sync-monitor.service';
import { EtlifyHealthIndicator } from '../health/etlify.health-indicator';
import { EtlifyMetrics } from '../metrics/etlify-metrics.service';
import type { ModulePartsBuilder } from '../module-parts.interface';
import { BullQueueInspector } from './bull-queue.inspector';
import { CrmIdColumnWriter } from './crm-id-column.writer';
import { DeadLettersService } from './dead-letters.service';
import { EntityHooksRegistry } from './entity-hooks.registry';
import { EtlifyRun } from './etlify-run.entity';
import { ExplainService } from './explain.service';
import { MetricsInstaller } from './metrics.installer';
import { ETLIFY_QUEUE_INSPECTOR } from './ops.constants';
import { RunHistoryService } from './run-history.service';
import { StatusService } from './status.service';

/**
 * Operations: events, metrics, hooks and `crmIdColumn` (SyncMonitor), explain, dead letters,
 * status, run history and the health indicator. The queue inspector joins only with a queue.
 */
export const opsModuleParts: ModulePartsBuilder = (extras) => {
  const queue =
    extras.queue &&
    typeof extras.queue === 'object' &&
    typeof extras.queue.name === 'string';
  return {
    imports: [TypeOrmModule.forFeature([EtlifyRun], extras.dataSource)],
    providers: [
      EtlifyEventBus,
      EtlifyMetrics,
      MetricsInstaller,
      CrmIdColumnWriter,
      EntityHooksRegistry,
      SyncMonitor,
      ExplainService,
      DeadLettersService,
      RunHistoryService,
      StatusService,
      EtlifyHealthIndicator,
      ...(queue
        ? [{ provide: ETLIFY_QUEUE_INSPECTOR, useClass: BullQueueInspector }]
        : []),
    ],
    exports: [EtlifyHealthIndicator, StatusService, RunHistoryService],
  };
};
