import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { DataSource, Repository } from 'typeorm';
import { EtlifyRun } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { createTestDatabase, TestDatabase } from './support/databases';
import { OPS_ENTITIES, OpsContact } from './support/ops-app.module';

jest.setTimeout(300_000);

const root = resolve(__dirname, '..');
const CLI = join(root, 'lib/cli/main.ts');
const MODULE = 'test/support/ops-cli-app.module.ts';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a real child process on a real app module (ts-node, no build). */
function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        CLI,
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
  });
}

describe('etlify status / explain / sync / dead-letters on PostgreSQL + sandbox', () => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let ds: DataSource;
  let contacts: Repository<OpsContact>;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli([...args, '--module', MODULE], env);
  const json = (run: CliRun) => {
    try {
      return JSON.parse(run.stdout);
    } catch {
      throw new Error(
        `CLI exit ${run.code}; stdout: ${run.stdout}; stderr: ${run.stderr}`,
      );
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    sandbox = new HubspotSandbox({ accessToken: 'test-token', searchLagMs: 0 });
    const { baseUrl } = await sandbox.start();
    ds = new DataSource({
      ...(db.options as any),
      entities: OPS_ENTITIES,
      synchronize: true,
    });
    await ds.initialize();
    contacts = ds.getRepository(OpsContact);
    env = {
      ETLIFY_OPS_SETTINGS: JSON.stringify({
        db: db.options,
        hubspotUrl: baseUrl,
      }),
    };
  });
  afterAll(async () => {
    await ds?.destroy();
    await sandbox?.stop();
    await db?.drop();
  });

  it('answers "why is this contact not in HubSpot?", syncs it, and reports status with run history', async () => {
    const [good, bad] = await contacts.save([
      contacts.create({
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'L',
        company: null,
      }),
      contacts.create({
        email: 'bad@example.com',
        firstName: 'reject',
        lastName: 'X',
        company: null,
      }),
    ]);

    const why = await cli('explain', 'OpsContact', String(good.id));
    expect(why.code).toBe(0);
    expect(why.stdout).toContain(
      `OpsContact#${good.id} in hubspot has never been synced`,
    );
    expect(
      json(await cli('explain', 'OpsContact', String(good.id), '--json')),
    ).toMatchObject({
      state: 'never_synced',
      id: String(good.id),
    });

    const synced = await cli(
      'sync',
      'OpsContact',
      String(good.id),
      String(bad.id),
      '--json',
    );
    expect(synced.code).toBe(1); // the rejected one
    expect(json(synced)).toEqual([
      expect.objectContaining({
        id: String(good.id),
        status: 'synced',
        crmId: expect.any(String),
      }),
      expect.objectContaining({ id: String(bad.id), status: 'error' }),
    ]);
    expect(sandbox.records('contacts').map((r) => r.properties.email)).toEqual([
      'ada@example.com',
    ]);
    const again = await cli('sync', 'OpsContact', String(bad.id));
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`OpsContact#${bad.id} → hubspot: error`);

    const list = await cli('dead-letters', 'list', '--json');
    expect(list.code).toBe(0);
    expect(json(list)).toMatchObject({
      total: 1,
      next: null,
      items: [
        {
          entity: 'OpsContact',
          id: String(bad.id),
          category: 'VALIDATION',
          errorCount: 2,
        },
      ],
    });
    const human = await cli('dead-letters', 'list');
    expect(human.stdout).toContain(`OpsContact#${bad.id}`);
    expect(human.stdout).toContain('VALIDATION');

    const status = await cli('status', '--json');
    expect(status.code).toBe(1); // a dead letter needs attention
    const figures = json(status);
    expect(figures).toMatchObject({
      deadLetters: 1,
      queue: null,
      crms: [
        {
          name: 'hubspot',
          // A fresh process with the in-process governor has not heard HubSpot's headers yet.
          dailyQuotaLeft: null,
          entities: expect.arrayContaining([
            expect.objectContaining({
              entity: 'OpsContact',
              states: { synced: 1, dead: 1 },
              deadLetters: 1,
            }),
          ]),
        },
      ],
    });
    expect(figures.runs.map((r: { kind: string }) => r.kind)).toEqual([
      'cli:sync',
      'cli:sync',
    ]);
    expect(figures.runs[0]).toMatchObject({
      status: 'errors',
      total: 1,
      errors: 1,
    });
    expect(figures.runs[1]).toMatchObject({ total: 2, synced: 1, errors: 1 });
    const text = await cli('status');
    expect(text.stdout).toContain('CRM hubspot: daily quota left');
    expect(text.stdout).toContain('Dead letters: 1');
    expect(text.stdout).toContain('Queue: none (inline sync)');

    await ds.getRepository(OpsContact).update(bad.id, { firstName: 'Fixed' });
    const retry = await cli(
      'dead-letters',
      'retry',
      'OpsContact',
      String(bad.id),
      '--json',
    );
    expect(retry.code).toBe(0);
    expect(json(retry)).toMatchObject({ status: 'synced' });

    const stale = await cli('sync-stale', '--json');
    expect(stale.code).toBe(0);
    const after = json(await cli('status', '--json'));
    expect(after.deadLetters).toBe(0);
    expect(after.runs[0]).toMatchObject({
      kind: 'cli:sync-stale',
      status: 'ok',
    });
    expect(await ds.getRepository(EtlifyRun).count()).toBe(4);
  });

  it('discard keeps the reason; usage errors exit 2 with help', async () => {
    const bad = await contacts.save(
      contacts.create({
        email: 'bad2@example.com',
        firstName: 'reject',
        lastName: 'Y',
        company: null,
      }),
    );
    await cli('sync', 'OpsContact', String(bad.id));
    await cli('sync', 'OpsContact', String(bad.id));
    expect(
      (await cli('dead-letters', 'discard', 'OpsContact', String(bad.id))).code,
    ).toBe(2);
    const discard = await cli(
      'dead-letters',
      'discard',
      'OpsContact',
      String(bad.id),
      '--reason',
      'spam signup',
    );
    expect(discard.code).toBe(0);
    const explained = json(
      await cli('explain', 'OpsContact', String(bad.id), '--json'),
    );
    expect(explained).toMatchObject({
      state: 'discarded',
      discardReason: 'spam signup',
    });

    const unknown = await cli('explain', 'Nope', '1');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      '"Nope" is not an etlified entity; known: OpsCompany, OpsContact',
    );
    const help = await runCli(['dead-letters', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      'Usage: etlify dead-letters <list|retry|discard>',
    );
    expect((await runCli(['status', '--bogus'], env)).code).toBe(2);
    expect((await runCli(['frobnicate'], env)).code).toBe(2);
  });
});
