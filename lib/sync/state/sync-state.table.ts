import { Repository } from 'typeorm';
import { CrmRegistry } from '../../registry/crm.registry';
import {
  CrmSyncState,
  CrmSynchronisation,
  TOMBSTONE,
} from '../crm-synchronisation.entity';

export interface SyncStateKey {
  crmName: string;
  resourceType: string;
  resourceId: string;
}

/** Which dead letters to read. */
export interface DeadLetterFilter {
  crmName?: string;
  resourceTypes?: string[];
  category?: string;
  limit: number;
  afterId?: number;
}

/** SQL for `state`: `next`, except on a tombstone, which stays one until its delete is settled. */
export const keepTombstone = (next: CrmSyncState) => () =>
  `CASE WHEN state = '${TOMBSTONE}' THEN state ELSE '${next}' END`;

/**
 * The table under SyncStateStore. The store is the one class that reads and writes
 * `crm_synchronisations`; its parts (this base, leases, dead letters, tombstones) are layers of it,
 * each in its own file, and nothing else reaches the repository.
 */
export abstract class SyncStateTable {
  constructor(protected readonly registry: CrmRegistry) {}

  protected get repository(): Repository<CrmSynchronisation> {
    return this.registry.dataSource.getRepository(CrmSynchronisation);
  }

  find(key: SyncStateKey): Promise<CrmSynchronisation | null> {
    return this.repository.findOneBy({ ...key });
  }
}
