import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
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
 * The app the sync-properties spec points `etlify sync-properties --module` at (and boots in
 * process): database options and the sandbox URL come from the environment.
 */
@Injectable()
export class ShopperSerializer implements EtlifySerializer<Shopper> {
  /** The schema sync-properties creates missing properties from. */
  readonly crmProperties = {
    loyalty_tier: {
      type: 'enumeration' as const,
      label: 'Loyalty tier',
      options: ['gold', 'silver', 'bronze'],
    },
    total_spent: { type: 'number' as const, label: 'Total spent' },
    // Declared as a number, but HubSpot's firstname is a string: a type disagreement.
    firstname: { type: 'number' as const },
  };
  readonly crmPropertyGroup = { name: 'shop', label: 'Shop' };

  toCrmPayload(shopper: Shopper): CrmPayload {
    return {
      email: shopper.email,
      firstname: shopper.name,
      loyalty_tier: 'gold',
      total_spent: shopper.spent,
      // Produced but not declared: reported missing, not creatable.
      favourite_color: 'teal',
    };
  }
}

@Entity('props_shoppers')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: ShopperSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
export class Shopper {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  email!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'integer', default: 0 })
  spent!: number;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

export const PROPERTIES_ENTITIES = [
  Shopper,
  CrmSynchronisation,
  EtlifyStaleSweep,
];

// Factories, not values: the spec sets the environment after importing this file.
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      useFactory: () => ({
        ...JSON.parse(process.env.ETLIFY_PROPS_DB ?? '{}'),
        entities: PROPERTIES_ENTITIES,
        synchronize: false,
      }),
    }),
    EtlifyModule.forRootAsync({
      useFactory: () => ({
        crms: [
          {
            name: 'hubspot',
            adapter: new HubspotAdapter({
              accessToken: 'props-token',
              baseUrl: process.env.ETLIFY_PROPS_HUBSPOT_URL,
            }),
          },
        ],
        capture: false,
        staleSweep: false,
      }),
    }),
  ],
  providers: [ShopperSerializer],
})
export class AppModule {}
