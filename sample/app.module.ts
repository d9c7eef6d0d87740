import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CrmAdapter, EtlifyModule } from 'nestjs-etlify';
import { Company } from './companies/company.entity';
import { CompanyEtlifySerializer } from './companies/company.etlify-serializer';
import { User } from './users/user.entity';
import { UserEtlifySerializer } from './users/user.etlify-serializer';

/** The sample app: SQLite file + one CRM whose adapter main.ts chooses. */
export function createAppModule(options: {
  database: string;
  adapter: CrmAdapter;
}) {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: options.database,
        autoLoadEntities: true,
        synchronize: true,
      }),
      TypeOrmModule.forFeature([User, Company]),
      EtlifyModule.forRoot({
        crms: [{ name: 'hubspot', adapter: options.adapter, maxSyncErrors: 3 }],
        capture: false,
        staleSweep: false,
      }),
    ],
    providers: [UserEtlifySerializer, CompanyEtlifySerializer],
  })
  class AppModule {}
  return AppModule;
}
