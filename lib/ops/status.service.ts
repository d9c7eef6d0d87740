import { Inject, Injectable, Optional } from '@nestjs/common';
import { withTimeout } from '../queue/queue.util';
import { CrmRegistry } from '../registry/crm.registry';
import { StaleRecordFinder } from '../stale/stale-record.finder';
import { SyncStateStore } from '../sync/sync-state.store';
import type { EtlifyRun } from './etlify-run.entity';
import { ETLIFY_QUEUE_INSPECTOR, REDIS_PING_TIMEOUT_MS } from './ops.constants';
import type { SyncQueueInspector } from './queue-inspector.interface';
import { RunHistoryService } from './run-history.service';
import type {
  CrmStatus,
  EtlifyStatus,
  RunSummary,
  StatusOptions,
} from './status.interface';

/**
 * Everything `etlify status` and the health indicator report, read from the sync state, the
 * stale finder, the queue, the rate governors and the run history. Never calls a CRM.
 */
@Injectable()
export class StatusService {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
    private readonly runs: RunHistoryService,
    @Optional() private readonly finder?: StaleRecordFinder,
    @Optional()
    @Inject(ETLIFY_QUEUE_INSPECTOR)
    private readonly queue?: SyncQueueInspector,
  ) {}

  async status(options: StatusOptions = {}): Promise<EtlifyStatus> {
    const now = Date.now();
    const counts = await this.store.countByState();
    const crms: CrmStatus[] = [];
    let deadLetters = 0;
    let oldestStale: number | null | undefined =
      options.stale === false ? undefined : null;
    for (const crm of this.registry.getCrms()) {
      // A Redis-backed governor must not hang the status when Redis is down.
      const snapshot = crm.rateGovernor?.snapshot
        ? await withTimeout(
            Promise.resolve(crm.rateGovernor.snapshot()),
            REDIS_PING_TIMEOUT_MS,
            'rate governor snapshot',
          ).catch(() => undefined)
        : undefined;
      const status: CrmStatus = {
        name: crm.name,
        enabled: crm.enabled,
        dailyQuotaLeft: snapshot?.dailyRemaining ?? null,
        entities: [],
      };
      for (const config of this.registry
        .getEntityConfigs()
        .filter((c) => c.crm === crm.name)) {
        const states: Record<string, number> = {};
        for (const row of counts)
          if (
            row.crmName === crm.name &&
            row.resourceType === config.resourceType
          )
            states[row.state] = row.count;
        const dead = states.dead ?? 0;
        deadLetters += dead;
        const entity: CrmStatus['entities'][number] = {
          entity: config.resourceType,
          states,
          deadLetters: dead,
        };
        if (options.stale !== false && this.finder && config.updatedAtColumn) {
          const since = await this.finder.oldestStale(config);
          entity.oldestStaleAt = since;
          entity.oldestStaleAgeMs = since
            ? Math.max(0, now - since.getTime())
            : null;
          if (
            entity.oldestStaleAgeMs !== null &&
            entity.oldestStaleAgeMs > (oldestStale ?? -1)
          )
            oldestStale = entity.oldestStaleAgeMs;
        }
        status.entities.push(entity);
      }
      crms.push(status);
    }
    const runs = (await this.runs.latest(options.runs ?? 5)).map(summary);
    const lastSweep =
      (await this.runs.latest(1, 'sweep')).map(summary)[0] ?? null;
    return {
      at: new Date(now),
      crms,
      deadLetters,
      ...(oldestStale !== undefined ? { oldestStaleAgeMs: oldestStale } : {}),
      queue: await this.queueStatus(now),
      lastSweep,
      runs,
    };
  }

  /** The queue's backlog, or only `reachable: false` when Redis does not answer. */
  async queueStatus(now = Date.now()): Promise<EtlifyStatus['queue']> {
    if (!this.queue) return null;
    const reachable = await this.queue.ping(REDIS_PING_TIMEOUT_MS);
    if (!reachable)
      return {
        name: this.queue.name,
        reachable,
        waiting: 0,
        delayed: 0,
        active: 0,
        failed: 0,
        oldestJobAt: null,
        oldestJobAgeMs: null,
      };
    const backlog = await this.queue.backlog();
    return {
      name: this.queue.name,
      reachable,
      ...backlog,
      oldestJobAgeMs: backlog.oldestJobAt
        ? Math.max(0, now - backlog.oldestJobAt.getTime())
        : null,
    };
  }
}

function summary(run: EtlifyRun): RunSummary {
  return {
    kind: run.kind,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.finishedAt.getTime() - run.startedAt.getTime(),
    status: run.status,
    total: run.total,
    synced: run.synced,
    notModified: run.notModified,
    skipped: run.skipped,
    enqueued: run.enqueued,
    errors: run.errors,
    crmCalls: run.crmCalls,
  };
}
