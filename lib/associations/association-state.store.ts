import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { In, Repository } from 'typeorm';
import { CrmRegistry } from '../registry/crm.registry';
import { selectTree } from '../sync/find-options.util';
import {
  ASSOCIATION_CHUNK,
  ASSOCIATION_LEASE_MS,
} from './association.constants';
import { CrmAssociationState } from './crm-association-state.entity';

/** One association of one record. */
export interface AssociationStateKey {
  crmName: string;
  resourceType: string;
  association: string;
}

/** What a push leaves true in the CRM for one record. */
export interface AssociationStateValues {
  fromCrmId: string;
  toCrmIds: string[];
  types: string;
  pending: number;
  lastError: string | null;
}

/**
 * Reads and writes `crm_association_states`: rows created in bulk, leased in bulk (one statement
 * per 500 records) while a push is in flight, and written back in one statement per 500.
 */
@Injectable()
export class AssociationStateStore {
  constructor(private readonly registry: CrmRegistry) {}

  private get repository(): Repository<CrmAssociationState> {
    return this.registry.dataSource.getRepository(CrmAssociationState);
  }

  /**
   * Leases the rows of these records (created when missing); returns the token and the rows it
   * now holds. Records another caller holds are left out.
   */
  async lease(
    key: AssociationStateKey,
    resourceIds: string[],
  ): Promise<{ token: string; rows: Map<string, CrmAssociationState> }> {
    const token = randomUUID();
    const rows = new Map<string, CrmAssociationState>();
    const now = new Date();
    for (let i = 0; i < resourceIds.length; i += ASSOCIATION_CHUNK) {
      const ids = resourceIds.slice(i, i + ASSOCIATION_CHUNK);
      await this.repository
        .createQueryBuilder()
        .insert()
        .into(CrmAssociationState)
        .values(ids.map((resourceId) => ({ ...key, resourceId, pending: 0 })))
        .orIgnore()
        .execute();
      await this.repository
        .createQueryBuilder()
        .update(CrmAssociationState)
        .set({
          leaseToken: token,
          leaseExpiresAt: new Date(now.getTime() + ASSOCIATION_LEASE_MS),
        })
        .where(
          'crm_name = :crmName AND resource_type = :resourceType AND association = :association',
          key,
        )
        .andWhere('resource_id IN (:...ids)', { ids })
        .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
        .execute();
    }
    for (const row of await this.repository.findBy({ leaseToken: token }))
      rows.set(row.resourceId, row);
    return { token, rows };
  }

  /** The rows of these records that exist. */
  async find(
    key: AssociationStateKey,
    resourceIds: string[],
  ): Promise<Map<string, CrmAssociationState>> {
    const rows = new Map<string, CrmAssociationState>();
    for (let i = 0; i < resourceIds.length; i += ASSOCIATION_CHUNK) {
      const found = await this.repository.findBy({
        ...key,
        resourceId: In(resourceIds.slice(i, i + ASSOCIATION_CHUNK)),
      });
      for (const row of found) rows.set(row.resourceId, row);
    }
    return rows;
  }

  /**
   * Runs a CRM call while renewing the leases taken under `token`: a slow but live push keeps
   * its records; the leases of a process that died lapse after ASSOCIATION_LEASE_MS.
   */
  async whileLeased<R>(token: string, call: () => Promise<R>): Promise<R> {
    const timer = setInterval(() => {
      this.repository
        .createQueryBuilder()
        .update(CrmAssociationState)
        .set({ leaseExpiresAt: new Date(Date.now() + ASSOCIATION_LEASE_MS) })
        .where('lease_token = :token', { token })
        .execute()
        .catch(() => undefined);
    }, ASSOCIATION_LEASE_MS / 3);
    timer.unref();
    try {
      return await call();
    } finally {
      clearInterval(timer);
    }
  }

  /** Writes the pushed sets and releases their leases, one statement per 500 rows. */
  async save(
    rows: Array<{ row: CrmAssociationState; values: AssociationStateValues }>,
  ): Promise<void> {
    for (let i = 0; i < rows.length; i += ASSOCIATION_CHUNK) {
      await this.repository
        .createQueryBuilder()
        .insert()
        .into(CrmAssociationState)
        .values(
          rows.slice(i, i + ASSOCIATION_CHUNK).map(({ row, values }) => ({
            crmName: row.crmName,
            resourceType: row.resourceType,
            resourceId: row.resourceId,
            association: row.association,
            fromCrmId: values.fromCrmId,
            toCrmIds: JSON.stringify(values.toCrmIds),
            types: values.types,
            pending: values.pending,
            lastError: values.lastError?.slice(0, 4000) ?? null,
            leaseToken: null,
            leaseExpiresAt: null,
          })),
        )
        // The rows exist (leased under `token`): this updates them in one statement.
        .orUpdate(
          [
            'from_crm_id',
            'to_crm_ids',
            'types',
            'pending',
            'last_error',
            'lease_token',
            'lease_expires_at',
          ],
          ['crm_name', 'resource_type', 'resource_id', 'association'],
        )
        .execute();
    }
  }

  /** Releases leases without writing (nothing to push for these records). */
  async release(token: string, rowIds: number[]): Promise<void> {
    for (let i = 0; i < rowIds.length; i += ASSOCIATION_CHUNK) {
      await this.repository
        .createQueryBuilder()
        .update(CrmAssociationState)
        .set({ leaseToken: null, leaseExpiresAt: null })
        .where('id IN (:...ids)', {
          ids: rowIds.slice(i, i + ASSOCIATION_CHUNK),
        })
        .andWhere('lease_token = :token', { token })
        .execute();
    }
  }

  /** How many of these records another caller is pushing right now. */
  async countLeased(
    key: AssociationStateKey,
    resourceIds: string[],
  ): Promise<number> {
    let count = 0;
    for (let i = 0; i < resourceIds.length; i += ASSOCIATION_CHUNK) {
      count += await this.repository
        .createQueryBuilder('a')
        .where(
          'a.crm_name = :crmName AND a.resource_type = :resourceType AND a.association = :association',
          key,
        )
        .andWhere('a.resource_id IN (:...ids)', {
          ids: resourceIds.slice(i, i + ASSOCIATION_CHUNK),
        })
        .andWhere('a.lease_token IS NOT NULL AND a.lease_expires_at >= :now', {
          now: new Date(),
        })
        .getCount();
    }
    return count;
  }

  /** Records of one association still waiting for targets, or whose last push failed. */
  async unfinished(key: AssociationStateKey, limit: number): Promise<string[]> {
    const rows = await this.repository
      .createQueryBuilder('a')
      .select('a.resource_id', 'resourceId')
      .where(
        'a.crm_name = :crmName AND a.resource_type = :resourceType AND a.association = :association',
        key,
      )
      .andWhere('(a.pending > 0 OR a.last_error IS NOT NULL)')
      .orderBy('a.id', 'ASC')
      .limit(limit)
      .getRawMany<{ resourceId: string }>();
    return rows.map((r) => String(r.resourceId));
  }

  /** Whether any record of this association waits for a target (one indexed read). */
  async hasPending(key: AssociationStateKey): Promise<boolean> {
    const row = await this.repository
      .createQueryBuilder('a')
      .select('a.id', 'id')
      .where(
        'a.crm_name = :crmName AND a.resource_type = :resourceType AND a.association = :association',
        key,
      )
      .andWhere('a.pending > 0')
      .limit(1)
      .getRawOne();
    return !!row;
  }

  /** Which of these records wait for targets (pending > 0). */
  async pendingAmong(
    key: AssociationStateKey,
    resourceIds: string[],
  ): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < resourceIds.length; i += ASSOCIATION_CHUNK) {
      const rows = await this.repository.find({
        where: {
          ...key,
          resourceId: In(resourceIds.slice(i, i + ASSOCIATION_CHUNK)),
        },
        select: selectTree(['resourceId', 'pending']),
      });
      out.push(...rows.filter((r) => r.pending > 0).map((r) => r.resourceId));
    }
    return out;
  }
}
