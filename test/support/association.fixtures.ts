import { Injectable } from '@nestjs/common';
import {
  Column,
  Entity,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { CrmPayload, EtlifiedEntity, EtlifySerializer } from 'nestjs-etlify';

/** The first custom object a fresh sandbox defines gets this id (portal 12345678). */
export const CAR_TYPE_ID = '2-2000001';
export const CAR_NAME = 'p12345678_car';

@Injectable()
export class AsCompanySerializer implements EtlifySerializer<AsCompany> {
  toCrmPayload(company: AsCompany): CrmPayload {
    return { name: company.name, domain: company.domain };
  }
}

@Injectable()
export class AsContactSerializer implements EtlifySerializer<AsContact> {
  toCrmPayload(contact: AsContact): CrmPayload {
    // The company is an association, not a text property.
    return { email: contact.email, firstname: contact.name };
  }
}

@Injectable()
export class AsDealSerializer implements EtlifySerializer<AsDeal> {
  toCrmPayload(deal: AsDeal): CrmPayload {
    return {
      dealname: deal.name,
      amount: deal.amount,
      pipeline: 'default',
      dealstage: 'appointmentscheduled',
    };
  }
}

@Injectable()
export class AsCarSerializer implements EtlifySerializer<AsCar> {
  toCrmPayload(car: AsCar): CrmPayload {
    return { plate: car.plate };
  }
}

@Entity('as_companies')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: AsCompanySerializer,
  crmObjectType: 'companies',
})
export class AsCompany {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 200 })
  domain!: string;

  @OneToMany(() => AsContact, (contact) => contact.company)
  contacts!: AsContact[];

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

@Entity('as_contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: AsContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  // A car changing owner changes the car's row, not the contact's: `dependencies` re-syncs it.
  dependencies: ['cars'],
  associations: [
    // Unlabeled and primary: the contact's company in both HubSpot senses.
    { relation: 'company', to: 'companies', typeId: 279 },
    { relation: 'company', to: 'companies', typeId: 1 },
    // One-to-many to a custom object named by its fully qualified name; the default type.
    { relation: 'cars', to: CAR_NAME },
  ],
})
export class AsContact {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  email!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @ManyToOne(() => AsCompany, (company) => company.contacts, {
    nullable: true,
  })
  company!: AsCompany | null;

  @OneToMany(() => AsCar, (car) => car.owner)
  cars!: AsCar[];

  @ManyToMany(() => AsDeal, (deal) => deal.contacts)
  deals!: AsDeal[];

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

@Entity('as_deals')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: AsDealSerializer,
  crmObjectType: 'deals',
  // Junction rows change without the deal's row: `dependencies` lets capture see them.
  dependencies: ['contacts'],
  associations: [
    // A user-defined label, named by its label and resolved at boot.
    { relation: 'contacts', to: 'contacts', label: 'Decision maker' },
    { relation: 'company', to: 'companies', typeId: 5 },
  ],
})
export class AsDeal {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'integer', default: 0 })
  amount!: number;

  @ManyToMany(() => AsContact, (contact) => contact.deals)
  @JoinTable({ name: 'as_deal_contacts' })
  contacts!: AsContact[];

  @ManyToOne(() => AsCompany, { nullable: true })
  company!: AsCompany | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

@Entity('as_cars')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: AsCarSerializer,
  // A custom object by its object type id.
  crmObjectType: CAR_TYPE_ID,
  associations: [{ relation: 'owner', to: 'contacts' }],
})
export class AsCar {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 20 })
  plate!: string;

  @ManyToOne(() => AsContact, (contact) => contact.cars, { nullable: true })
  owner!: AsContact | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

export const ASSOCIATION_ENTITIES = [AsCompany, AsContact, AsDeal, AsCar];
export const ASSOCIATION_SERIALIZERS = [
  AsCompanySerializer,
  AsContactSerializer,
  AsDealSerializer,
  AsCarSerializer,
];
