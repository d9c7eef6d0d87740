import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createAppModule } from './app.module';
import { readSettings } from './sample.settings';

/** `npm run sample:serve`: the sample app over HTTP, so `GET /health` can be tried. */
async function main(): Promise<void> {
  const settings = readSettings();
  const sandbox = settings.hubspotToken
    ? undefined
    : new HubspotSandbox({ accessToken: 'sample-token' });
  const hubspot = sandbox
    ? { accessToken: 'sample-token', baseUrl: (await sandbox.start()).baseUrl }
    : { accessToken: settings.hubspotToken! };
  const app = await NestFactory.create(
    createAppModule({
      database: settings.database,
      hubspot,
      redis: settings.redisUrl
        ? {
            url: settings.redisUrl,
            prefix: settings.redisPrefix,
            driver: settings.queueDriver,
          }
        : undefined,
    }),
    { logger: ['error', 'warn', 'log'] },
  );
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  console.log(`sample listening: curl http://127.0.0.1:${port}/health`);
  const stop = async () => {
    await app.close();
    await sandbox?.stop();
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

void main();
