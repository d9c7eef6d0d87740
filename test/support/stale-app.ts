import {
  INestApplication,
  LoggerService,
  ModuleMetadata,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  CrmRegistry,
  CrmSynchronisation,
  EtlifyModule,
  EtlifyModuleOptions,
  EtlifyStaleSweep,
} from 'nestjs-etlify';
import type { DataSourceOptions } from 'typeorm';
import { StaleRecordFinder } from '../../lib/stale/stale-record.finder';
import { STALE_ENTITIES } from './stale-fixtures';

export interface StaleAppOptions {
  db: { options: DataSourceOptions };
  etlify: EtlifyModuleOptions;
  entities?: Function[];
  imports?: ModuleMetadata['imports'];
  logger?: LoggerService;
}

/** A Nest app with TypeORM (schema synchronized), the stale fixtures and EtlifyModule; not initialised. */
export async function buildStaleApp(
  options: StaleAppOptions,
): Promise<INestApplication> {
  const entities = options.entities ?? STALE_ENTITIES;
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        ...options.db.options,
        entities: [...entities, CrmSynchronisation, EtlifyStaleSweep],
        synchronize: true,
        logging: false,
      } as any),
      ...(options.imports ?? []),
      EtlifyModule.forRoot(options.etlify),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({
    logger: options.logger ?? false,
  });
  return app;
}

/** Every id the finder returns for an entity, page by page. */
export async function staleIds(
  app: INestApplication,
  target: Function,
  options: { since?: Date | null; batchSize?: number; crm?: string } = {},
): Promise<string[]> {
  const finder = app.get(StaleRecordFinder);
  const config = app
    .get(CrmRegistry)
    .getEntityConfig(target, options.crm ?? 'hubspot');
  const ids: string[] = [];
  for await (const page of finder.pages(config, {
    batchSize: options.batchSize ?? 1000,
    since: options.since,
  })) {
    ids.push(...page);
  }
  return ids;
}

/** Empties the fixture tables and the sync state between tests sharing one database. */
export async function clearStaleTables(ds: DataSource): Promise<void> {
  const order = [
    'stale_group_members',
    'stale_account_tags',
    'stale_deals',
    'stale_passports',
    'stale_groups',
    'stale_tags',
    'stale_accounts',
    'stale_ledgers',
    'stale_owners',
    'stale_profiles',
    'crm_synchronisations',
    'etlify_stale_sweeps',
  ];
  for (const table of order) {
    const path =
      ds.driver.options.type === 'postgres'
        ? `"${(ds.options as any).schema}"."${table}"`
        : ds.driver.escape(table);
    await ds.query(`DELETE FROM ${path}`);
  }
}

/** Moves every timestamp of the fixtures and the sync state to fixed instants in the past. */
export async function backdate(
  ds: DataSource,
  times: { changed: Date; synced: Date },
): Promise<void> {
  for (const entity of STALE_ENTITIES) {
    await ds
      .createQueryBuilder()
      .update(entity)
      .set({ updatedAt: times.changed } as any)
      .execute();
  }
  await ds
    .createQueryBuilder()
    .update(CrmSynchronisation)
    .set({ lastSyncedAt: times.synced, updatedAt: times.synced })
    .where('last_synced_at IS NOT NULL')
    .execute();
  await ds
    .createQueryBuilder()
    .update(CrmSynchronisation)
    .set({ updatedAt: times.synced })
    .execute();
}
