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
  HubspotAdapter,
} from 'nestjs-etlify';

/** The app `etlify provision --module` boots in the CLI spec: a contact and a company entity. */
class NameSerializer implements EtlifySerializer<{ name: string }> {
  toCrmPayload(row: { name: string }): CrmPayload {
    return { name: row.name };
  }
}

@Entity('provision_people')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: NameSerializer,
  crmObjectType: 'contacts',
})
export class ProvisionPerson {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('provision_firms')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: NameSerializer,
  crmObjectType: 'companies',
})
export class ProvisionFirm {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [ProvisionPerson, ProvisionFirm, CrmSynchronisation],
      synchronize: true,
      logging: false,
    }),
    EtlifyModule.forRoot({
      crms: [
        {
          name: 'hubspot',
          adapter: new HubspotAdapter({
            accessToken: process.env.ETLIFY_PROVISION_TOKEN ?? 'test-token',
            baseUrl: process.env.ETLIFY_PROVISION_HUBSPOT_URL,
            maxRetries: 0,
          }),
        },
      ],
      capture: false,
      staleSweep: false,
    }),
  ],
})
export class AppModule {}
