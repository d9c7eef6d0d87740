import { Injectable } from '@nestjs/common';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmRegistry } from '../registry/crm.registry';

/**
 * `crmIdColumn`: copies a record's CRM id into one of its columns. The statement keeps the
 * update timestamp and version as they are and calls no TypeORM listener, so neither capture nor
 * the stale finder sees a change (no second sync).
 */
@Injectable()
export class CrmIdColumnWriter {
  constructor(private readonly registry: CrmRegistry) {}

  async write(
    config: EntitySyncConfig,
    items: Array<{ entity?: any; resourceId: string; crmId: string }>,
  ): Promise<void> {
    const property = config.options.crmIdColumn;
    if (!property) return;
    const metadata = config.metadata;
    const column = metadata.findColumnWithPropertyName(property)!;
    const escape = (name: string) =>
      this.registry.dataSource.driver.escape(name);
    for (const item of items) {
      const current = item.entity
        ? column.getEntityValue(item.entity)
        : undefined;
      if (
        current !== undefined &&
        current !== null &&
        String(current) === item.crmId
      )
        continue;
      const values: Record<string, unknown> = { [property]: item.crmId };
      // Assigned to themselves, so TypeORM does not bump them (nor MySQL's ON UPDATE).
      for (const kept of [metadata.updateDateColumn, metadata.versionColumn]) {
        if (kept) values[kept.propertyName] = () => escape(kept.databaseName);
      }
      await this.registry.dataSource
        .createQueryBuilder()
        .update(config.target)
        .set(values)
        .where({ [config.primaryColumn.propertyName]: item.resourceId })
        .callListeners(false)
        .updateEntity(false)
        .execute();
      if (item.entity) column.setEntityValue(item.entity, item.crmId);
    }
  }
}
