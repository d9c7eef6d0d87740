import { Injectable } from '@nestjs/common';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { DependencyGate, DependencyRef } from './dependency-gate.service';
import { EntityLoader } from './entity-loader.service';
import { PayloadPreparer } from './payload-preparer.service';
import { errorMessage } from './redact.util';
import { SyncStateStore } from './sync-state.store';

/**
 * The dry run: what the engine would decide for these records, through the same preparation
 * (dependencies resolved, the real `crmIdOf`, the same digest), with no CRM call and no write.
 * `synced` means the record would be pushed: an update when `crmId` is set, else a create. A record
 * waiting for a dependency without a CRM id is pushed once that dependency is created.
 */
@Injectable()
export class SyncPreview {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
    private readonly loader: EntityLoader,
    private readonly gate: DependencyGate,
    private readonly preparer: PayloadPreparer,
  ) {}

  async preview(
    config: EntitySyncConfig,
    entities: any[],
  ): Promise<SyncOutcome[]> {
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled)
      return entities.map(() => ({ crm: crm.name, status: 'disabled' }));
    const dependencies = this.gate.hasDependencies(config)
      ? await this.gate.resolve(config, entities)
      : new Map<any, DependencyRef[]>();
    const ids = entities.map((entity) => {
      try {
        return this.loader.resourceId(config, entity);
      } catch (error) {
        return error as Error;
      }
    });
    const rows = await this.store.findMany(
      config.crm,
      config.resourceType,
      ids.filter((id): id is string => typeof id === 'string'),
    );
    const outcomes: SyncOutcome[] = [];
    for (const [index, entity] of entities.entries()) {
      const id = ids[index];
      if (typeof id !== 'string') {
        outcomes.push({ crm: crm.name, status: 'error', error: id.message });
        continue;
      }
      if (config.options.syncIf && !config.options.syncIf(entity)) {
        outcomes.push({ crm: crm.name, status: 'skipped' });
        continue;
      }
      const row = rows.get(id);
      const pushed: SyncOutcome = {
        crm: crm.name,
        status: 'synced',
        ...(row?.crmId ? { crmId: row.crmId } : {}),
      };
      const refs = dependencies.get(entity) ?? [];
      if (refs.some((ref) => ref.waitable && !ref.crmId)) {
        outcomes.push(pushed);
        continue;
      }
      try {
        const prepared = await this.preparer.compute(
          config,
          entity,
          this.loader.key(config, id),
          this.gate.serializeContext(config, refs),
          this.loader.coveredAt(config, entity),
        );
        outcomes.push(
          (row && this.preparer.unchanged(config, row, prepared.digest)) ??
            pushed,
        );
      } catch (error) {
        outcomes.push({
          crm: crm.name,
          status: 'error',
          error: errorMessage(error),
        });
      }
    }
    return outcomes;
  }
}
