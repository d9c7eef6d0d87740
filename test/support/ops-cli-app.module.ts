import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { OpsContactHooks, opsImports } from './ops-app.module';

/** The CLI's module: settings from the environment the spec gives the child process. */
@Module({
  imports: opsImports(
    JSON.parse(process.env.ETLIFY_OPS_SETTINGS ?? 'null') ?? {
      db: { type: 'better-sqlite3', database: ':memory:' },
      hubspotUrl: 'http://127.0.0.1:1',
    },
  ),
  providers: [OpsContactHooks],
})
export class AppModule {}
