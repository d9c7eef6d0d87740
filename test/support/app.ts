import { INestApplication, Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  CrmSynchronisation,
  EtlifyModule,
  EtlifyStaleSweep,
  EtlifyModuleOptions,
} from 'nestjs-etlify';
import { TestDatabase } from './databases';

export interface AppOptions {
  db: TestDatabase;
  entities: Function[];
  etlify: EtlifyModuleOptions;
  providers?: Provider[];
  autoLoadEntities?: boolean;
}

/** A Nest application with TypeORM on the test database and EtlifyModule; not yet initialised. */
export async function buildApp(options: AppOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        ...options.db.options,
        // autoLoadEntities collects entities process-wide, so tests list them explicitly by default.
        entities: options.autoLoadEntities
          ? options.entities
          : [...options.entities, CrmSynchronisation, EtlifyStaleSweep],
        autoLoadEntities: options.autoLoadEntities ?? false,
        synchronize: true,
        logging: false,
      } as any),
      TypeOrmModule.forFeature(options.entities as any[]),
      EtlifyModule.forRoot(options.etlify),
    ],
    providers: options.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  return app;
}
