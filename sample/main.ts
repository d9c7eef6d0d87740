import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CrmSynchronisation, SyncOutcome, SyncService } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { createAppModule } from './app.module';
import { Company } from './companies/company.entity';
import { User } from './users/user.entity';

/** Walks through the sync story on an SQLite file and an in-memory CRM, printing each outcome. */
async function main(): Promise<void> {
  const database = join(__dirname, 'sample.db');
  rmSync(database, { force: true });
  const crm = new InMemoryCrmAdapter();
  const app = await NestFactory.createApplicationContext(
    createAppModule({ database, adapter: crm }),
    {
      logger: ['error', 'warn'],
    },
  );
  const sync = app.get(SyncService);
  const ds = app.get(DataSource);
  const users = ds.getRepository(User);
  const companies = ds.getRepository(Company);
  const rows: Array<Record<string, string>> = [];
  const step = (what: string, record: string, outcome: SyncOutcome) =>
    rows.push({
      step: what,
      record,
      status: outcome.status,
      crmId: outcome.crmId ?? '',
      calls: String(crm.callCount()),
    });

  const acme = await companies.save(
    companies.create({ name: 'Acme', domain: 'acme.test' }),
  );
  step('create company', 'Company#' + acme.id, await sync.sync(acme));
  const ada = await users.save(
    users.create({
      email: 'ada@acme.test',
      firstName: 'Ada',
      lastName: 'Lovelace',
      company: acme,
    }),
  );
  step('create user', 'User#' + ada.id, await sync.sync(ada));
  const anon = await users.save(
    users.create({ email: null, firstName: 'Anon', lastName: 'Ymous' }),
  );
  step('user without email (syncIf)', 'User#' + anon.id, await sync.sync(anon));

  ada.lastName = 'King';
  await users.save(ada);
  step('change a field', 'User#' + ada.id, await sync.sync(ada));
  step('touch nothing', 'User#' + ada.id, await sync.syncById(User, ada.id));

  crm.failNext(1);
  ada.firstName = 'Augusta Ada';
  await users.save(ada);
  step('CRM fails once', 'User#' + ada.id, await sync.sync(ada));
  step('retry succeeds', 'User#' + ada.id, await sync.sync(ada));

  const removed = await sync.delete(anon);
  rows.push({
    step: 'delete (never synced)',
    record: 'User#' + anon.id,
    status: removed.status,
    crmId: '',
    calls: String(crm.callCount()),
  });

  console.log('\nWhat happened');
  console.table(rows);
  console.log('What the CRM holds');
  console.table(
    ['companies', 'contacts'].flatMap((type) =>
      crm.records(type).map((r) => ({ type, id: r.id, ...r.properties })),
    ),
  );
  console.log('crm_synchronisations');
  console.table(
    (
      await ds.getRepository(CrmSynchronisation).find({ order: { id: 'ASC' } })
    ).map((s) => ({
      resource: `${s.resourceType}#${s.resourceId}`,
      state: s.state,
      crmId: s.crmId,
      digest: s.lastDigest?.slice(0, 12) ?? null,
      errors: s.errorCount,
    })),
  );
  await app.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
