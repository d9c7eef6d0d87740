import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { HubspotSandbox } from 'nestjs-etlify/testing';

const root = resolve(__dirname, '../..');
const CLI = join(root, 'lib/cli/main.ts');
const MODULE = 'test/reliability/support/provision-app.module.ts';
const TOKEN = 'provision-cli-token';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], baseUrl: string): Promise<CliRun> {
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
        env: {
          ...process.env,
          TS_NODE_PROJECT: 'tsconfig.json',
          ETLIFY_PROVISION_HUBSPOT_URL: baseUrl,
          ETLIFY_PROVISION_TOKEN: TOKEN,
        },
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

/** The key property as HubSpot's properties API answers it, or undefined when missing. */
async function keyProperty(sandbox: HubspotSandbox, type: string) {
  const res = await fetch(
    `${sandbox.baseUrl}/crm/properties/2026-09/${type}/etlify_key`,
    {
      headers: { authorization: `Bearer ${TOKEN}` },
    },
  );
  return res.status === 200
    ? ((await res.json()) as { type: string; hasUniqueValue: boolean })
    : undefined;
}

describe('etlify provision', () => {
  let sandbox: HubspotSandbox;
  let baseUrl: string;
  beforeEach(async () => {
    sandbox = new HubspotSandbox({ accessToken: TOKEN });
    ({ baseUrl } = await sandbox.start());
  });
  afterEach(() => sandbox.stop());

  it('dry run by default, --apply creates, a second run finds both in place', async () => {
    const dry = await runCli(['provision', '--module', MODULE], baseUrl);
    expect(dry.stderr).not.toMatch(/ERROR/);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('hubspot  companies.etlify_key  would create');
    expect(dry.stdout).toContain('hubspot  contacts.etlify_key  would create');
    expect(dry.stdout).toContain('run again with --apply');
    expect(await keyProperty(sandbox, 'companies')).toBeUndefined();

    const applied = await runCli(
      ['provision', '--module', MODULE, '--apply', '--json'],
      baseUrl,
    );
    expect(applied.code).toBe(0);
    const json = JSON.parse(applied.stdout) as {
      results: Array<{ objectType: string; status: string }>;
    };
    expect(json.results.map((r) => [r.objectType, r.status])).toEqual([
      ['companies', 'created'],
      ['contacts', 'created'],
    ]);
    for (const type of ['companies', 'contacts']) {
      expect(await keyProperty(sandbox, type)).toMatchObject({
        type: 'string',
        hasUniqueValue: true,
      });
    }
    const again = await runCli(
      ['provision', '--module', MODULE, '--apply'],
      baseUrl,
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('companies.etlify_key  ok');
  }, 120_000);

  it('names the missing scope and exits 1', async () => {
    sandbox.setMissingScopes(['crm.schemas.companies.write']);
    const run = await runCli(
      ['provision', '--module', MODULE, '--apply'],
      baseUrl,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /companies\.etlify_key\s+forbidden.*crm\.schemas\.companies\.write/,
    );
    expect(run.stdout).toContain('contacts.etlify_key  created');
    expect(await keyProperty(sandbox, 'companies')).toBeUndefined();
  }, 120_000);

  it('reports a present but non-unique property as a mismatch and leaves it alone', async () => {
    sandbox.createProperty('companies', { name: 'etlify_key', type: 'string' });
    const run = await runCli(
      ['provision', '--module', MODULE, '--apply'],
      baseUrl,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/companies\.etlify_key\s+mismatch.*not unique/);
    expect(await keyProperty(sandbox, 'companies')).toMatchObject({
      hasUniqueValue: false,
    });
  }, 120_000);

  it('--help exits 0, an unknown option exits 2', async () => {
    const help = await runCli(['provision', '--help'], baseUrl);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: etlify provision');
    const bad = await runCli(['provision', '--nope'], baseUrl);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option --nope');
  }, 120_000);
});
