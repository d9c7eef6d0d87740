import { Inject, Injectable, Optional } from '@nestjs/common';
import { ETLIFY_SYNC_PRODUCER } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { SyncEngine } from './sync-engine.service';
import type { SyncRunResult } from './sync-run.interface';

/**
 * Runs the engine and schedules what it leaves: with a queue, follow-ups (parents a record waits
 * for, dependants a parent released) become jobs; without one, the engine does them inline.
 */
@Injectable()
export class SyncRunner {
  constructor(
    private readonly engine: SyncEngine,
    @Optional()
    @Inject(ETLIFY_SYNC_PRODUCER)
    private readonly producer?: SyncJobProducer,
  ) {}

  async syncOne(config: EntitySyncConfig, entity: any): Promise<SyncOutcome> {
    return (await this.syncMany(config, [entity]))[0];
  }

  async syncMany(
    config: EntitySyncConfig,
    entities: any[],
  ): Promise<SyncOutcome[]> {
    return (await this.run(config, entities)).outcomes;
  }

  /** The engine's result, its follow-ups already enqueued (queue) or done (inline). */
  async run(config: EntitySyncConfig, entities: any[]): Promise<SyncRunResult> {
    if (!this.producer) return this.engine.run(config, entities);
    const result = await this.engine.run(config, entities, {
      followUps: 'return',
    });
    for (const followUp of result.followUps)
      await this.producer.enqueueMany(followUp.config, followUp.resourceIds);
    return result;
  }
}
