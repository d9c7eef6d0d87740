import { Injectable } from '@nestjs/common';
import {
  Column,
  Entity,
  ManyToOne,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { CrmPayload, EtlifiedEntity, EtlifySerializer } from 'nestjs-etlify';

@Injectable()
export class CompanySerializer implements EtlifySerializer<Company> {
  readonly version = 1;
  toCrmPayload(company: Company): CrmPayload {
    return { name: company.name, domain: company.domain };
  }
}

@Injectable()
export class UserSerializer implements EtlifySerializer<User> {
  readonly version = 1;
  toCrmPayload(user: User): CrmPayload {
    if (user.firstName === 'boom')
      throw new Error('cannot serialize this user');
    return {
      email: user.email,
      firstname: user.firstName,
      lastname: user.lastName,
    };
  }
}

/** Not a provider: constructed once by the explorer. */
export class UserAuditSerializer implements EtlifySerializer<User> {
  toCrmPayload(user: User): CrmPayload {
    return { email: user.email, name: `${user.firstName} ${user.lastName}` };
  }
}

@Entity('companies')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CompanySerializer,
  crmObjectType: 'companies',
})
export class Company {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  domain!: string | null;

  @OneToMany(() => User, (user) => user.company)
  users!: User[];

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

@Entity('users')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: UserSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  syncIf: (user: User) => !!user.email,
})
@EtlifiedEntity({
  crm: 'audit',
  serializer: UserAuditSerializer,
  crmObjectType: 'people',
  idProperty: 'email',
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

  @ManyToOne(() => Company, (company) => company.users, { nullable: true })
  company!: Company | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
