import { Injectable } from '@nestjs/common';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { StaleSweepEntityStats } from '../interfaces/sync-outcome.interface';
import { SyncEngine } from '../sync/sync-engine.service';
import { loadInOrder } from './stale-records.util';

/**
 * The dry run of `syncStale`: each page goes through the engine's own preparation
 * (`SyncEngine.preview`: dependencies, `crmIdOf`, digest guard), so it predicts what the real run
 * does, without a CRM call or a write.
 */
@Injectable()
export class StaleDryRunService {
  constructor(private readonly engine: SyncEngine) {}

  async classify(
    config: EntitySyncConfig,
    ids: string[],
    stats: StaleSweepEntityStats,
  ): Promise<void> {
    const entities = await loadInOrder(this.engine, config, ids);
    for (const outcome of await this.engine.preview(config, entities)) {
      switch (outcome.status) {
        case 'synced':
          if (outcome.crmId) stats.wouldUpdate++;
          else stats.wouldCreate++;
          break;
        case 'not_modified':
          stats.notModified++;
          break;
        case 'skipped':
          stats.skipped++;
          break;
        case 'disabled':
          stats.disabled++;
          break;
        default:
          stats.errors++;
      }
    }
  }
}
