import { Inject, Injectable, Optional } from '@nestjs/common';
import { ETLIFY_SYNC_PRODUCER } from '../etlify.constants';
import type { SyncJobProducer } from '../interfaces/sync-job-producer.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import type { CrmSynchronisation } from '../sync/crm-synchronisation.entity';
import { SyncEngine } from '../sync/sync-engine.service';
import { SyncStateStore } from '../sync/sync-state.store';
import type {
  DeadLetter,
  DeadLetterQuery,
  Page,
} from './dead-letter.interface';
import { entityClass, resolveEntityConfig } from './entity-ref.util';
import {
  DEFAULT_DEAD_LETTER_PAGE,
  MAX_DEAD_LETTER_PAGE,
} from './ops.constants';

/** Dead letters as an API: list (paged), count, retry one, discard one with a reason. */
@Injectable()
export class DeadLettersService {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly engine: SyncEngine,
    private readonly store: SyncStateStore,
    @Optional()
    @Inject(ETLIFY_SYNC_PRODUCER)
    private readonly producer?: SyncJobProducer,
  ) {}

  async list(query: DeadLetterQuery = {}): Promise<Page<DeadLetter>> {
    const limit = query.limit ?? DEFAULT_DEAD_LETTER_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_PAGE) {
      throw new Error(
        `deadLetters: limit must be a whole number from 1 to ${MAX_DEAD_LETTER_PAGE}, got ${String(query.limit)}`,
      );
    }
    let afterId: number | undefined;
    if (query.after !== undefined) {
      afterId = Number(query.after);
      if (!Number.isSafeInteger(afterId) || afterId < 0)
        throw new Error(
          `deadLetters: "after" must be the "next" cursor of a previous page, got "${query.after}"`,
        );
    }
    const filter = this.filter(query);
    const rows = await this.store.findDeadLetters({
      ...filter,
      limit: limit + 1,
      afterId,
    });
    const items = rows.slice(0, limit).map(toDeadLetter);
    return {
      items,
      next: rows.length > limit ? String(rows[limit - 1].id) : null,
      total: await this.store.countDeadLetters(filter),
    };
  }

  count(query: Omit<DeadLetterQuery, 'limit' | 'after'> = {}): Promise<number> {
    return this.store.countDeadLetters(this.filter(query));
  }

  /**
   * Puts one dead letter back with its error count reset, and syncs it: enqueued when there is
   * a queue, else now (the outcome says how it went).
   */
  async retry(
    target: Function | string,
    id: string | number,
    options: { crm?: string } = {},
  ): Promise<SyncOutcome> {
    const { config, row } = await this.deadRow(target, id, options.crm, [
      'dead',
      'discarded',
    ]);
    await this.store.revive(row.id);
    const crm = this.registry.getCrm(config.crm);
    if (!crm.enabled) return { crm: crm.name, status: 'disabled' };
    if (this.producer) {
      await this.producer.enqueueMany(config, [row.resourceId]);
      return { crm: crm.name, status: 'enqueued' };
    }
    const entity = await this.engine.load(config, row.resourceId);
    if (!entity)
      return {
        crm: crm.name,
        status: 'skipped',
        error: `${config.resourceType}#${row.resourceId} not found`,
      };
    return this.engine.syncOne(config, entity);
  }

  /** Takes one dead letter off the list for good (until the record changes), keeping why. */
  async discard(
    target: Function | string,
    id: string | number,
    options: { crm?: string; reason: string },
  ): Promise<DeadLetter> {
    const reason = options?.reason?.trim();
    if (!reason)
      throw new Error(
        'discardDeadLetter: give a reason ({ reason: "..." }); it is kept on the record',
      );
    const { config, row } = await this.deadRow(target, id, options.crm, [
      'dead',
    ]);
    const at = new Date();
    if (
      !(await this.store.discard(
        row.id,
        reason.slice(0, 2000),
        at,
        config.serializerVersion,
      ))
    )
      throw new Error(
        `${config.resourceType}#${row.resourceId} is no longer dead-lettered in CRM "${config.crm}"`,
      );
    return toDeadLetter({ ...row, updatedAt: at });
  }

  private async deadRow(
    target: Function | string,
    id: string | number,
    crm: string | undefined,
    states: string[],
  ) {
    const { config } = resolveEntityConfig(
      this.registry,
      this.engine,
      [target, id],
      crm,
    );
    const row = await this.store.find(this.engine.key(config, String(id)));
    if (!row || !states.includes(row.state)) {
      throw new Error(
        `${config.resourceType}#${id} is not dead-lettered in CRM "${config.crm}" (state: ${row?.state ?? 'no sync state'})`,
      );
    }
    return { config, row };
  }

  private filter(query: Omit<DeadLetterQuery, 'limit' | 'after'>) {
    if (query.crm) this.registry.getCrm(query.crm);
    const resourceTypes = query.entities?.map((e) => {
      const target = entityClass(this.registry, e);
      return this.registry.getEntityConfigs(target)[0].resourceType;
    });
    return { crmName: query.crm, resourceTypes, category: query.category };
  }
}

function toDeadLetter(row: CrmSynchronisation): DeadLetter {
  return {
    crm: row.crmName,
    entity: row.resourceType,
    id: row.resourceId,
    crmId: row.crmId,
    errorCount: row.errorCount,
    lastError: row.lastError,
    category: row.lastErrorCategory,
    correlationId: row.lastCorrelationId,
    lastSyncedAt: row.lastSyncedAt,
    failedAt: row.updatedAt,
  };
}
