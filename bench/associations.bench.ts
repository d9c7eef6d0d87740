import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Column,
  DataSource,
  Entity,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmAssociationState,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifyModule,
  EtlifyStaleSweep,
  HubspotAdapter,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';

/**
 * Associations for 10,000 contacts and 1,000 companies on PostgreSQL against the sandbox at
 * HubSpot Professional's 190 calls / 10 s: the first sync, an unchanged resync and 1,000 contacts
 * moving company, counting association calls; beside them, in the same run, the same contacts
 * without associations (the company as a text property) as the baseline.
 */
const SCHEMA = 'etlify_bench_assoc';
const CONTACTS = Number(process.env.BENCH_ASSOC_CONTACTS ?? 10_000);
const COMPANIES = Number(process.env.BENCH_ASSOC_COMPANIES ?? 1_000);
const TOKEN = 'bench-token';
const ASSOCIATIONS = /^\/crm\/v4\/associations\//;

class CompanySerializer {
  toCrmPayload(company: BenchCompany) {
    return { name: company.name, domain: company.domain };
  }
}
class ContactSerializer {
  toCrmPayload(contact: BenchContact) {
    return { email: contact.email, firstname: contact.name };
  }
}
class PlainContactSerializer {
  toCrmPayload(contact: BenchPlainContact) {
    return {
      email: contact.email,
      firstname: contact.name,
      company: contact.companyName,
    };
  }
}

@Entity('companies')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CompanySerializer,
  crmObjectType: 'companies',
})
class BenchCompany {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) name!: string;
  @Column({ type: 'varchar', length: 200 }) domain!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: ContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  associations: [
    { relation: 'company', to: 'companies', typeId: 279 },
    { relation: 'company', to: 'companies', typeId: 1 },
  ],
})
class BenchContact {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @ManyToOne(() => BenchCompany, { nullable: true }) company!: BenchCompany;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('plain_contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: PlainContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
class BenchPlainContact {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ name: 'company_name', type: 'varchar', length: 200 })
  companyName!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

const pgOptions = {
  type: 'postgres' as const,
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  username: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
};

async function main(): Promise<void> {
  const admin = new DataSource(pgOptions);
  await admin.initialize();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
  await admin.destroy();

  const sandbox = new HubspotSandbox({
    accessToken: TOKEN,
    tenSecondLimit: 190,
    searchLagMs: 0,
  });
  const { baseUrl } = await sandbox.start();
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        ...pgOptions,
        schema: SCHEMA,
        entities: [
          BenchCompany,
          BenchContact,
          BenchPlainContact,
          CrmSynchronisation,
          EtlifyStaleSweep,
          CrmAssociationState,
        ],
        synchronize: true,
      }),
      EtlifyModule.forRoot({
        crms: [
          {
            name: 'hubspot',
            adapter: new HubspotAdapter({ accessToken: TOKEN, baseUrl }),
            rateLimit: { maxRequests: 190, intervalMs: 10_000 },
          },
        ],
        capture: false,
        staleSweep: false,
      }),
    ],
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, {
    logger: ['error'],
  });
  const ds = app.get(DataSource);
  const sync = app.get(SyncService);
  try {
    const companies = await ds.getRepository(BenchCompany).save(
      Array.from({ length: COMPANIES }, (_, i) => ({
        name: `Company ${i}`,
        domain: `c${i}.example.com`,
      })),
      { chunk: 500 },
    );
    await ds.getRepository(BenchContact).save(
      Array.from({ length: CONTACTS }, (_, i) => ({
        email: `a${i}@example.com`,
        name: `A${i}`,
        company: companies[i % COMPANIES],
      })),
      { chunk: 500 },
    );
    await ds.getRepository(BenchPlainContact).save(
      Array.from({ length: CONTACTS }, (_, i) => ({
        email: `p${i}@example.com`,
        name: `P${i}`,
        companyName: `Company ${i % COMPANIES}`,
      })),
      { chunk: 500 },
    );

    const rows: Array<Record<string, string | number>> = [];
    const measure = async (label: string, run: () => Promise<unknown>) => {
      const calls = sandbox.requests.length;
      const associationCalls = sandbox.callCount({ path: ASSOCIATIONS });
      const started = Date.now();
      await run();
      const ms = Date.now() - started;
      rows.push({
        case: label,
        'HTTP calls': sandbox.requests.length - calls,
        'association calls':
          sandbox.callCount({ path: ASSOCIATIONS }) - associationCalls,
        'wall s': +(ms / 1000).toFixed(2),
      });
    };
    const stale = (entity: Function) =>
      sync.syncStale({ entities: [entity], async: false });

    await measure(`${COMPANIES} companies, first sync`, () =>
      stale(BenchCompany),
    );
    await measure(`baseline: ${CONTACTS} contacts, company as text`, () =>
      stale(BenchPlainContact),
    );
    await measure(`${CONTACTS} contacts + associations, first sync`, () =>
      stale(BenchContact),
    );
    // A long-lived database has statistics; fresh bulk-loaded tables do not (plans go wrong).
    for (const table of [
      'companies',
      'contacts',
      'plain_contacts',
      'crm_synchronisations',
      'crm_association_states',
    ])
      await ds.query(`VACUUM ANALYZE ${SCHEMA}.${table}`);
    await ds.query(`UPDATE ${SCHEMA}.contacts SET updated_at = now()`);
    await ds.query(`UPDATE ${SCHEMA}.plain_contacts SET updated_at = now()`);
    await measure(`baseline: ${CONTACTS} contacts unchanged, resync`, () =>
      stale(BenchPlainContact),
    );
    await measure(`${CONTACTS} contacts + associations unchanged, resync`, () =>
      stale(BenchContact),
    );
    await ds.query(
      `UPDATE ${SCHEMA}.contacts SET "companyId" = 1 + ("companyId" % ${COMPANIES}), updated_at = now() WHERE id <= 1000`,
    );
    await measure('1,000 contacts move company', () => stale(BenchContact));

    const linked = await ds.getRepository(CrmAssociationState).countBy({
      association: 'company',
    });
    console.table(rows);
    console.log(
      `association states: ${linked}; sandbox contact→company associations: ${countAssociations(sandbox)}`,
    );
  } finally {
    await app.close();
    await sandbox.stop();
  }
}

function countAssociations(sandbox: HubspotSandbox): number {
  let n = 0;
  for (const record of sandbox.records('contacts'))
    n += sandbox.associations('contacts', record.id, 'companies').length;
  return n;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
