import type { DataSource } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';

/** The three SQL families the finder speaks. */
export type SqlFamily = 'postgres' | 'mysql' | 'sqlite';

export function sqlFamily(dataSource: DataSource): SqlFamily {
  // A string: TypeORM 1.x dropped 'sqlite' and 'expo' from the type union, 0.3 still has them.
  const type: string = dataSource.options.type;
  if (type === 'postgres' || type === 'cockroachdb') return 'postgres';
  if (type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql')
    return 'mysql';
  if (
    type === 'better-sqlite3' ||
    type === 'sqlite' ||
    type === 'sqljs' ||
    type === 'capacitor' ||
    type === 'expo'
  ) {
    return 'sqlite';
  }
  throw new EtlifyConfigurationError(
    `EtlifyModule: the stale-record finder supports PostgreSQL, MySQL/MariaDB and SQLite; the DataSource is "${type}"`,
  );
}

/** Dialect-specific fragments used by the finder's queries. */
export class StaleSql {
  readonly family: SqlFamily;

  constructor(private readonly dataSource: DataSource) {
    this.family = sqlFamily(dataSource);
  }

  /** Escaped identifier. */
  id(name: string): string {
    return this.dataSource.driver.escape(name);
  }

  /** Escaped `schema.table` of an entity or junction. */
  table(metadata: EntityMetadata): string {
    return metadata.tablePath
      .split('.')
      .map((part) => this.id(part))
      .join('.');
  }

  /** `alias.column`, escaped. */
  col(alias: string, column: ColumnMetadata | string): string {
    const name = typeof column === 'string' ? column : column.databaseName;
    return `${alias}.${this.id(name)}`;
  }

  /** A primary-key value as the text stored in `crm_synchronisations.resource_id`. */
  idAsText(expr: string): string {
    if (this.family === 'postgres') return `CAST(${expr} AS varchar)`;
    // CONCAT yields a coercible string, so the column's collation wins and its index is used.
    if (this.family === 'mysql') return `CONCAT(${expr})`;
    return `CAST(${expr} AS TEXT)`;
  }

  /** `resource_id` back in the primary key's type, so the key's index drives the join. */
  textAsId(expr: string, primary: ColumnMetadata): string {
    const type = String(
      this.dataSource.driver.normalizeType(primary),
    ).toLowerCase();
    const integer = /int|serial/.test(type);
    if (this.family === 'postgres') {
      if (integer || type === 'uuid') return `CAST(${expr} AS ${type})`;
      return expr;
    }
    if (!integer) return expr;
    return this.family === 'mysql'
      ? `CAST(${expr} AS SIGNED)`
      : `CAST(${expr} AS INTEGER)`;
  }

  /**
   * `changed` is later than `synced`. A timestamp stored to the whole second (SQLite's
   * CURRENT_TIMESTAMP, MariaDB's CURRENT_TIMESTAMP without precision) may hide a change made
   * later in that second, so such a value counts as newer when it falls in the sync's second.
   */
  newer(changed: string, synced: string): string {
    if (this.family === 'postgres') {
      return `(${changed} > ${synced} OR (${changed} = date_trunc('second', ${changed}) AND ${changed} >= date_trunc('second', ${synced})))`;
    }
    if (this.family === 'mysql') {
      return `(${changed} > ${synced} OR (MICROSECOND(${changed}) = 0 AND ${changed} >= ${synced} - INTERVAL MICROSECOND(${synced}) MICROSECOND))`;
    }
    // SQLite keeps text: CURRENT_TIMESTAMP has no fraction, TypeORM writes `.SSS`.
    return `(${changed} > ${synced} OR ((instr(${changed}, '.') = 0 OR substr(${changed}, 20) = '.000') AND substr(${changed}, 1, 19) >= substr(${synced}, 1, 19)))`;
  }

  /** A Date as this driver compares it with the columns TypeORM wrote. */
  date(value: Date): unknown {
    if (this.family !== 'sqlite') return value;
    // TypeORM stores SQLite datetimes as UTC text with milliseconds.
    return value.toISOString().replace('T', ' ').replace('Z', '');
  }

  /**
   * Turns `:{name}` markers into the driver's positional placeholders, in order of appearance
   * (a name may repeat).
   */
  bind(sql: string, params: Record<string, unknown>): [string, unknown[]] {
    const values: unknown[] = [];
    const text = sql.replace(/:\{(\w+)\}/g, (_, name: string) => {
      if (!(name in params))
        throw new Error(`stale finder: no value for :{${name}}`);
      values.push(params[name]);
      return this.family === 'postgres' ? `$${values.length}` : '?';
    });
    return [text, values];
  }
}
