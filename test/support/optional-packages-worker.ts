import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifyModule,
  EtlifySerializer,
  EtlifyStaleSweep,
  SyncService,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';

@Injectable()
class OptLeadSerializer implements EtlifySerializer<OptLead> {
  toCrmPayload(lead: OptLead): CrmPayload {
    return { email: lead.email };
  }
}

@Entity('opt_leads')
@EtlifiedEntity({
  crm: 'memory',
  serializer: OptLeadSerializer,
  crmObjectType: 'leads',
  idProperty: 'email',
})
class OptLead {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  email!: string;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

/**
 * Boots an inline app (no queue) with the stale sweeper on or off (SWEEP=1), saves a lead and
 * prints what the user sees: the CRM records, or the boot error. Started with the packages of
 * HIDE_PACKAGES made uninstalled (hide-packages.hook.js), so it runs as an app without them.
 */
async function main(): Promise<void> {
  const crm = new InMemoryCrmAdapter();
  let app;
  try {
    app = await NestFactory.createApplicationContext(
      {
        module: class OptionalPackagesModule {},
        imports: [
          TypeOrmModule.forRoot({
            type: 'better-sqlite3',
            database: ':memory:',
            entities: [OptLead, CrmSynchronisation, EtlifyStaleSweep],
            synchronize: true,
          }),
          EtlifyModule.forRoot({
            crms: [{ name: 'memory', adapter: crm }],
            queue: false,
            capture: true,
            staleSweep: process.env.SWEEP ? { cron: '0 0 1 1 *' } : false,
          }),
        ],
        providers: [OptLeadSerializer],
      },
      { logger: false, abortOnError: false },
    );
  } catch (error) {
    const { name, message } = error as Error;
    process.stdout.write(JSON.stringify({ error: `${name}: ${message}` }));
    return;
  }
  await app.get(DataSource).getRepository(OptLead).save({ email: 'a@x.io' });
  await app.get(SyncService).idle();
  const records = crm.records('leads').map((r) => r.properties.email);
  await app.close();
  process.stdout.write(JSON.stringify({ records }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
