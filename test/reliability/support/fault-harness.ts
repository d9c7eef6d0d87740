import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import { In, Repository } from 'typeorm';
import { CrmSynchronisation } from 'nestjs-etlify';
import type { HubspotSandbox } from 'nestjs-etlify/testing';
import { expectedPayload, FaultCompany } from './fault-app';

/** A token long and recognisable enough that any 12-character fragment of it is findable. */
export const LONG_TOKEN = `pat-na1-RELIABILITY-${'c0ffee5eed1e55ca'.repeat(8)}-SUITE-${'9b8a7f6e'.repeat(4)}`;

/** Every 12-character fragment of `secret` found in `text`. */
export function fragmentsIn(text: string, secret = LONG_TOKEN): string[] {
  const found = new Set<string>();
  for (let i = 0; i + 12 <= secret.length; i++) {
    const gram = secret.slice(i, i + 12);
    if (text.includes(gram)) found.add(gram);
  }
  return [...found];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own (never the shared one), which a scenario may kill and restart. */
export class OwnRedis {
  private child?: ChildProcess;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const client = new Redis({
      port: this.port,
      lazyConnect: true,
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
    });
    try {
      await waitUntil(
        'redis-server to answer',
        async () => {
          try {
            if (client.status !== 'ready')
              await client.connect().catch(() => undefined);
            return (await client.ping()) === 'PONG';
          } catch {
            return false;
          }
        },
        10_000,
      );
    } finally {
      client.disconnect();
    }
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) =>
      child.once('exit', () => resolve()),
    );
    child.kill('SIGKILL');
    await gone;
  }
}

export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | false | null | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export interface Verdict {
  ok: boolean;
  problems: string[];
}

/**
 * The one check every scenario ends with: each company is in the sandbox exactly once (by its
 * key), with the payload its current row produces, and its state row is synced to that record's id.
 */
export async function exactlyOnce(
  sandbox: HubspotSandbox,
  companies: Repository<FaultCompany>,
  states: Repository<CrmSynchronisation>,
  ids: number[],
): Promise<Verdict> {
  const problems: string[] = [];
  const byKey = new Map<
    string,
    Array<{ id: string; properties: Record<string, string | null> }>
  >();
  for (const record of sandbox.records('companies')) {
    const key = record.properties.etlify_key;
    if (!key) continue;
    const list = byKey.get(key) ?? [];
    list.push(record as never);
    byKey.set(key, list);
  }
  const rows = new Map<string, CrmSynchronisation>();
  for (let i = 0; i < ids.length; i += 1000) {
    for (const row of await states.findBy({
      resourceType: 'FaultCompany',
      resourceId: In(ids.slice(i, i + 1000).map(String)),
    }))
      rows.set(row.resourceId, row);
  }
  const current = new Map<number, FaultCompany>();
  for (let i = 0; i < ids.length; i += 1000) {
    for (const c of await companies.findBy({ id: In(ids.slice(i, i + 1000)) }))
      current.set(c.id, c);
  }
  for (const id of ids) {
    const company = current.get(id)!;
    const records = byKey.get(`FaultCompany:${id}`) ?? [];
    const row = rows.get(String(id));
    if (records.length !== 1) {
      problems.push(`company ${id}: ${records.length} records in HubSpot`);
      continue;
    }
    const [record] = records;
    const want = expectedPayload(company);
    for (const [k, v] of Object.entries(want)) {
      if (record.properties[k] !== v)
        problems.push(
          `company ${id}: ${k} is ${record.properties[k]}, row says ${v}`,
        );
    }
    if (!row) problems.push(`company ${id}: no state row`);
    else if (row.crmId !== record.id || row.state !== 'synced')
      problems.push(
        `company ${id}: state row ${row.state} ${row.crmId}, HubSpot ${record.id}`,
      );
  }
  return { ok: problems.length === 0, problems };
}
