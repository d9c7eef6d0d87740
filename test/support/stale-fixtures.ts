import {
  Column,
  Entity,
  JoinColumn,
  JoinTable,
  ManyToMany,
  ManyToOne,
  OneToMany,
  OneToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { CrmPayload, EtlifiedEntity, EtlifySerializer } from 'nestjs-etlify';

/** Entities with every relation kind, for the stale-record finder's specs. */

export class AccountSerializer implements EtlifySerializer<Account> {
  /** Tests bump it between app boots (the explorer reads `version` once). */
  static currentVersion = 1;
  get version(): number {
    return AccountSerializer.currentVersion;
  }
  toCrmPayload(account: Account): CrmPayload {
    const names = (items?: Array<{ name: string }>) =>
      (items ?? [])
        .map((i) => i.name)
        .sort()
        .join(',');
    return {
      email: account.email,
      name: account.name,
      owner: account.owner?.name ?? null,
      profile: account.profile?.name ?? null,
      passport: account.passport?.name ?? null,
      deals: names(account.deals),
      tags: names(account.tags),
      groups: names(account.groups),
    };
  }
}

export class LedgerSerializer implements EtlifySerializer<Ledger> {
  readonly version = 1;
  toCrmPayload(ledger: Ledger): CrmPayload {
    return { email: ledger.email, name: ledger.name };
  }
}

@Entity('stale_owners')
export class Owner {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_profiles')
export class Profile {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_passports')
export class Passport {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @OneToOne(() => Account, (account) => account.passport, { nullable: true })
  @JoinColumn({ name: 'account_id' })
  account!: Account | null;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_deals')
export class Deal {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @ManyToOne(() => Account, (account) => account.deals, { nullable: true })
  @JoinColumn({ name: 'account_id' })
  account!: Account | null;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_tags')
export class Tag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_groups')
export class Group {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @ManyToMany(() => Account, (account) => account.groups)
  @JoinTable({ name: 'stale_group_members' })
  members!: Account[];
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_accounts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: AccountSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
  syncIf: (account: Account) => account.name !== 'skip-me',
  dependencies: ['owner', 'profile', 'passport', 'deals', 'tags', 'groups'],
})
export class Account {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;

  @ManyToOne(() => Owner, { nullable: true })
  @JoinColumn({ name: 'owner_id' })
  owner!: Owner | null;

  @OneToOne(() => Profile, { nullable: true })
  @JoinColumn({ name: 'profile_id' })
  profile!: Profile | null;

  @OneToOne(() => Passport, (passport) => passport.account)
  passport!: Passport | null;

  @OneToMany(() => Deal, (deal) => deal.account)
  deals!: Deal[];

  @ManyToMany(() => Tag)
  @JoinTable({ name: 'stale_account_tags' })
  tags!: Tag[];

  @ManyToMany(() => Group, (group) => group.members)
  groups!: Group[];

  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('stale_ledgers')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: LedgerSerializer,
  crmObjectType: 'companies',
})
export class Ledger {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 200 }) email!: string;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

export const STALE_ENTITIES = [
  Account,
  Ledger,
  Owner,
  Profile,
  Passport,
  Deal,
  Tag,
  Group,
];
