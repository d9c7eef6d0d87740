import 'reflect-metadata';
import { getQueueToken } from '@nestjs/bull';
import { NestFactory } from '@nestjs/core';
import { rmSync } from 'node:fs';
import { relative } from 'node:path';
import { SyncService } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createAppModule, SAMPLE_QUEUE } from './app.module';
import { SampleHubspotClient } from './hubspot.client';
import { printTable } from './print.util';
import { readSettings } from './sample.settings';
import { runStory } from './story';

const HUBSPOT_API = 'https://api.hubapi.com';
const SANDBOX_TOKEN = 'sample-token';
const SHOWN_PROPERTIES: Record<string, string[]> = {
  companies: ['name', 'domain'],
  contacts: [
    'email',
    'firstname',
    'lastname',
    'hs_lead_status',
    'total_invested',
  ],
};

/** `npm run sample`: the story of a CRM kept in step with an app, printed as tables. */
async function main(): Promise<void> {
  const settings = readSettings();
  rmSync(settings.database, { force: true });

  // The real portal when a token is given, else HubSpot's API answered in process.
  const sandbox = settings.hubspotToken
    ? undefined
    : new HubspotSandbox({ accessToken: SANDBOX_TOKEN });
  const hubspot = sandbox
    ? { accessToken: SANDBOX_TOKEN, baseUrl: (await sandbox.start()).baseUrl }
    : { accessToken: settings.hubspotToken! };
  const client = new SampleHubspotClient(
    hubspot.baseUrl ?? HUBSPOT_API,
    hubspot.accessToken,
  );
  await client.ensureNumberProperty(
    'contacts',
    'total_invested',
    'Total invested',
  );

  console.log('nestjs-etlify sample');
  console.log(
    `  database: SQLite file ${relative(process.cwd(), settings.database)}`,
  );
  console.log(
    `  CRM:      ${sandbox ? `HubSpot sandbox in process (${hubspot.baseUrl})` : 'HubSpot (HUBSPOT_TOKEN)'}`,
  );
  console.log(
    `  syncs:    ${settings.redisUrl ? `${settings.queueDriver === 'bullmq' ? 'BullMQ' : 'Bull'} queue "${SAMPLE_QUEUE}" on ${settings.redisUrl} (REDIS_URL, QUEUE_DRIVER)` : 'inline, right after each commit (set REDIS_URL for a Bull queue, and QUEUE_DRIVER=bullmq for BullMQ)'}`,
  );

  const app = await NestFactory.createApplicationContext(
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
    { logger: ['error', 'warn'] },
  );
  // The raw queue (Bull's or BullMQ's; @nestjs/bull and @nestjs/bullmq share the token): counts and cleanup.
  const queue: SampleQueue | undefined = settings.redisUrl
    ? app.get(getQueueToken(SAMPLE_QUEUE))
    : undefined;
  const sync = app.get(SyncService);
  try {
    const story = await runStory({
      app,
      runId: settings.runId,
      settle: async () => {
        await sync.idle();
        if (queue) await drained(queue);
      },
      crmCalls: () => (sandbox ? sandbox.requests.length : null),
      readCrm: async (objectType, crmId) => {
        const shown = SHOWN_PROPERTIES[objectType];
        const properties = await client.read(objectType, crmId, shown);
        return properties && pick(properties, shown);
      },
    });
    printTable('What happened', story.rows, {
      crmId: 'CRM id',
      crmCalls: 'HTTP calls',
      crmNow: 'the CRM record now (changed properties)',
    });

    const held = [];
    for (const record of story.records) {
      const properties = record.crmId
        ? await client.read(
            record.objectType,
            record.crmId,
            SHOWN_PROPERTIES[record.objectType],
          )
        : null;
      // Contacts are associated with their company (types 279 and 1: primary), not given its name.
      const companies =
        properties && record.objectType === 'contacts'
          ? await client.associations('contacts', record.crmId!, 'companies')
          : [];
      held.push({
        record: `${record.key} ${record.label}`,
        crmId: record.crmId ?? '-',
        inCrm: properties
          ? 'yes'
          : record.crmId
            ? 'no (deleted)'
            : 'no (never sent)',
        properties: properties
          ? formatProperties(properties, SHOWN_PROPERTIES[record.objectType])
          : '',
        associations: companies
          .map((company) => {
            const label =
              story.records.find((r) => r.crmId === company.id)?.label ??
              `company ${company.id}`;
            const primary = company.typeIds.includes(1) ? ', primary' : '';
            return `${label} (${company.typeIds.join('+')}${primary})`;
          })
          .join('; '),
      });
    }
    printTable('What the CRM holds', held, {
      crmId: 'CRM id',
      inCrm: 'in the CRM',
      associations: 'associated with',
    });
    if (!sandbox) {
      // A real portal keeps what the sample made: remove it.
      for (const record of story.records) {
        if (
          record.crmId &&
          held.find((h) => h.crmId === record.crmId)?.inCrm === 'yes'
        ) {
          await client.archive(record.objectType, record.crmId);
        }
      }
      console.log(
        '\nThe records this run created in HubSpot were archived again.',
      );
    }
  } finally {
    if (queue) await queue.obliterate({ force: true });
    await app.close();
    await sandbox?.stop();
  }
}

/** Waits until the queue has nothing waiting, running or delayed. */
interface SampleQueue {
  getJobCounts(): Promise<Record<string, number>>;
  obliterate(options: { force: boolean }): Promise<void>;
}

async function drained(queue: SampleQueue): Promise<void> {
  for (;;) {
    const counts = await queue.getJobCounts();
    if (counts.waiting + counts.active + counts.delayed === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function pick(
  properties: Record<string, string | null>,
  names: string[],
): Record<string, string | null> {
  return Object.fromEntries(
    names.map((name) => [name, properties[name] ?? null]),
  );
}

function formatProperties(
  properties: Record<string, string | null>,
  names: string[],
): string {
  return names
    .filter(
      (name) =>
        properties[name] !== null &&
        properties[name] !== undefined &&
        properties[name] !== '',
    )
    .map((name) => `${name}=${properties[name]}`)
    .join(' ');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
