import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';

/** What the engine calls once records are synced or found unchanged (AssociationSyncService). */
export interface AssociationSyncHook {
  /** Never throws: association failures are logged and kept on the association state. */
  afterSync(config: EntitySyncConfig, resourceIds: string[]): Promise<void>;
}
