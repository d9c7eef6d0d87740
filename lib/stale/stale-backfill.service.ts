import { Injectable } from '@nestjs/common';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { StaleSweepEntityStats } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { SyncEngine } from '../sync/sync-engine.service';
import { SyncStateStore } from '../sync/sync-state.store';
import { chunks, prefetch, Slots } from './stale-pipeline.util';
import { loadInOrder } from './stale-records.util';
import { sqlFamily } from './stale-sql.util';

/** Records per adapter call on the bulk path (HubSpot's batch limit). */
const CRM_BATCH = 100;

export interface BackfillOptions {
  /** Batches (of up to 100 records) in flight at once. */
  concurrency: number;
  /** Called once every record of a page has been handled, with the page's size. */
  onPage(count: number): void;
}

/**
 * The inline `syncStale`, pipelined so that the CRM is the bottleneck: while batches of one page
 * are with the CRM (up to `concurrency` at once, each call metered by the rate governor), the
 * next page is found, loaded and read from the state table. Memory stays bounded: a page waits
 * for a free slot before its batches start, and only the page after it is read ahead.
 */
@Injectable()
export class StaleBackfillService {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly engine: SyncEngine,
    private readonly store: SyncStateStore,
  ) {}

  /** Syncs every page; resolves to the CRM calls it counted (the estimate without a rate governor). */
  async run(
    config: EntitySyncConfig,
    pages: AsyncIterator<string[]>,
    stats: StaleSweepEntityStats,
    options: BackfillOptions,
  ): Promise<number> {
    const batched = !!this.registry.getCrm(config.crm).adapter.batchUpsert;
    // SQLite: one connection for the whole DataSource, on which two batches' state transactions
    // would interleave; batches go one at a time there (pages are still read ahead).
    const single = sqlFamily(this.registry.dataSource) === 'sqlite';
    const slots = new Slots(
      single ? 1 : Math.max(1, Math.floor(options.concurrency)),
    );
    const running = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let calls = 0;
    try {
      for await (const ids of prefetch(pages)) {
        if (failure) break;
        stats.found += ids.length;
        // The sync covers the records as loaded, so verified ones are stamped with a time before the load.
        const startedAt = new Date();
        const [entities, crmIds] = await Promise.all([
          loadInOrder(this.engine, config, ids),
          this.store.crmIdsOf(config.crm, config.resourceType, ids),
        ]);
        const batches: Array<Promise<void>> = [];
        const verified: string[] = [];
        for (const batch of chunks(entities, CRM_BATCH)) {
          await slots.take();
          if (failure) {
            slots.give();
            break;
          }
          batches.push(
            this.syncBatch(config, batch, crmIds, verified, stats)
              .then((pushed) => {
                calls += batched ? Math.ceil(pushed / CRM_BATCH) : pushed;
              })
              .finally(() => slots.give()),
          );
        }
        // Settled, not all: a failed batch must not leave its page's other batches running unawaited.
        const page: Promise<void> = Promise.allSettled(batches)
          .then(async (results) => {
            for (const result of results)
              if (result.status === 'rejected') throw result.reason;
            // The digest guard writes nothing for a record found unchanged on the one-by-one path.
            await this.store.touchVerified(
              config.crm,
              config.resourceType,
              verified,
              startedAt,
            );
          })
          .then(
            () => {
              running.delete(page);
              if (!failure) options.onPage(ids.length);
            },
            (error: unknown) => {
              running.delete(page);
              failure ??= { error };
            },
          );
        running.add(page);
      }
    } finally {
      // Never leave batches running behind a failure (they hold leases and report into stats).
      await Promise.all([...running]);
    }
    if (failure) throw failure.error;
    return calls;
  }

  /** One engine call (one CRM batch); tallies its outcomes, collects the records found unchanged. */
  private async syncBatch(
    config: EntitySyncConfig,
    entities: any[],
    crmIds: Map<string, string | null>,
    verified: string[],
    stats: StaleSweepEntityStats,
  ): Promise<number> {
    const outcomes = await this.engine.syncMany(config, entities);
    let pushed = 0;
    outcomes.forEach((outcome, index) => {
      const id = this.engine.resourceId(config, entities[index]);
      switch (outcome.status) {
        case 'synced':
          stats.synced++;
          if (crmIds.get(id)) stats.updated++;
          else stats.created++;
          pushed++;
          break;
        case 'not_modified':
          stats.notModified++;
          verified.push(id);
          break;
        case 'skipped':
          stats.skipped++;
          break;
        case 'error':
          stats.errors++;
          pushed++;
          break;
        case 'disabled':
          stats.disabled++;
          break;
        case 'enqueued':
          stats.enqueued++;
          break;
        default:
          break;
      }
    });
    return pushed;
  }
}
