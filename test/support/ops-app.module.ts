import 'reflect-metadata';
import { BullModule } from '@nestjs/bull';
import { DynamicModule, Injectable, Type } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Column,
  DataSourceOptions,
  Entity,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifyEntityHooks,
  EtlifyFailedEvent,
  EtlifyModule,
  EtlifyRun,
  EtlifySerializer,
  EtlifyStaleSweep,
  EtlifySyncedEvent,
  HubspotAdapter,
  SerializeContext,
} from 'nestjs-etlify';

/** The app the operations specs (and the `etlify` CLI in a child process) run against. */

export class OpsCompanySerializer implements EtlifySerializer<OpsCompany> {
  toCrmPayload(company: OpsCompany): CrmPayload {
    return { name: company.name, domain: company.domain };
  }
}

export class OpsContactSerializer implements EtlifySerializer<OpsContact> {
  toCrmPayload(contact: OpsContact, context?: SerializeContext): CrmPayload {
    if (contact.firstName === 'boom') throw new Error('cannot serialize');
    return {
      email: contact.email,
      firstname: contact.firstName,
      lastname: contact.lastName,
      company: contact.company?.name ?? null,
      // Read through the context: only a parent with a CRM id gives one.
      website: context?.crmIdOf(contact.company)
        ? `crm:${context.crmIdOf(contact.company)}`
        : null,
      // An invalid option: the sandbox (like HubSpot) answers 400.
      ...(contact.firstName === 'reject'
        ? { lifecyclestage: 'not-a-stage' }
        : {}),
    };
  }
}

/** Records what the hooks saw (the spec reads it). */
@Injectable()
export class OpsContactHooks implements EtlifyEntityHooks<OpsContact> {
  readonly synced: Array<{ event: EtlifySyncedEvent; email?: string }> = [];
  readonly failed: EtlifyFailedEvent[] = [];
  afterSync(event: EtlifySyncedEvent, record: OpsContact): void {
    this.synced.push({ event, email: record?.email });
  }
  onError(event: EtlifyFailedEvent): void {
    this.failed.push(event);
  }
}

@Entity('ops_companies')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: OpsCompanySerializer,
  crmObjectType: 'companies',
  idProperty: 'domain',
})
export class OpsCompany {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ type: 'varchar', length: 100 }) domain!: string;
  @OneToMany(() => OpsContact, (contact) => contact.company)
  contacts!: OpsContact[];
  @UpdateDateColumn({ name: 'updated_at', precision: 3 }) updatedAt!: Date;
}

@Entity('ops_contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: OpsContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  syncIf: (contact: OpsContact) => !contact.email.endsWith('@skip.test'),
  dependencies: ['company'],
  syncDependencies: ['company'],
  crmIdColumn: 'hubspotId',
  hooks: OpsContactHooks,
})
export class OpsContact {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ name: 'first_name', type: 'varchar', length: 100 })
  firstName!: string;
  @Column({ name: 'last_name', type: 'varchar', length: 100 })
  lastName!: string;
  @Column({ name: 'hubspot_id', type: 'varchar', length: 64, nullable: true })
  hubspotId!: string | null;
  @ManyToOne(() => OpsCompany, (company) => company.contacts, {
    nullable: true,
  })
  company!: OpsCompany | null;
  @UpdateDateColumn({ name: 'updated_at', precision: 3 }) updatedAt!: Date;
}

export const OPS_ENTITIES = [
  OpsCompany,
  OpsContact,
  CrmSynchronisation,
  EtlifyStaleSweep,
  EtlifyRun,
];

export interface OpsAppSettings {
  db: DataSourceOptions;
  hubspotUrl: string;
  /** Bull queue on the shared Redis (its own name and prefix), or inline. */
  queue?: { name: string; prefix: string; processors?: boolean };
  redis?: { host: string; port: number; disconnectTimeout?: number };
  maxSyncErrors?: number;
  dailyLimit?: number;
}

export function opsImports(settings: OpsAppSettings): Array<DynamicModule | Type<unknown>> {
  const queue = settings.queue;
  return [
    TypeOrmModule.forRoot({
      ...(settings.db as any),
      entities: OPS_ENTITIES,
      synchronize: true,
      logging: false,
    }),
    EventEmitterModule.forRoot(),
    TerminusModule,
    ...(queue
      ? [
          BullModule.forRoot({
            redis: settings.redis ?? { host: '127.0.0.1', port: 6379 },
            prefix: queue.prefix,
          }),
        ]
      : []),
    EtlifyModule.forRoot({
      crms: [
        {
          name: 'hubspot',
          adapter: new HubspotAdapter({
            accessToken: 'test-token',
            baseUrl: settings.hubspotUrl,
            maxRetries: 0,
            // These tests need HubSpot's own 400s (with correlation ids), not the pre-flight checks.
            validatePayloads: false,
          }),
          rateLimit: {
            maxRequests: 100,
            intervalMs: 10_000,
            dailyLimit: settings.dailyLimit ?? 5000,
          },
          maxSyncErrors: settings.maxSyncErrors ?? 2,
        },
      ],
      queue: queue
        ? {
            name: queue.name,
            batchWindowMs: 20,
            backoffMs: 10,
            processors: queue.processors ?? true,
          }
        : false,
      capture: !!queue,
      staleSweep: false,
    }),
  ];
}
