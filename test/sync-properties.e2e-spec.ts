import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { PropertySyncService } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase, TestDatabase } from './support/databases';
import {
  AppModule,
  PROPERTIES_ENTITIES,
  Shopper,
} from './support/properties-cli-app.module';

const root = resolve(__dirname, '..');
const WRITE = /^(POST|PATCH|PUT|DELETE)$/;

function runCli(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>(
    (done) => {
      execFile(
        process.execPath,
        [
          '-r',
          'ts-node/register/transpile-only',
          '-r',
          'tsconfig-paths/register',
          join(root, 'lib/cli/main.ts'),
          ...args,
        ],
        {
          cwd: root,
          env: { ...process.env, TS_NODE_PROJECT: 'tsconfig.json', ...env },
          timeout: 120_000,
        },
        (error, stdout, stderr) =>
          done({
            code: error ? Number((error as any).code ?? 1) : 0,
            stdout,
            stderr,
          }),
      );
    },
  );
}

describe('sync-properties (API and CLI) against the sandbox', () => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let env: Record<string, string>;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    sandbox = new HubspotSandbox({
      accessToken: 'props-token',
      searchLagMs: 0,
      tenSecondLimit: 10_000,
    });
    const { baseUrl } = await sandbox.start();
    env = {
      ETLIFY_PROPS_DB: JSON.stringify(db.options),
      ETLIFY_PROPS_HUBSPOT_URL: baseUrl,
    };
    ds = new DataSource({
      ...(db.options as any),
      entities: PROPERTIES_ENTITIES,
      synchronize: true,
    });
    await ds.initialize();
    await ds
      .getRepository(Shopper)
      .save({ email: 'sam@example.com', name: 'Sam', spent: 12 });
    Object.assign(process.env, env);
  });
  afterAll(async () => {
    await ds?.destroy();
    await sandbox?.stop();
    await db?.drop();
  });

  async function boot(): Promise<INestApplicationContext> {
    return NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    });
  }

  it('a dry run lists missing and disagreeing properties and makes no write', async () => {
    const app = await boot();
    try {
      const from = sandbox.requests.length;
      const report = await app.get(PropertySyncService).syncProperties();
      const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
      expect(byName.loyalty_tier).toMatchObject({
        status: 'would_create',
        expected: 'enumeration',
        entities: ['Shopper'],
      });
      expect(byName.total_spent).toMatchObject({
        status: 'would_create',
        expected: 'number',
      });
      expect(byName.firstname).toMatchObject({
        status: 'mismatch',
        expected: 'number',
        actual: 'string',
      });
      expect(byName.favourite_color.status).toBe('missing');
      expect(byName.favourite_color.message).toContain('declare its type');
      expect(byName.email.status).toBe('ok');
      expect([report.missing, report.mismatched, report.created]).toEqual([
        3, 1, 0,
      ]);
      const calls = sandbox.requests.slice(from);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.filter((r) => WRITE.test(r.method))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('the CLI dry run says the same, writes nothing and exits 1', async () => {
    const from = sandbox.requests.length;
    const run = await runCli(
      [
        'sync-properties',
        '--module',
        'test/support/properties-cli-app.module.ts',
      ],
      env,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/loyalty_tier\s+would_create/);
    expect(run.stdout).toMatch(/firstname\s+mismatch/);
    expect(run.stdout).toContain(
      'Dry run: 5 properties: 1 ok, missing 3, type mismatches 1',
    );
    expect(
      sandbox.requests.slice(from).filter((r) => WRITE.test(r.method)),
    ).toEqual([]);
  });

  it('--apply creates the declared missing properties in the serializer group', async () => {
    const run = await runCli(
      [
        'sync-properties',
        '--module',
        'test/support/properties-cli-app.module.ts',
        '--apply',
        '--json',
      ],
      env,
    );
    const report = JSON.parse(run.stdout);
    expect(report.created).toBe(2);
    // favourite_color (no declared type) and firstname (type) are left for a person to decide.
    expect(run.code).toBe(1);
    const read = (name: string) =>
      fetch(
        `${env.ETLIFY_PROPS_HUBSPOT_URL}/crm/v3/properties/contacts/${name}`,
        {
          headers: { Authorization: 'Bearer props-token' },
        },
      ).then((r) => r.json() as Promise<any>);
    const tier = await read('loyalty_tier');
    expect(tier).toMatchObject({
      type: 'enumeration',
      groupName: 'shop',
      label: 'Loyalty tier',
    });
    expect(tier.options.map((o: any) => o.value)).toEqual([
      'gold',
      'silver',
      'bronze',
    ]);
    expect(await read('total_spent')).toMatchObject({
      type: 'number',
      groupName: 'shop',
    });
    const groups = await fetch(
      `${env.ETLIFY_PROPS_HUBSPOT_URL}/crm/v3/properties/contacts/groups`,
      {
        headers: { Authorization: 'Bearer props-token' },
      },
    ).then((r) => r.json() as Promise<any>);
    expect(groups.results.map((g: any) => g.name)).toContain('shop');

    const app = await boot();
    try {
      const again = await app.get(PropertySyncService).syncProperties();
      expect(again.checks.find((c) => c.name === 'loyalty_tier')?.status).toBe(
        'ok',
      );
      expect([again.missing, again.created]).toEqual([1, 0]);
    } finally {
      await app.close();
    }
  });
});
