import type { DataSource } from 'typeorm';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import { ASSOCIATION_CHUNK } from './association.constants';

/**
 * The ids of the records each owner's relation points at, read from the database now (not from a
 * loaded entity, which may be older than the last commit). One join per 500 owners; TypeORM
 * builds it from the relation metadata, so every relation kind works. Owners without related
 * records map to an empty list.
 */
export async function loadRelatedIds(
  dataSource: DataSource,
  owner: EntityMetadata,
  relation: RelationMetadata,
  ownerIds: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ownerIds.map((id) => [id, []]));
  const ownerKey = owner.primaryColumns[0].propertyName;
  const targetKey =
    relation.inverseEntityMetadata.primaryColumns[0].propertyName;
  for (let i = 0; i < ownerIds.length; i += ASSOCIATION_CHUNK) {
    const rows = await dataSource
      .createQueryBuilder(owner.target as Function, 'owner')
      .innerJoin(`owner.${relation.propertyPath}`, 'target')
      .select(`owner.${ownerKey}`, 'ownerId')
      .addSelect(`target.${targetKey}`, 'targetId')
      .where(`owner.${ownerKey} IN (:...ownerIds)`, {
        ownerIds: ownerIds.slice(i, i + ASSOCIATION_CHUNK),
      })
      .getRawMany<{ ownerId: unknown; targetId: unknown }>();
    for (const row of rows) {
      if (row.targetId === null || row.targetId === undefined) continue;
      out.get(String(row.ownerId))?.push(String(row.targetId));
    }
  }
  return out;
}
