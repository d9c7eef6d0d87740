import { Injectable } from '@nestjs/common';
import {
  Column,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  OneToOne,
  PrimaryGeneratedColumn,
  Relation,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  EtlifiedEntity,
  EtlifySerializer,
  SerializeContext,
} from 'nestjs-etlify';

/** Entities for the capture specs: every relation kind, syncDependencies, soft deletes and a cycle. */

@Injectable()
export class CapCompanySerializer implements EtlifySerializer<CapCompany> {
  toCrmPayload(company: CapCompany): CrmPayload {
    const deals = company.deals ?? [];
    return {
      name: company.name,
      deal_total: deals.reduce((sum, deal) => sum + deal.amount, 0),
    };
  }
}

@Injectable()
export class CapContactSerializer implements EtlifySerializer<CapContact> {
  toCrmPayload(contact: CapContact, context?: SerializeContext): CrmPayload {
    return {
      email: contact.email,
      name: contact.name,
      company: contact.company?.name ?? null,
      company_crm_id: context?.crmIdOf(contact.company) ?? null,
      title: contact.profile?.title ?? null,
      tags: (contact.tags ?? [])
        .map((tag) => tag.label)
        .sort()
        .join(','),
    };
  }
}

@Injectable()
export class CapLeadSerializer implements EtlifySerializer<CapLead> {
  toCrmPayload(lead: CapLead): CrmPayload {
    return { email: lead.email };
  }
}

@Injectable()
export class CapPersonSerializer implements EtlifySerializer<CapPerson> {
  toCrmPayload(person: CapPerson, context?: SerializeContext): CrmPayload {
    return {
      name: person.name,
      partner_crm_id: context?.crmIdOf(person.partner) ?? null,
    };
  }
}

@Entity('cap_companies')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CapCompanySerializer,
  crmObjectType: 'companies',
  dependencies: ['deals'],
})
export class CapCompany {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @OneToMany(() => CapDeal, (deal) => deal.company)
  deals!: CapDeal[];

  @OneToMany(() => CapContact, (contact) => contact.company)
  contacts!: CapContact[];

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

/** Not etlified: only its parent company's payload depends on it (one-to-many). */
@Entity('cap_deals')
export class CapDeal {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'integer' })
  amount!: number;

  @ManyToOne(() => CapCompany, (company) => company.deals, {
    nullable: true,
    onDelete: 'SET NULL',
  })
  company!: CapCompany | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

/** Not etlified: one-to-one with a contact. */
@Entity('cap_profiles')
export class CapProfile {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  title!: string;

  @OneToOne(() => CapContact, (contact) => contact.profile)
  contact!: Relation<CapContact>;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

/** Not etlified: many-to-many with contacts through a junction table. */
@Entity('cap_tags')
export class CapTag {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  label!: string;

  @ManyToMany(() => CapContact, (contact) => contact.tags)
  contacts!: CapContact[];

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

@Entity('cap_contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CapContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  dependencies: ['company', 'profile', 'tags'],
  syncDependencies: ['company'],
})
export class CapContact {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  email!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @ManyToOne(() => CapCompany, (company) => company.contacts, {
    nullable: true,
    onDelete: 'SET NULL',
  })
  company!: CapCompany | null;

  @OneToOne(() => CapProfile, (profile) => profile.contact, {
    nullable: true,
  })
  @JoinColumn()
  profile!: CapProfile | null;

  @ManyToMany(() => CapTag, (tag) => tag.contacts)
  @JoinTable({ name: 'cap_contact_tags' })
  tags!: CapTag[];

  @DeleteDateColumn({ name: 'deleted_at' })
  deletedAt!: Date | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

@Entity('cap_leads')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CapLeadSerializer,
  crmObjectType: 'leads',
  idProperty: 'email',
  onSoftRemove: 'ignore',
})
export class CapLead {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  email!: string;

  @DeleteDateColumn({ name: 'deleted_at' })
  deletedAt!: Date | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

/** Two people naming each other as partner: a syncDependencies cycle. */
@Entity('cap_people')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CapPersonSerializer,
  crmObjectType: 'people',
  syncDependencies: ['partner'],
})
export class CapPerson {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @ManyToOne(() => CapPerson, { nullable: true })
  partner!: CapPerson | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

export const CAPTURE_ENTITIES = [
  CapCompany,
  CapDeal,
  CapProfile,
  CapTag,
  CapContact,
  CapLead,
  CapPerson,
];

export const CAPTURE_SERIALIZERS = [
  CapCompanySerializer,
  CapContactSerializer,
  CapLeadSerializer,
  CapPersonSerializer,
];
