import { BullModule } from '@nestjs/bull';
import { BullModule as BullMqModule } from '@nestjs/bullmq';
import { Module, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EtlifyModule, HubspotAdapter } from 'nestjs-etlify';
import { Company } from './companies/company.entity';
import { HealthController } from './health/health.controller';
import { CompanyEtlifySerializer } from './companies/company.etlify-serializer';
import { Investment } from './investments/investment.entity';
import { User } from './users/user.entity';
import { UserEtlifySerializer } from './users/user.etlify-serializer';

export const SAMPLE_QUEUE = 'etlify-sample';

/** The sample app: an SQLite file, one HubSpot CRM, and a Bull or BullMQ queue when Redis is given. */
export function createAppModule(options: {
  database: string;
  hubspot: { accessToken: string; baseUrl?: string };
  redis?: { url: string; prefix: string; driver: 'bull' | 'bullmq' };
}): Type<unknown> {
  const redis = options.redis;
  const queue = !redis
    ? []
    : redis.driver === 'bullmq'
      ? [
          BullMqModule.forRoot({
            connection: redisConnection(redis.url),
            prefix: redis.prefix,
          }),
        ]
      : [BullModule.forRoot({ redis: redis.url, prefix: redis.prefix })];
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'better-sqlite3',
        database: options.database,
        autoLoadEntities: true,
        synchronize: true,
      }),
      TypeOrmModule.forFeature([Company, User, Investment]),
      ...queue,
      // GET /health (see sample/health): served when the app runs over HTTP (npm run sample:serve).
      TerminusModule,
      EtlifyModule.forRoot({
        crms: [
          {
            name: 'hubspot',
            adapter: new HubspotAdapter(options.hubspot),
            // HubSpot Free/Starter: 100 calls per 10 s per app.
            rateLimit: { maxRequests: 100, intervalMs: 10_000 },
          },
        ],
        // Changes are captured after commit (on by default); the sweep is run by the story.
        capture: true,
        queue: redis
          ? { name: SAMPLE_QUEUE, driver: redis.driver, batchWindowMs: 50 }
          : false,
        staleSweep: false,
      }),
    ],
    controllers: [HealthController],
    providers: [UserEtlifySerializer, CompanyEtlifySerializer],
  })
  class AppModule {}
  return AppModule;
}

/** BullMQ takes ioredis options: redis://[:password@]host:port[/db] becomes host, port, password and db. */
function redisConnection(url: string) {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(parsed.password
      ? { password: decodeURIComponent(parsed.password) }
      : {}),
    ...(parsed.pathname.length > 1
      ? { db: Number(parsed.pathname.slice(1)) }
      : {}),
  };
}
