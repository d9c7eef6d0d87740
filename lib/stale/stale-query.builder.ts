import type { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmSynchronisation } from '../sync/crm-synchronisation.entity';
import { StaleSql } from './stale-sql.util';

/** How one declared dependency joins back to the record, resolved once from the relation metadata. */
interface DependencyJoin {
  /** `EXISTS (...)` true when a related row changed after `s.last_synced_at`. */
  exists: string;
  /** Ids of records whose related rows changed after `:{since}` (incremental candidates). */
  candidates: string;
}

/** Per entity and CRM: the finder's SQL, built once from metadata (identifiers only, no values). */
export interface StaleQueryPlan {
  config: EntitySyncConfig;
  /** Values the statements name besides crm, type, since and after (the discriminator values). */
  values: Record<string, unknown>;
  /** One page of stale ids after `:{after}` (when `keyset`), `incremental` from `:{since}`. */
  page(options: {
    keyset: boolean;
    incremental: boolean;
    limit: number;
  }): string;
  /** How many records are stale (for progress and ETA). */
  count(options: { incremental: boolean }): string;
  /** Operations: since when the oldest stale record waits (its change, or its last sync for a dependency's). */
  oldest(): string;
}

function updateColumnOf(
  metadata: EntityMetadata,
  where: string,
  fix: string,
): ColumnMetadata {
  const column = metadata.updateDateColumn;
  if (!column) {
    throw new EtlifyConfigurationError(`${where}; ${fix}`);
  }
  return column;
}

function single<T>(items: T[], where: string): T {
  if (items.length !== 1) {
    throw new EtlifyConfigurationError(
      `${where}: relations with composite keys are not supported as dependencies; remove it from dependencies`,
    );
  }
  return items[0];
}

/**
 * Builds the finder's statements for PostgreSQL, MySQL/MariaDB and SQLite. A record is stale for
 * a CRM when it has no state row, was never synced, its last sync failed, it changed after its
 * last sync, a dependency changed after it, or its serializer version moved; `dead` rows never
 * are, `skipped` rows only when the record or a dependency changed.
 */
export function buildStaleQueryPlan(
  dataSource: DataSource,
  config: EntitySyncConfig,
): StaleQueryPlan {
  const sql = new StaleSql(dataSource);
  const where = `@EtlifiedEntity on ${config.resourceType} (CRM "${config.crm}")`;
  const updated = config.updatedAtColumn;
  if (!updated) {
    throw new EtlifyConfigurationError(
      `${where}: the stale-record finder needs the record's update time; add an @UpdateDateColumn() to ${config.resourceType} or name a timestamp column with updatedAtColumn: '...'`,
    );
  }
  const state = dataSource.getMetadata(CrmSynchronisation);
  const S = sql.table(state);
  const T = sql.table(config.metadata);
  const pk = sql.col('t', config.primaryColumn);
  const synced = 's.' + sql.id('last_synced_at');

  const dependencies: DependencyJoin[] = (
    config.options.dependencies ?? []
  ).map((path, index) =>
    dependencyJoin(
      sql,
      config,
      config.metadata.findRelationWithPropertyPath(path)!,
      `${where}: dependency "${path}"`,
      `d${index}`,
      synced,
    ),
  );

  const version =
    config.serializerVersion === null
      ? `s.${sql.id('serializer_version')} IS NOT NULL`
      : `(s.${sql.id('serializer_version')} IS NULL OR s.${sql.id('serializer_version')} <> ${Number(config.serializerVersion)})`;
  const changed = [
    sql.newer(sql.col('t', updated), synced),
    ...dependencies.map((d) => d.exists),
  ].join(' OR ');
  const stale = `(s.${sql.id('id')} IS NULL OR (s.${sql.id('state')} <> 'dead' AND (${synced} IS NULL OR s.${sql.id('state')} = 'error' OR ${changed} OR (s.${sql.id('state')} <> 'skipped' AND ${version}))))`;
  const { own, values } = ownRows(sql, config.metadata);
  const join = `LEFT JOIN ${S} s ON s.${sql.id('crm_name')} = :{crm} AND s.${sql.id('resource_type')} = :{type} AND s.${sql.id('resource_id')} = ${sql.idAsText(pk)}`;

  const candidates = (keyset: boolean) => {
    const after = (expr: string) =>
      keyset
        ? ` AND ${expr} > ${sql.textAsId(':{after}', config.primaryColumn)}`
        : '';
    const changedRows = `SELECT t.${sql.id(config.primaryColumn.databaseName)} AS id FROM ${T} t WHERE ${sql.col('t', updated)} > :{since}${after(pk)}`;
    const fromState = sql.textAsId(
      `s.${sql.id('resource_id')}`,
      config.primaryColumn,
    );
    // State rows written since the mark: failed syncs to retry, rows never synced.
    const touched = `SELECT ${fromState} FROM ${S} s WHERE s.${sql.id('crm_name')} = :{crm} AND s.${sql.id('resource_type')} = :{type} AND (s.${sql.id('updated_at')} > :{since} OR ${synced} IS NULL)${after(fromState)}`;
    const related = dependencies.map(
      (d) => `SELECT c.id FROM (${d.candidates}) c WHERE 1 = 1${after('c.id')}`,
    );
    return [changedRows, touched, ...related].join(' UNION ');
  };

  const body = (keyset: boolean, incremental: boolean) => {
    const from = incremental
      ? `FROM (${candidates(keyset)}) c JOIN ${T} t ON ${pk} = c.id`
      : `FROM ${T} t`;
    const conditions = [...own, stale];
    if (keyset)
      conditions.unshift(
        `${pk} > ${sql.textAsId(':{after}', config.primaryColumn)}`,
      );
    return `${from} ${join} WHERE ${conditions.join(' AND ')}`;
  };

  return {
    config,
    values,
    // The id as text: a bigint past 2^53 must never pass through a JS number (SQLite returns one).
    page: ({ keyset, incremental, limit }) =>
      `SELECT ${sql.idAsText(pk)} AS id ${body(keyset, incremental)} ORDER BY ${pk} LIMIT ${Math.max(1, Math.floor(limit))}`,
    count: ({ incremental }) =>
      `SELECT COUNT(*) AS n ${body(false, incremental)}`,
    oldest: () =>
      `SELECT MIN(CASE WHEN ${synced} IS NULL OR ${sql.col('t', updated)} > ${synced} THEN ${sql.col('t', updated)} ELSE ${synced} END) AS oldest ${body(false, false)}`,
  };
}

/**
 * Conditions that keep the scan to the entity's own live rows: not soft-deleted (the repository
 * never loads those, so they would be found on every sweep), and in a single-table hierarchy only
 * the rows of this entity and its own children (the discriminator), as its repository reads them.
 */
function ownRows(
  sql: StaleSql,
  metadata: EntityMetadata,
): { own: string[]; values: Record<string, unknown> } {
  const own: string[] = [];
  const values: Record<string, unknown> = {};
  if (metadata.deleteDateColumn)
    own.push(`${sql.col('t', metadata.deleteDateColumn)} IS NULL`);
  const discriminator = metadata.discriminatorColumn;
  if (discriminator && metadata.tableType === 'entity-child') {
    const kinds = [
      metadata.discriminatorValue,
      ...metadata.childEntityMetadatas.map((child) => child.discriminatorValue),
    ].filter((kind): kind is string => kind !== undefined);
    const names = kinds.map((kind, index) => {
      values[`kind${index}`] = kind;
      return `:{kind${index}}`;
    });
    own.push(`${sql.col('t', discriminator)} IN (${names.join(', ')})`);
  }
  return { own, values };
}

/** The EXISTS test and the candidate query of one dependency, by relation kind. */
function dependencyJoin(
  sql: StaleSql,
  config: EntitySyncConfig,
  relation: RelationMetadata,
  where: string,
  alias: string,
  synced: string,
): DependencyJoin {
  const T = sql.table(config.metadata);
  const related = relation.inverseEntityMetadata;
  const fix = `add an @UpdateDateColumn() to ${related.targetName} so its changes can be seen, or remove "${relation.propertyPath}" from dependencies`;
  const U = updateColumnOf(
    related,
    `${where}: ${related.targetName} has no @UpdateDateColumn`,
    fix,
  );
  const D = sql.table(related);
  const changedSince = (a: string) => `${sql.col(a, U)} > :{since}`;
  const d = alias;

  if (relation.isManyToOne || relation.isOneToOneOwner) {
    // The foreign key is on our table.
    const fk = single(relation.joinColumns, where);
    const ref = fk.referencedColumn!;
    const on = `${sql.col(d, ref)} = ${sql.col('t', fk)}`;
    return {
      exists: `EXISTS (SELECT 1 FROM ${D} ${d} WHERE ${on} AND ${sql.newer(sql.col(d, U), synced)})`,
      candidates: `SELECT ${sql.col('t', config.primaryColumn)} AS id FROM ${T} t JOIN ${D} ${d} ON ${on} WHERE ${changedSince(d)}`,
    };
  }
  if (relation.isOneToMany || relation.isOneToOneNotOwner) {
    // The foreign key is on the related table, pointing at us.
    const inverse = relation.inverseRelation;
    if (!inverse) {
      throw new EtlifyConfigurationError(
        `${where}: the relation has no inverse side; declare the @ManyToOne/@OneToOne on ${related.targetName}`,
      );
    }
    const fk = single(inverse.joinColumns, where);
    const ref = fk.referencedColumn!;
    const on = `${sql.col(d, fk)} = ${sql.col('t', ref)}`;
    const byKey = ref.propertyPath === config.primaryColumn.propertyPath;
    return {
      exists: `EXISTS (SELECT 1 FROM ${D} ${d} WHERE ${on} AND ${sql.newer(sql.col(d, U), synced)})`,
      candidates: byKey
        ? `SELECT ${sql.col(d, fk)} AS id FROM ${D} ${d} WHERE ${changedSince(d)}`
        : `SELECT ${sql.col('t', config.primaryColumn)} AS id FROM ${T} t JOIN ${D} ${d} ON ${on} WHERE ${changedSince(d)}`,
    };
  }
  if (relation.isManyToMany) {
    // Through the junction table; which of its columns points at us depends on the owning side.
    const owning = relation.isOwning ? relation : relation.inverseRelation;
    const junction = owning?.junctionEntityMetadata;
    if (!owning || !junction) {
      throw new EtlifyConfigurationError(
        `${where}: no junction table found; add @JoinTable() to one side of the relation`,
      );
    }
    const ours = single(
      relation.isOwning ? owning.joinColumns : owning.inverseJoinColumns,
      where,
    );
    const theirs = single(
      relation.isOwning ? owning.inverseJoinColumns : owning.joinColumns,
      where,
    );
    const J = sql.table(junction);
    const j = `${d}j`;
    const onRelated = `${sql.col(d, theirs.referencedColumn!)} = ${sql.col(j, theirs)}`;
    const onOurs = `${sql.col(j, ours)} = ${sql.col('t', ours.referencedColumn!)}`;
    const byKey =
      ours.referencedColumn!.propertyPath === config.primaryColumn.propertyPath;
    return {
      exists: `EXISTS (SELECT 1 FROM ${J} ${j} JOIN ${D} ${d} ON ${onRelated} WHERE ${onOurs} AND ${sql.newer(sql.col(d, U), synced)})`,
      candidates: byKey
        ? `SELECT ${sql.col(j, ours)} AS id FROM ${J} ${j} JOIN ${D} ${d} ON ${onRelated} WHERE ${changedSince(d)}`
        : `SELECT ${sql.col('t', config.primaryColumn)} AS id FROM ${T} t JOIN ${J} ${j} ON ${onOurs} JOIN ${D} ${d} ON ${onRelated} WHERE ${changedSince(d)}`,
    };
  }
  throw new EtlifyConfigurationError(
    `${where}: unsupported relation kind ${relation.relationType}`,
  );
}
