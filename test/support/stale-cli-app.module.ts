import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Column,
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
  HubspotAdapter,
} from 'nestjs-etlify';

/**
 * The app the CLI spec points `etlify sync-stale --module` at: database options and the
 * HubSpot sandbox URL come from the environment the spec gives the child process.
 */
export class CliContactSerializer implements EtlifySerializer<CliContact> {
  readonly version = 1;
  toCrmPayload(contact: CliContact): CrmPayload {
    if (contact.firstName === 'boom') throw new Error('cannot serialize');
    return {
      email: contact.email,
      firstname: contact.firstName,
      lastname: contact.lastName,
    };
  }
}

@Entity('stale_cli_contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CliContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  syncIf: (contact: CliContact) => contact.lastName !== 'skip',
})
export class CliContact {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ name: 'first_name', type: 'varchar', length: 100 })
  firstName!: string;
  @Column({ name: 'last_name', type: 'varchar', length: 100 })
  lastName!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

export const CLI_ENTITIES = [CliContact, CrmSynchronisation, EtlifyStaleSweep];

@Module({
  imports: [
    TypeOrmModule.forRoot({
      ...JSON.parse(process.env.ETLIFY_CLI_DB ?? '{}'),
      entities: CLI_ENTITIES,
      synchronize: true,
      logging: false,
    }),
    EtlifyModule.forRoot({
      crms: [
        {
          name: 'hubspot',
          adapter: new HubspotAdapter({
            accessToken: 'test-token',
            baseUrl: process.env.ETLIFY_CLI_HUBSPOT_URL,
            maxRetries: 0,
          }),
          rateLimit: { maxRequests: 100, intervalMs: 10_000, dailyLimit: 5000 },
          maxSyncErrors: 5,
        },
      ],
      capture: false,
      staleSweep: false,
    }),
  ],
})
export class AppModule {}
