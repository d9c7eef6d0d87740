import { Injectable } from '@nestjs/common';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { StaleSweepEntityStats } from '../interfaces/sync-outcome.interface';
import { SyncEngine } from '../sync/sync-engine.service';
import { SyncPreview } from '../sync/sync-preview.service';
import { loadInOrder } from './stale-records.util';

/**
 * The dry run of `syncStale`: each page goes through the engine's own preparation
 * (`SyncPreview`: dependencies, `crmIdOf`, digest guard), so it predicts what the real run
 * does, without a CRM call or a write.
 */
@Injectable()
export class StaleDryRunService {
  constructor(
    private readonly engine: SyncEngine,
    private readonly previewer: SyncPreview,
  ) {}

  async classify(
    config: EntitySyncConfig,
    ids: string[],
    stats: StaleSweepEntityStats,
  ): Promise<void> {
    const entities = await loadInOrder(this.engine, config, ids);
    for (const outcome of await this.previewer.preview(config, entities)) {
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
