import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  CrmSynchronisation,
  EtlifyModule,
  EtlifyQueueDriver,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';

/**
 * Boots an app whose queue uses the driver in QUEUE_DRIVER, with the app's BullModule.forRoot of
 * that driver, and prints which queue packages the process loaded (a child process, so the
 * module cache is its own).
 */
async function main(): Promise<void> {
  const driver = process.env.QUEUE_DRIVER as EtlifyQueueDriver;
  const redis = { host: '127.0.0.1', port: 6379 };
  const forRoot =
    driver === 'bullmq'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('@nestjs/bullmq').BullModule.forRoot({ connection: redis })
      : // eslint-disable-next-line @typescript-eslint/no-require-imports
        require('@nestjs/bull').BullModule.forRoot({ redis });
  const app = await NestFactory.createApplicationContext(
    {
      module: class DriverLoadModule {},
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: ':memory:',
          entities: [CrmSynchronisation],
          synchronize: true,
        }),
        forRoot,
        EtlifyModule.forRoot({
          crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }],
          queue: {
            name: `etlify-driver-load-${process.pid}`,
            driver,
            processors: false,
          },
          capture: false,
        }),
      ],
    },
    { logger: false },
  );
  await app.close();
  const packages = new Set(
    Object.keys(require.cache)
      .map(
        (file) => /node_modules\/((?:@nestjs\/)?bull(?:mq)?)\//.exec(file)?.[1],
      )
      .filter((name): name is string => !!name),
  );
  process.stdout.write(JSON.stringify([...packages].sort()));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
