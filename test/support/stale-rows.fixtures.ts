import {
  ChildEntity,
  Column,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  TableInheritance,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  EtlifiedEntity,
  EtlifySerializer,
  SerializeContext,
} from 'nestjs-etlify';

/**
 * Rows the stale finder used to misjudge: soft-deleted rows, rows of a sibling entity in one
 * table, bigint keys past 2^53, and a dependant whose payload carries its parent's CRM id.
 */

export class NamedSerializer implements EtlifySerializer<{
  email: string;
  name: string;
}> {
  readonly version = 1;
  toCrmPayload(row: { email: string; name: string }): CrmPayload {
    return { email: row.email, name: row.name };
  }
}

@Entity('stale_members')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: NamedSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
export class Member {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
  @DeleteDateColumn({ name: 'deleted_at' }) deletedAt!: Date | null;
}

/** One table, two kinds; only customers are etlified. */
@Entity('stale_parties')
@TableInheritance({ column: { type: 'varchar', name: 'kind', length: 20 } })
export class Party {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@ChildEntity('customer')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: NamedSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
export class Customer extends Party {}

@ChildEntity('vendor')
export class Vendor extends Party {}

@Entity('stale_wide_keys')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: NamedSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
export class WideKey {
  /** A bigint comes back as a string from PostgreSQL and MariaDB, as a number from SQLite. */
  @PrimaryColumn({ type: 'bigint' }) id!: string;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_firms')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: class FirmSerializer implements EtlifySerializer<Firm> {
    readonly version = 1;
    toCrmPayload(firm: Firm): CrmPayload {
      return { name: firm.name, domain: firm.domain };
    }
  },
  crmObjectType: 'companies',
})
export class Firm {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Column({ type: 'varchar', length: 100 }) domain!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

/** Its payload names the firm's CRM id, which only the real preparation knows. */
export class EmployeeSerializer implements EtlifySerializer<Employee> {
  readonly version = 1;
  toCrmPayload(employee: Employee, context: SerializeContext): CrmPayload {
    return {
      email: employee.email,
      name: employee.name,
      firm_crm_id: context.crmIdOf(employee.firm) ?? null,
    };
  }
}

@Entity('stale_employees')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: EmployeeSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  syncDependencies: ['firm'],
})
export class Employee {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @ManyToOne(() => Firm, { nullable: true })
  @JoinColumn({ name: 'firm_id' })
  firm!: Firm | null;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

export const STALE_ROW_ENTITIES = [
  Member,
  Party,
  Customer,
  Vendor,
  WideKey,
  Firm,
  Employee,
];
