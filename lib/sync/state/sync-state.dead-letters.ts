import { In } from 'typeorm';
import { selectTree } from '../find-options.util';
import { CrmSynchronisation } from '../crm-synchronisation.entity';
import { SyncStateLeases } from './sync-state.leases';
import { DeadLetterFilter, SyncStateKey } from './sync-state.table';

/** SyncStateStore, operations: reads for explain, dead letters and status; failure details; discards. */
export abstract class SyncStateDeadLetters extends SyncStateLeases {
  /** State rows per CRM, entity and state. */
  async countByState(): Promise<
    Array<{
      crmName: string;
      resourceType: string;
      state: string;
      count: number;
    }>
  > {
    const rows = await this.repository
      .createQueryBuilder('s')
      .select('s.crm_name', 'crmName')
      .addSelect('s.resource_type', 'resourceType')
      .addSelect('s.state', 'state')
      .addSelect('COUNT(*)', 'count')
      .groupBy('s.crm_name')
      .addGroupBy('s.resource_type')
      .addGroupBy('s.state')
      .getRawMany<{
        crmName: string;
        resourceType: string;
        state: string;
        count: unknown;
      }>();
    return rows.map((row) => ({ ...row, count: Number(row.count) }));
  }

  /** Dead-lettered rows, oldest id first, after `afterId` (keyset paging). */
  findDeadLetters(filter: DeadLetterFilter): Promise<CrmSynchronisation[]> {
    const qb = this.deadLetterQuery(filter).orderBy('s.id', 'ASC');
    if (filter.afterId !== undefined)
      qb.andWhere('s.id > :afterId', { afterId: filter.afterId });
    return qb.take(filter.limit).getMany();
  }

  countDeadLetters(
    filter: Omit<DeadLetterFilter, 'limit' | 'afterId'>,
  ): Promise<number> {
    return this.deadLetterQuery(filter).getCount();
  }

  /** Category and correlation id of the failure `markFailed` just recorded. */
  async recordFailureDetails(
    key: SyncStateKey,
    details: { category: string; correlationId: string | null },
  ): Promise<void> {
    await this.repository.update(
      { ...key },
      {
        lastErrorCategory: details.category.slice(0, 32),
        lastCorrelationId: details.correlationId?.slice(0, 128) ?? null,
      },
    );
  }

  /**
   * Takes a dead letter out of the list, keeping why. Stamped as covered now (with the current
   * serializer version) so the stale finder leaves it alone until the record changes.
   */
  async discard(
    rowId: number,
    reason: string,
    at: Date,
    serializerVersion: number | null,
  ): Promise<boolean> {
    const result = await this.repository.update(
      { id: rowId, state: 'dead' },
      {
        state: 'discarded',
        // A change after the discard gets the full maxSyncErrors attempts again.
        errorCount: 0,
        discardReason: reason,
        discardedAt: at,
        lastSyncedAt: at,
        serializerVersion,
      },
    );
    return result.affected === 1;
  }

  /** Puts one dead letter back (error count reset); false when the row is not dead. */
  async revive(rowId: number): Promise<boolean> {
    const result = await this.repository.update(
      { id: rowId, state: In(['dead', 'discarded']) },
      { state: 'error', errorCount: 0, discardReason: null, discardedAt: null },
    );
    return result.affected === 1;
  }

  private deadLetterQuery(filter: Omit<DeadLetterFilter, 'limit' | 'afterId'>) {
    const qb = this.repository
      .createQueryBuilder('s')
      .where('s.state = :state', { state: 'dead' });
    if (filter.crmName)
      qb.andWhere('s.crm_name = :crm', { crm: filter.crmName });
    if (filter.resourceTypes)
      qb.andWhere('s.resource_type IN (:...types)', {
        types: filter.resourceTypes.length ? filter.resourceTypes : [''],
      });
    if (filter.category)
      qb.andWhere('s.last_error_category = :category', {
        category: filter.category,
      });
    return qb;
  }

  /** Puts the dead letters of one entity back (error count reset); returns their record ids. */
  async reviveDeadLetters(
    crmName: string,
    resourceType: string,
  ): Promise<string[]> {
    const dead = await this.repository.find({
      where: { crmName, resourceType, state: 'dead' },
      select: selectTree(['id', 'resourceId']),
    });
    for (let i = 0; i < dead.length; i += 500)
      await this.repository.update(
        { id: In(dead.slice(i, i + 500).map((row) => row.id)), state: 'dead' },
        { state: 'error', errorCount: 0 },
      );
    return dead.map((row) => row.resourceId);
  }
}
