import { Injectable } from '@nestjs/common';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { buildStaleQueryPlan, StaleQueryPlan } from './stale-query.builder';
import { StaleSql } from './stale-sql.util';

export interface StaleScanOptions {
  /** Ids per page (keyset pagination; never all loaded at once). */
  batchSize: number;
  /** Incremental scan: only records (or dependencies, or state rows) changed after this instant. */
  since?: Date | null;
}

/**
 * Finds the ids of stale records with one SQL statement per page, entity and CRM, paged by the
 * primary key so memory stays flat whatever the table size and rows inserted meanwhile are
 * returned once.
 */
@Injectable()
export class StaleRecordFinder {
  private readonly plans = new Map<EntitySyncConfig, StaleQueryPlan>();
  private sqlHelper?: StaleSql;

  constructor(private readonly registry: CrmRegistry) {}

  /** Builds (and caches) the statements; throws EtlifyConfigurationError for an unusable entity. */
  plan(config: EntitySyncConfig): StaleQueryPlan {
    let plan = this.plans.get(config);
    if (!plan) {
      plan = buildStaleQueryPlan(this.registry.dataSource, config);
      this.plans.set(config, plan);
    }
    return plan;
  }

  /** Pages of stale ids (as the text stored in `resource_id`), in primary-key order. */
  async *pages(
    config: EntitySyncConfig,
    options: StaleScanOptions,
  ): AsyncGenerator<string[]> {
    const plan = this.plan(config);
    const incremental = !!options.since;
    let after: string | undefined = undefined;
    for (;;) {
      const keyset = after !== undefined;
      const [text, values] = this.sql.bind(
        plan.page({ keyset, incremental, limit: options.batchSize }),
        this.params(config, options.since, after),
      );
      const rows: Array<{ id: unknown }> = await this.registry.dataSource.query(
        text,
        values,
      );
      if (!rows.length) return;
      const ids = rows.map((row) => String(row.id));
      after = ids[ids.length - 1];
      yield ids;
      if (rows.length < options.batchSize) return;
    }
  }

  /** Number of stale records (one more statement; used for progress and ETA). */
  async count(config: EntitySyncConfig, since?: Date | null): Promise<number> {
    const [text, values] = this.sql.bind(
      this.plan(config).count({ incremental: !!since }),
      this.params(config, since, undefined),
    );
    const rows: Array<{ n: unknown }> = await this.registry.dataSource.query(
      text,
      values,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Operations: since when the oldest stale record of this entity waits, or null when none is stale. */
  async oldestStale(config: EntitySyncConfig): Promise<Date | null> {
    const [text, values] = this.sql.bind(
      this.plan(config).oldest(),
      this.params(config, undefined, undefined),
    );
    const rows: Array<{ oldest: unknown }> =
      await this.registry.dataSource.query(text, values);
    const value = rows[0]?.oldest;
    if (value === null || value === undefined) return null;
    // SQLite hands back UTC text without a zone.
    return value instanceof Date
      ? value
      : new Date(
          /Z|[+-]\d\d:?\d\d$/.test(String(value))
            ? String(value)
            : `${String(value).replace(' ', 'T')}Z`,
        );
  }

  private get sql(): StaleSql {
    this.sqlHelper ??= new StaleSql(this.registry.dataSource);
    return this.sqlHelper;
  }

  private params(
    config: EntitySyncConfig,
    since: Date | null | undefined,
    after: unknown,
  ): Record<string, unknown> {
    const params: Record<string, unknown> = {
      ...this.plan(config).values,
      crm: config.crm,
      type: config.resourceType,
    };
    if (since) params.since = this.sql.date(since);
    if (after !== undefined) params.after = after;
    return params;
  }
}
