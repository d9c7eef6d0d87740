import {
  Column,
  Entity,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { EtlifiedEntity } from 'nestjs-etlify';
import { Company } from '../companies/company.entity';
import { UserEtlifySerializer } from './user.etlify-serializer';

@Entity('users')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: UserEtlifySerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  syncIf: (user: User) => !!user.email,
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

  @ManyToOne(() => Company, (company) => company.users, {
    nullable: true,
    eager: true,
  })
  company!: Company | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
