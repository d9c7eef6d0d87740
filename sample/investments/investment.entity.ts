import {
  Column,
  Entity,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { User } from '../users/user.entity';

/** Not mirrored itself: it only feeds its user's `total_invested` (a dependency of User). */
@Entity('investments')
export class Investment {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  fund!: string;

  /** Whole euros. */
  @Column({ type: 'integer' })
  amount!: number;

  @ManyToOne(() => User, (user) => user.investments, {
    nullable: false,
    onDelete: 'CASCADE',
  })
  user!: User;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
