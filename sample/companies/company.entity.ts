import {
  Column,
  Entity,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { EtlifiedEntity } from 'nestjs-etlify';
import { User } from '../users/user.entity';
import { CompanyEtlifySerializer } from './company.etlify-serializer';

@Entity('companies')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: CompanyEtlifySerializer,
  crmObjectType: 'companies',
  idProperty: 'domain',
})
export class Company {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 200 })
  domain!: string;

  @OneToMany(() => User, (user) => user.company)
  users!: User[];

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
