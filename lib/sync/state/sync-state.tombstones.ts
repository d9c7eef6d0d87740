import { randomUUID } from 'node:crypto';
import { In, Not } from 'typeorm';
import { selectTree } from '../find-options.util';
import { SYNC_LEASE_MS } from '../../etlify.constants';
import { CrmSynchronisation, TOMBSTONE } from '../crm-synchronisation.entity';
import { SyncStateDeadLetters } from './sync-state.dead-letters';
import { SyncStateKey } from './sync-state.table';

/** SyncStateStore, tombstones: deletes that win over syncs (SyncDeleteService). */
export abstract class SyncStateTombstones extends SyncStateDeadLetters {
  /**
   * Marks the rows of these records as tombstones (a fresh one starts with no errors) and returns
   * them. A record without a row has nothing in the CRM to delete.
   */
  async markTombstones(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<CrmSynchronisation[]> {
    const rows: CrmSynchronisation[] = [];
    const unique = [...new Set(resourceIds)];
    for (let i = 0; i < unique.length; i += 500) {
      const where = {
        crmName,
        resourceType,
        resourceId: In(unique.slice(i, i + 500)),
      };
      await this.repository.update(
        { ...where, state: Not(TOMBSTONE) },
        { state: TOMBSTONE, errorCount: 0 },
      );
      rows.push(...(await this.repository.findBy(where)));
    }
    return rows;
  }

  /** Tombstones of one type, oldest first after `afterId`: retried ones (`dead: false`) or dead-lettered. */
  findTombstones(
    crmName: string,
    resourceType: string,
    options: {
      maxErrors: number;
      dead: boolean;
      afterId: number;
      limit: number;
    },
  ): Promise<CrmSynchronisation[]> {
    return this.repository
      .createQueryBuilder('s')
      .where('s.crm_name = :crmName AND s.resource_type = :resourceType', {
        crmName,
        resourceType,
      })
      .andWhere('s.state = :tombstone', { tombstone: TOMBSTONE })
      .andWhere(`s.error_count ${options.dead ? '>=' : '<'} :max`, {
        max: options.maxErrors,
      })
      .andWhere('s.id > :afterId', { afterId: options.afterId })
      .orderBy('s.id', 'ASC')
      .take(options.limit)
      .getMany();
  }

  /** Leases tombstones only (free or lapsed leases); returns the token and the rows it now owns. */
  async leaseTombstones(
    rowIds: number[],
    ttlMs = SYNC_LEASE_MS,
  ): Promise<{ token: string; rows: CrmSynchronisation[] }> {
    const token = randomUUID();
    if (!rowIds.length) return { token, rows: [] };
    const now = new Date();
    for (let i = 0; i < rowIds.length; i += 500) {
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({
          leaseToken: token,
          leaseExpiresAt: new Date(now.getTime() + ttlMs),
        })
        .where('id IN (:...ids)', { ids: rowIds.slice(i, i + 500) })
        .andWhere('state = :tombstone', { tombstone: TOMBSTONE })
        .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
        .execute();
    }
    return { token, rows: await this.repository.findBy({ leaseToken: token }) };
  }

  /** Forgets tombstones whose CRM delete is settled, while their lease is still ours. */
  async removeTombstones(rowIds: number[], token: string): Promise<void> {
    for (let i = 0; i < rowIds.length; i += 500) {
      await this.repository.delete({
        id: In(rowIds.slice(i, i + 500)),
        leaseToken: token,
      });
    }
  }

  /** A CRM delete failed: the tombstone stays, with the error (counted or not), its lease released. */
  async markDeleteFailed(
    rowIds: number[],
    token: string,
    error: string,
    counted: boolean,
  ): Promise<void> {
    for (let i = 0; i < rowIds.length; i += 500) {
      await this.repository
        .createQueryBuilder()
        .update(CrmSynchronisation)
        .set({
          lastError: error.slice(0, 4000),
          ...(counted ? { errorCount: () => 'error_count + 1' } : {}),
          leaseToken: null,
          leaseExpiresAt: null,
        })
        .where('id IN (:...ids)', { ids: rowIds.slice(i, i + 500) })
        .andWhere('lease_token = :token', { token })
        .execute();
    }
  }

  /** Dead-lettered tombstones of one type get their attempts back; returns how many. */
  async reviveTombstones(
    crmName: string,
    resourceType: string,
    maxErrors: number,
  ): Promise<number> {
    const result = await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ errorCount: 0 })
      .where('crm_name = :crmName AND resource_type = :resourceType', {
        crmName,
        resourceType,
      })
      .andWhere('state = :tombstone AND error_count >= :max', {
        tombstone: TOMBSTONE,
        max: maxErrors,
      })
      .execute();
    return result.affected ?? 0;
  }

  /** CRM ids among `crmIds` that a live row (not a tombstone) of these resource types maps to. */
  async liveHolders(
    crmName: string,
    resourceTypes: string[],
    crmIds: string[],
  ): Promise<Set<string>> {
    const held = new Set<string>();
    const unique = [...new Set(crmIds)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.repository.find({
        where: {
          crmName,
          resourceType: In(resourceTypes),
          crmId: In(unique.slice(i, i + 500)),
          state: Not(TOMBSTONE),
        },
        select: selectTree(['crmId']),
      });
      for (const row of rows) if (row.crmId) held.add(row.crmId);
    }
    return held;
  }

  /** Whether a record has a row that is not a tombstone (a CRM write may re-create it). */
  async isLive(key: SyncStateKey): Promise<boolean> {
    const row = await this.find(key);
    return !!row && row.state !== TOMBSTONE;
  }
}
