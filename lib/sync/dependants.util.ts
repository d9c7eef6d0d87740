import type { DataSource, EntityManager } from 'typeorm';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';

/** Ids per statement, well under every dialect's parameter limit. */
const CHUNK = 500;

/** The primary key value of a related record, whether TypeORM handed us an entity, an id map or an id. */
export function relatedId(
  value: unknown,
  metadata: EntityMetadata,
): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'object') {
    const id = metadata.primaryColumns[0].getEntityValue(value);
    return id === null || id === undefined ? null : String(id);
  }
  return String(value);
}

/**
 * Ids of `owner` records whose relation `relation` points at one of `targetIds`, resolved with one
 * join per chunk; TypeORM builds the join from the relation metadata, so every relation kind
 * (many-to-one, one-to-one either side, one-to-many, many-to-many through its junction) works.
 */
export async function findRelatedOwnerIds(
  source: DataSource | EntityManager,
  owner: EntityMetadata,
  relation: RelationMetadata,
  targetIds: string[],
): Promise<string[]> {
  const found = new Set<string>();
  const ownerKey = owner.primaryColumns[0].propertyName;
  const targetKey =
    relation.inverseEntityMetadata.primaryColumns[0].propertyName;
  for (let i = 0; i < targetIds.length; i += CHUNK) {
    const qb = source
      .createQueryBuilder(owner.target as Function, 'owner')
      .innerJoin(`owner.${relation.propertyPath}`, 'target')
      .select(`owner.${ownerKey}`, 'id')
      .where(`target.${targetKey} IN (:...targetIds)`, {
        targetIds: targetIds.slice(i, i + CHUNK),
      });
    for (const row of await qb.getRawMany<{ id: unknown }>())
      found.add(String(row.id));
  }
  return [...found];
}
