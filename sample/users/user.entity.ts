import {
  Column,
  Entity,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { EtlifiedEntity } from 'nestjs-etlify';
import { Company } from '../companies/company.entity';
import { Investment } from '../investments/investment.entity';
import { UserEtlifySerializer } from './user.etlify-serializer';

@Entity('users')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: UserEtlifySerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  // A user without an email is never sent: HubSpot identifies contacts by email.
  syncIf: (user: User) => !!user.email,
  // A change to one of the user's investments makes the user's CRM record stale.
  dependencies: ['investments'],
  // The company's CRM record is created before its users'.
  syncDependencies: ['company'],
  // The contact is associated with its company in HubSpot, as its primary company.
  associations: [
    { relation: 'company', to: 'companies', typeId: 279 },
    { relation: 'company', to: 'companies', typeId: 1 },
  ],
})
export class User {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200, nullable: true })
  email!: string | null;

  @Column({ name: 'first_name', type: 'varchar', length: 100 })
  firstName!: string;

  @Column({ name: 'last_name', type: 'varchar', length: 100 })
  lastName!: string;

  /** A sales status; HubSpot's `hs_lead_status` only takes its own options (NEW, OPEN, …). */
  @Column({ name: 'lead_status', type: 'varchar', length: 40, nullable: true })
  leadStatus!: string | null;

  @ManyToOne(() => Company, (company) => company.users, {
    nullable: true,
    eager: true,
  })
  company!: Company | null;

  @OneToMany(() => Investment, (investment) => investment.user)
  investments!: Investment[];

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
