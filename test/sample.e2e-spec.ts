import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm run sample` prints the story the README promises, inline and through a Bull queue: each
 * step's outcome and what the (sandbox) CRM holds at the end.
 */
const root = resolve(__dirname, '..');

type Table = Array<Record<string, string>>;

/** Reads the plain-text tables the sample prints, by the column offsets of the dashed line. */
function readTables(output: string): Record<string, Table> {
  const lines = output.split('\n');
  const tables: Record<string, Table> = {};
  for (let i = 2; i < lines.length; i++) {
    if (!/^ {2}-+( {2}-+)*$/.test(lines[i])) continue;
    const starts = [...lines[i].matchAll(/-+/g)].map((m) => m.index!);
    const cells = (line: string) =>
      starts.map((start, c) => line.slice(start, starts[c + 1]).trim());
    const headers = cells(lines[i - 1]);
    const rows: Table = [];
    for (let j = i + 1; j < lines.length && lines[j].startsWith('  '); j++) {
      const values = cells(lines[j]);
      rows.push(Object.fromEntries(headers.map((h, c) => [h, values[c]])));
    }
    tables[lines[i - 2].trim()] = rows;
  }
  return tables;
}

/** The rows of one step: its first line and the unnamed lines that follow it. */
function stepRows(table: Table, prefix: string): Table {
  const start = table.findIndex((row) => row.step.startsWith(prefix));
  expect(start).toBeGreaterThanOrEqual(0);
  const rows = [table[start]];
  for (let i = start + 1; i < table.length && table[i].step === ''; i++) {
    rows.push(table[i]);
  }
  return rows;
}

describe.each([
  ['inline after commit', {}],
  ['through a Bull queue', { REDIS_URL: 'redis://127.0.0.1:6379' }],
  [
    'through a BullMQ queue',
    { REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_DRIVER: 'bullmq' },
  ],
])('npm run sample, %s', (_label, env: Record<string, string>) => {
  let work: string;
  let output: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'etlify-sample-'));
    const result = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'sample'],
      {
        cwd: root,
        env: {
          ...process.env,
          SAMPLE_DB: join(work, 'sample.db'),
          HUBSPOT_TOKEN: '',
          REDIS_URL: '',
          QUEUE_DRIVER: '',
          ...env,
        },
      },
    );
    output = result.stdout;
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('names what it runs against', () => {
    expect(output).toContain('CRM:      HubSpot sandbox in process');
    expect(output).toContain(
      env.REDIS_URL
        ? `syncs:    ${env.QUEUE_DRIVER === 'bullmq' ? 'BullMQ' : 'Bull'} queue "etlify-sample"`
        : 'syncs:    inline, right after each commit',
    );
  });

  it('tells the story step by step', () => {
    const happened = readTables(output)['What happened'];
    const created = stepRows(happened, '1. create');
    expect(created.map((r) => [r.record, r.etlify])).toEqual([
      ['Company#1 Acme', 'created in the CRM'],
      ['User#1 Ada Lovelace', 'created in the CRM'],
      ['User#2 Grace Hopper', 'created in the CRM'],
      ['User#3 Anon (no email)', 'skipped (syncIf: no email)'],
    ]);
    const adaCrmId = created[1]['CRM id'];
    expect(adaCrmId).toMatch(/^\d+$/);
    expect(created[1]['the CRM record now (changed properties)']).toContain(
      'total_invested=250000',
    );

    const [changed] = stepRows(happened, '2. change a field');
    expect([changed.etlify, changed['CRM id'], changed['HTTP calls']]).toEqual([
      'updated, by its CRM id',
      adaCrmId,
      '1',
    ]);
    expect(changed['the CRM record now (changed properties)']).toBe(
      'lastname=King',
    );

    const [untouched] = stepRows(happened, '3. save again');
    expect(untouched.etlify).toBe('not_modified (same digest, no CRM call)');
    expect(untouched['HTTP calls']).toBe('0');

    const [dependency] = stepRows(happened, '4. change one of');
    expect(dependency.record).toBe('User#1 Ada King');
    expect(dependency['the CRM record now (changed properties)']).toBe(
      'total_invested=300000',
    );

    const [bypassed] = stepRows(happened, '5. repository.update()');
    expect(bypassed.etlify).toBe('nothing sent: the CRM is now behind');
    expect(bypassed['HTTP calls']).toBe('0');

    const [swept] = stepRows(happened, '6. stale sweep');
    expect([swept.record, swept.etlify]).toEqual([
      'User#1 Augusta Ada King',
      'updated, by its CRM id',
    ]);
    expect(swept['the CRM record now (changed properties)']).toBe(
      'firstname=Augusta Ada',
    );

    const [deleted] = stepRows(happened, '7. delete a user');
    expect([deleted.etlify, deleted['CRM id']]).toEqual([
      'deleted from the CRM',
      adaCrmId,
    ]);
    expect(deleted['the CRM record now (changed properties)']).toBe(
      '(no record)',
    );

    const [refused] = stepRows(happened, '8. a lead status');
    expect(refused.record).toBe('User#4 Hedy Lamarr');
    expect(refused.etlify).toContain(
      'Rejected before sending: contacts property "hs_lead_status" breaks INVALID_OPTION',
    );
    expect(refused['HTTP calls']).toBe('0');
  });

  it('shows what the CRM holds at the end', () => {
    const held = readTables(output)['What the CRM holds'];
    expect(held.map((r) => [r.record, r['in the CRM']])).toEqual([
      ['Company#1 Acme', 'yes'],
      ['User#1 Augusta Ada King', 'no (deleted)'],
      ['User#2 Grace Hopper', 'yes'],
      ['User#3 Anon (no email)', 'no (never sent)'],
      ['User#4 Hedy Lamarr', 'no (never sent)'],
    ]);
    expect(held[2].properties).toBe(
      'email=grace@acme.example.com firstname=Grace lastname=Hopper total_invested=0',
    );
    // The company is an association (unlabeled 279 and primary 1), not a text property.
    expect(held[2]['associated with']).toBe('Acme (1+279, primary)');
  });
});
