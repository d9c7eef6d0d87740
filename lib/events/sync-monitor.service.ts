import { Injectable, Logger } from '@nestjs/common';
import { CrmError, CrmRateLimitError } from '../errors/crm.error';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { BatchSyncStats } from '../interfaces/sync-outcome.interface';
import { EtlifyMetrics } from '../metrics/etlify-metrics.service';
import { CrmIdColumnWriter } from '../ops/crm-id-column.writer';
import { EntityHooksRegistry } from '../ops/entity-hooks.registry';
import type { CrmSyncState } from '../sync/crm-synchronisation.entity';
import { errorMessage } from '../sync/redact.util';
import { SyncStateStore } from '../sync/sync-state.store';
import { EtlifyEventBus } from './etlify-event.bus';
import { ETLIFY_EVENTS, LOCAL_ERROR_CATEGORY } from './etlify-events.constants';
import type {
  EtlifyFailedEvent,
  EtlifySyncedEvent,
} from './etlify-events.interface';

/** A failure as the engine saw it: the row before, the state markFailed wrote. */
export interface MonitoredFailure {
  resourceId: string;
  entity?: any;
  error: unknown;
  before: {
    state: CrmSyncState | null;
    errorCount: number;
    crmId: string | null;
  };
  after: CrmSyncState;
  counted: boolean;
}

/**
 * Where the sync reports what it decided, once the state is stored: events, metrics, failure
 * details for `explain` and the dead-letter list, `crmIdColumn`, entity hooks and error log lines.
 * Never throws into the sync: a reporting problem is logged.
 */
@Injectable()
export class SyncMonitor {
  private readonly logger = new Logger(SyncMonitor.name);

  constructor(
    private readonly store: SyncStateStore,
    private readonly bus: EtlifyEventBus,
    private readonly metrics: EtlifyMetrics,
    private readonly hooks: EntityHooksRegistry,
    private readonly crmIdColumn: CrmIdColumnWriter,
  ) {}

  async synced(
    config: EntitySyncConfig,
    items: Array<{
      entity?: any;
      resourceId: string;
      crmId: string;
      created: boolean;
    }>,
  ): Promise<void> {
    if (!items.length) return;
    this.metrics.records(
      config.crm,
      config.resourceType,
      'synced',
      items.length,
    );
    await this.guard('synced', async () => {
      if (config.options.crmIdColumn)
        await this.crmIdColumn.write(config, items);
      const hooks = this.hooks.of(config);
      if (!this.bus.active && !hooks?.afterSync) return;
      const at = new Date();
      for (const item of items) {
        const event: EtlifySyncedEvent = {
          crm: config.crm,
          entity: config.resourceType,
          id: item.resourceId,
          crmId: item.crmId,
          created: item.created,
          at,
        };
        this.bus.emit(ETLIFY_EVENTS.synced, event);
        if (hooks?.afterSync)
          await this.hook(config, 'afterSync', () =>
            hooks.afterSync!(event, item.entity),
          );
      }
    });
  }

  notModified(
    config: EntitySyncConfig,
    items: Array<{ resourceId: string; crmId: string | null }>,
  ): void {
    if (!items.length) return;
    this.metrics.records(
      config.crm,
      config.resourceType,
      'not_modified',
      items.length,
    );
    if (!this.bus.active) return;
    for (const item of items)
      this.bus.emit(ETLIFY_EVENTS.notModified, {
        crm: config.crm,
        entity: config.resourceType,
        id: item.resourceId,
        crmId: item.crmId,
      });
  }

  async failed(
    config: EntitySyncConfig,
    failure: MonitoredFailure,
  ): Promise<void> {
    const error = failure.error;
    const crmError = error instanceof CrmError ? error : undefined;
    const deadLettered =
      failure.after === 'dead' && failure.before.state !== 'dead';
    const event: EtlifyFailedEvent = {
      crm: config.crm,
      entity: config.resourceType,
      id: failure.resourceId,
      error: errorMessage(error),
      category: crmError?.category ?? LOCAL_ERROR_CATEGORY,
      status: crmError?.status,
      correlationId: crmError?.correlationId,
      errorCount: failure.before.errorCount + (failure.counted ? 1 : 0),
      counted: failure.counted,
      deadLettered,
      crmId: failure.before.crmId,
      at: new Date(),
    };
    const status =
      error instanceof CrmRateLimitError
        ? 'rate_limited'
        : deadLettered
          ? 'dead_lettered'
          : 'failed';
    this.metrics.records(config.crm, config.resourceType, status);
    this.log(config, event, status);
    await this.guard('failed', async () => {
      await this.store.recordFailureDetails(
        {
          crmName: config.crm,
          resourceType: config.resourceType,
          resourceId: failure.resourceId,
        },
        {
          category: event.category,
          correlationId: event.correlationId ?? null,
        },
      );
      if (error instanceof CrmRateLimitError) {
        this.bus.emit(ETLIFY_EVENTS.rateLimited, {
          crm: config.crm,
          entity: config.resourceType,
          id: failure.resourceId,
          retryAfterMs: error.retryAfterMs,
          policy: error.policy,
          correlationId: error.correlationId,
          at: event.at,
        });
      } else {
        this.bus.emit(ETLIFY_EVENTS.failed, event);
        if (deadLettered) this.bus.emit(ETLIFY_EVENTS.deadLettered, event);
      }
      const hooks = this.hooks.of(config);
      if (hooks?.onError)
        await this.hook(config, 'onError', () =>
          hooks.onError!(event, failure.entity),
        );
    });
  }

  deleted(
    config: EntitySyncConfig,
    resourceId: string,
    crmId: string,
    existed: boolean,
  ): void {
    this.metrics.records(config.crm, config.resourceType, 'deleted');
    this.bus.emit(ETLIFY_EVENTS.deleted, {
      crm: config.crm,
      entity: config.resourceType,
      id: resourceId,
      crmId,
      existed,
      at: new Date(),
    });
  }

  /** Captured changes that reached the CRM: `since` is when each was enqueued after its commit. */
  delivered(config: EntitySyncConfig, since: number[]): void {
    const now = Date.now();
    for (const at of since)
      this.metrics.changeToCrm(config.crm, config.resourceType, now - at);
  }

  sweepFinished(startedAt: Date, stats: BatchSyncStats): void {
    this.bus.emit(ETLIFY_EVENTS.sweepFinished, {
      startedAt,
      finishedAt: new Date(),
      stats,
    });
  }

  /** One line per failed record: entity, id, CRM, status, category and correlation id. */
  private log(
    config: EntitySyncConfig,
    event: EtlifyFailedEvent,
    status: string,
  ): void {
    const where = `${config.resourceType}#${event.id} → ${config.crm}`;
    const detail = [
      event.status !== undefined ? `HTTP ${event.status}` : undefined,
      event.category,
      event.correlationId ? `correlation id ${event.correlationId}` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    if (status === 'rate_limited') {
      this.logger.debug?.(`${where}: rate_limited (${detail}); retried later`);
    } else if (status === 'dead_lettered') {
      this.logger.error(
        `${where}: dead_lettered after ${event.errorCount} errors (${detail}): ${event.error}`,
      );
    } else {
      this.logger.warn(
        `${where}: failed, error ${event.errorCount} (${detail}): ${event.error}`,
      );
    }
  }

  private async hook(
    config: EntitySyncConfig,
    name: string,
    call: () => unknown,
  ): Promise<void> {
    try {
      await call();
    } catch (error) {
      this.logger.error(
        `${config.resourceType} → ${config.crm}: ${name} hook threw: ${errorMessage(error)}`,
      );
    }
  }

  private async guard(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error(
        `reporting ${what} records failed: ${errorMessage(error)}`,
      );
    }
  }
}
