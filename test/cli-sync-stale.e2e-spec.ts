import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { DataSource, Repository } from 'typeorm';
import { CrmSynchronisation } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { DIALECTS, TestDatabase } from './support/databases';
import { createSharedTestDatabase } from './support/stale-db';
import { CLI_ENTITIES, CliContact } from './support/stale-cli-app.module';

const root = resolve(__dirname, '..');
const CLI = join(root, 'lib/cli/main.ts');
const MODULE = 'test/support/stale-cli-app.module.ts';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a real child process (ts-node, so no build is needed); never blocks our event loop. */
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

const WRITES = /^(POST|PATCH|PUT|DELETE)$/;

describe.each(DIALECTS)('etlify sync-stale CLI on %s', (dialect) => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let ds: DataSource;
  let contacts: Repository<CliContact>;
  let states: Repository<CrmSynchronisation>;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createSharedTestDatabase(dialect);
    sandbox = new HubspotSandbox({ accessToken: 'test-token', searchLagMs: 0 });
    const { baseUrl } = await sandbox.start();
    ds = new DataSource({
      ...(db.options as any),
      entities: CLI_ENTITIES,
      synchronize: true,
    });
    await ds.initialize();
    contacts = ds.getRepository(CliContact);
    states = ds.getRepository(CrmSynchronisation);
    env = {
      ETLIFY_CLI_DB: JSON.stringify(db.options),
      ETLIFY_CLI_HUBSPOT_URL: baseUrl,
    };
  });
  afterAll(async () => {
    await ds.destroy();
    await sandbox.stop();
    await db.drop();
  });

  const json = (run: CliRun) => {
    try {
      return JSON.parse(run.stdout);
    } catch {
      throw new Error(
        `CLI exit ${run.code}; stdout: ${run.stdout}; stderr: ${run.stderr}`,
      );
    }
  };
  const contact = (i: number, extra: Partial<CliContact> = {}) =>
    contacts.create({
      email: `c${i}@example.com`,
      firstName: `F${i}`,
      lastName: `L${i}`,
      ...extra,
    });

  it('dry run writes nothing to the CRM and predicts the real run exactly', async () => {
    const seeded = await contacts.save(
      Array.from({ length: 6 }, (_, i) => contact(i)),
    );
    const first = await runCli(
      ['sync-stale', '--module', MODULE, '--json'],
      env,
    );
    expect(json(first)).toMatchObject({ total: 6, created: 6, errors: 0 });
    expect(first.code).toBe(0);
    expect(sandbox.records('contacts')).toHaveLength(6);

    // Move every clock back, then change records the way users do.
    const OLD = new Date('2020-01-01T00:00:00.000Z');
    await ds
      .createQueryBuilder()
      .update(CliContact)
      .set({ updatedAt: OLD })
      .execute();
    await ds
      .createQueryBuilder()
      .update(CrmSynchronisation)
      .set({ lastSyncedAt: new Date('2020-06-01T00:00:00.000Z') })
      .execute();
    await contacts.update(seeded[0].id, { lastName: 'Changed0' }); // update
    await contacts.update(seeded[1].id, { firstName: 'Changed1' }); // update
    await contacts.update(seeded[2].id, { updatedAt: new Date() }); // touched, same payload
    await contacts.update(seeded[3].id, { lastName: 'skip' }); // syncIf false
    await contacts.save([contact(10), contact(11), contact(12)]); // create
    await contacts.save(contact(13, { firstName: 'boom' })); // serializer error

    const statesBefore = await states.find({ order: { id: 'ASC' } });
    const requestsBefore = sandbox.requests.length;
    const dry = await runCli(
      ['sync-stale', '--module', MODULE, '--dry-run', '--json'],
      env,
    );
    const predicted = json(dry);
    expect(dry.code).toBe(1); // the serializer error
    expect(predicted).toMatchObject({
      total: 8,
      wouldCreate: 3,
      wouldUpdate: 2,
      notModified: 1,
      skipped: 1,
      errors: 1,
      synced: 0,
    });
    const during = sandbox.requests.slice(requestsBefore);
    expect(during.filter((r) => WRITES.test(r.method))).toEqual([]);
    expect(await states.find({ order: { id: 'ASC' } })).toEqual(statesBefore);

    const real = await runCli(
      ['sync-stale', '--module', MODULE, '--json'],
      env,
    );
    const done = json(real);
    expect(real.code).toBe(1);
    expect(done).toMatchObject({
      total: predicted.total,
      created: predicted.wouldCreate,
      updated: predicted.wouldUpdate,
      notModified: predicted.notModified,
      skipped: predicted.skipped,
      errors: predicted.errors,
    });
    expect(done.crmCalls).toBeGreaterThan(0);
    expect(done.dailyQuotaLeft).toEqual(expect.any(Number));
    const emails = sandbox
      .records('contacts')
      .map((r) => r.properties.email)
      .sort();
    expect(emails).toEqual(
      [0, 1, 2, 3, 4, 5, 10, 11, 12].map((i) => `c${i}@example.com`).sort(),
    );
    expect(
      sandbox
        .records('contacts')
        .find((r) => r.properties.email === 'c0@example.com')!.properties
        .lastname,
    ).toBe('Changed0');

    // The bad record is fixed: a human-readable run then ends with exit code 0.
    await contacts.update({ firstName: 'boom' }, { firstName: 'Fixed' });
    const human = await runCli(['sync-stale', '--module', MODULE], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/CliContact → hubspot\s+(full|incremental)/);
    expect(human.stdout).toMatch(
      /Synced 1 \(created 1, updated 0\), not modified \d+, skipped \d+, queued 0, errors 0; CRM calls \d+, daily quota left \d+/,
    );
  });

  it('rejects bad usage with exit code 2', async () => {
    if (dialect !== 'sqlite') return;
    const run = await runCli(['sync-stale', '--batch-size', 'x'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--module <file> is required/);
    const bad = await runCli(
      ['sync-stale', '--module', MODULE, '--batch-size', '0'],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--batch-size must be a positive integer/);
    const serial = await runCli(
      ['sync-stale', '--module', MODULE, '--concurrency', '0'],
      env,
    );
    expect(serial.code).toBe(2);
    expect(serial.stderr).toMatch(/--concurrency must be a positive integer/);
  });
});
