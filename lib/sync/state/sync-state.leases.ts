import { randomUUID } from 'node:crypto';
import { SYNC_LEASE_MS, SYNC_LEASE_POLL_MS } from '../../etlify.constants';
import { sleep } from '../../util/sleep.util';
import { CrmSynchronisation, TOMBSTONE } from '../crm-synchronisation.entity';
import { SyncStateTable } from './sync-state.table';

/** SyncStateStore, leases: concurrent syncs of one record take turns; a dead caller's lease lapses. */
export abstract class SyncStateLeases extends SyncStateTable {
  /** Takes the record's lease when free or expired; resolves to the token, or null when taken. */
  async acquireLease(
    rowId: number,
    ttlMs = SYNC_LEASE_MS,
  ): Promise<string | null> {
    const token = randomUUID();
    const now = new Date();
    const result = await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({
        leaseToken: token,
        leaseExpiresAt: new Date(now.getTime() + ttlMs),
      })
      .where('id = :id', { id: rowId })
      .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
      // A tombstone is never leased for a sync: the delete wins.
      .andWhere('state <> :tombstone', { tombstone: TOMBSTONE })
      .execute();
    return result.affected === 1 ? token : null;
  }

  /** Leases many rows with one statement; returns the token and the rows it now owns. */
  async acquireLeases(
    rowIds: number[],
    ttlMs = SYNC_LEASE_MS,
  ): Promise<{ token: string; rows: Map<number, CrmSynchronisation> }> {
    const token = randomUUID();
    const rows = new Map<number, CrmSynchronisation>();
    if (!rowIds.length) return { token, rows };
    const now = new Date();
    await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({
        leaseToken: token,
        leaseExpiresAt: new Date(now.getTime() + ttlMs),
      })
      .where('id IN (:...ids)', { ids: rowIds })
      .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
      .andWhere('state <> :tombstone', { tombstone: TOMBSTONE })
      .execute();
    for (const row of await this.repository.findBy({ leaseToken: token }))
      rows.set(row.id, row);
    return { token, rows };
  }

  /** How many of these records are leased right now (a lapsed lease does not count). */
  async countLeased(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<number> {
    let count = 0;
    for (let i = 0; i < resourceIds.length; i += 500) {
      count += await this.repository
        .createQueryBuilder('s')
        .where('s.crm_name = :crmName AND s.resource_type = :resourceType', {
          crmName,
          resourceType,
        })
        .andWhere('s.resource_id IN (:...ids)', {
          ids: resourceIds.slice(i, i + 500),
        })
        .andWhere('s.lease_token IS NOT NULL AND s.lease_expires_at >= :now', {
          now: new Date(),
        })
        .getCount();
    }
    return count;
  }

  /** Resolves when none of these records is leased (or after one lease's lifetime and a margin). */
  async waitForLeases(
    crmName: string,
    resourceType: string,
    resourceIds: string[],
  ): Promise<void> {
    const deadline = Date.now() + SYNC_LEASE_MS + 5_000;
    while (
      Date.now() < deadline &&
      (await this.countLeased(crmName, resourceType, resourceIds)) > 0
    )
      await sleep(SYNC_LEASE_POLL_MS * 4);
  }

  /** Extends every lease held under `token` (a live caller keeps what it owns; a dead one lets it lapse). */
  async renewLeases(token: string, ttlMs = SYNC_LEASE_MS): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ leaseExpiresAt: new Date(Date.now() + ttlMs) })
      .where('lease_token = :token', { token })
      .execute();
  }

  /** Gives back leases taken under `token` (only where still ours). */
  async releaseLeases(rowIds: number[], token: string): Promise<void> {
    if (!rowIds.length) return;
    await this.repository
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ leaseToken: null, leaseExpiresAt: null })
      .where('id IN (:...ids) AND lease_token = :token', { ids: rowIds, token })
      .execute();
  }
}
