import { INestApplicationContext } from '@nestjs/common';
import { CrmSynchronisation, SyncOutcome, SyncService } from 'nestjs-etlify';
import { DataSource } from 'typeorm';
import { Company } from './companies/company.entity';
import { Investment } from './investments/investment.entity';
import { User } from './users/user.entity';

/** One line of the "what happened" table. */
export interface StoryRow extends Record<string, string> {
  step: string;
  record: string;
  etlify: string;
  crmId: string;
  crmCalls: string;
  crmNow: string;
}

export interface StoryContext {
  app: INestApplicationContext;
  /** Unique per run, so a real portal never sees the same email or domain twice. */
  runId: string;
  /** Waits until every captured change has reached the CRM (inline or through the queue). */
  settle(): Promise<void>;
  /** HTTP calls the CRM received so far; null when they cannot be counted (real HubSpot). */
  crmCalls(): number | null;
  /** The CRM record's properties as the CRM returns them; null when it holds no such record. */
  readCrm(
    objectType: string,
    crmId: string,
  ): Promise<Record<string, string | null> | null>;
}

export interface StoryRecord {
  key: string;
  label: string;
  objectType: string;
  /** The last CRM id the record had, also after it was deleted. */
  crmId: string | null;
}

export interface StoryResult {
  rows: StoryRow[];
  records: StoryRecord[];
}

interface StateSnapshot {
  crmId: string | null;
  digest: string | null;
  state: string;
  error: string | null;
}

interface ChangeLine {
  key: string;
  etlify: string;
  crmId: string;
}

/**
 * The walk-through: create → synced after commit; change a field → update by CRM id; no change →
 * not modified; an investment changes → its user re-synced; repository.update() → caught by the
 * sweep; delete → removed from the CRM; a value HubSpot would refuse → caught before sending.
 */
export async function runStory(ctx: StoryContext): Promise<StoryResult> {
  const ds = ctx.app.get(DataSource);
  const sync = ctx.app.get(SyncService);
  const users = ds.getRepository(User);
  const investments = ds.getRepository(Investment);
  const records = new Map<string, StoryRecord>();
  const seenInCrm = new Map<string, Record<string, string | null>>();
  const rows: StoryRow[] = [];
  const domain = ctx.runId
    ? `acme-${ctx.runId}.example.com`
    : 'acme.example.com';

  const remember = (
    type: string,
    id: number,
    label: string,
    objectType: string,
  ) =>
    records.set(`${type}#${id}`, {
      key: `${type}#${id}`,
      label,
      objectType,
      crmId: null,
    });
  const relabel = (key: string, label: string) =>
    (records.get(key)!.label = label);

  const snapshot = async (): Promise<Map<string, StateSnapshot>> => {
    const states = await ds
      .getRepository(CrmSynchronisation)
      .find({ order: { id: 'ASC' } });
    return new Map(
      states.map((s) => [
        `${s.resourceType}#${s.resourceId}`,
        {
          crmId: s.crmId,
          digest: s.lastDigest,
          state: s.state,
          error: s.lastError,
        },
      ]),
    );
  };

  // What the CRM record says now, as far as it differs from the last time the story looked.
  const crmNow = async (key: string, crmId: string): Promise<string> => {
    const now = await ctx.readCrm(records.get(key)!.objectType, crmId);
    if (!now) return '(no record)';
    const previous = seenInCrm.get(key) ?? {};
    seenInCrm.set(key, now);
    const changed = Object.keys(now).filter(
      (name) => now[name] && now[name] !== previous[name],
    );
    return changed.length
      ? changed.map((name) => `${name}=${now[name]}`).join(' ')
      : '(unchanged)';
  };

  const step = async (
    name: string,
    action: () => Promise<Record<string, SyncOutcome> | void>,
  ): Promise<void> => {
    const before = await snapshot();
    const callsBefore = ctx.crmCalls();
    const outcomes = (await action()) ?? {};
    await ctx.settle();
    const after = await snapshot();
    const callsAfter = ctx.crmCalls();
    const calls =
      callsBefore === null || callsAfter === null
        ? '-'
        : String(callsAfter - callsBefore);
    const lines = describeChanges(before, after, outcomes);
    if (lines.length === 0) {
      lines.push({
        key: '',
        etlify: 'nothing sent: the CRM is now behind',
        crmId: '',
      });
    }
    for (const [i, line] of lines.entries()) {
      const record = records.get(line.key);
      if (record && line.crmId) record.crmId = line.crmId;
      rows.push({
        step: i === 0 ? name : '',
        record: record ? `${record.key} ${record.label}` : '-',
        etlify: line.etlify,
        crmId: line.crmId,
        crmCalls: i === 0 ? calls : '',
        crmNow: record && line.crmId ? await crmNow(line.key, line.crmId) : '',
      });
    }
  };

  let ada!: User;
  let fund!: Investment;
  await step('1. create a company, 3 users, an investment', async () => {
    // One transaction: nothing is sent before it commits, then all of it is.
    await ds.transaction(async (em) => {
      const acme = await em.save(em.create(Company, { name: 'Acme', domain }));
      const user = (
        firstName: string,
        lastName: string,
        email: string | null,
      ) =>
        em.save(em.create(User, { email, firstName, lastName, company: acme }));
      ada = await user('Ada', 'Lovelace', `ada@${domain}`);
      const grace = await user('Grace', 'Hopper', `grace@${domain}`);
      const anon = await user('Anon', 'Ymous', null);
      fund = await em.save(
        em.create(Investment, { fund: 'Fund I', amount: 250_000, user: ada }),
      );
      remember('Company', acme.id, 'Acme', 'companies');
      remember('User', ada.id, 'Ada Lovelace', 'contacts');
      remember('User', grace.id, 'Grace Hopper', 'contacts');
      remember('User', anon.id, 'Anon (no email)', 'contacts');
    });
  });

  await step('2. change a field', async () => {
    ada.lastName = 'King';
    await users.save(ada);
    relabel(`User#${ada.id}`, 'Ada King');
  });

  await step('3. save again, nothing changed', async () => {
    await users.save(ada);
    return { [`User#${ada.id}`]: await sync.sync(ada, { async: false }) };
  });

  await step("4. change one of Ada's investments", async () => {
    fund.amount = 300_000;
    await investments.save(fund);
  });

  await step('5. repository.update() (no entity)', async () => {
    await users.update({ id: ada.id }, { firstName: 'Augusta Ada' });
    relabel(`User#${ada.id}`, 'Augusta Ada King');
  });

  await step('6. stale sweep (a cron job)', async () => {
    await sync.syncStale();
  });

  await step('7. delete a user', async () => {
    await users.remove(await users.findOneByOrFail({ id: ada.id }));
  });

  await step('8. a lead status HubSpot does not have', async () => {
    const acme = await ds.getRepository(Company).findOneByOrFail({ domain });
    const hedy = await users.save(
      users.create({
        email: `hedy@${domain}`,
        firstName: 'Hedy',
        lastName: 'Lamarr',
        leadStatus: 'HOT',
        company: acme,
      }),
    );
    remember('User', hedy.id, 'Hedy Lamarr', 'contacts');
  });

  return { rows, records: [...records.values()] };
}

function describeChanges(
  before: Map<string, StateSnapshot>,
  after: Map<string, StateSnapshot>,
  outcomes: Record<string, SyncOutcome>,
): ChangeLine[] {
  const lines: ChangeLine[] = [];
  for (const [key, now] of after) {
    const was = before.get(key);
    const crmId = now.crmId ?? '';
    if (now.state === 'skipped') {
      if (was?.state !== 'skipped') {
        lines.push({ key, etlify: 'skipped (syncIf: no email)', crmId });
      }
    } else if (now.state === 'error' || now.state === 'dead') {
      if (was?.error !== now.error) {
        lines.push({ key, etlify: `${now.state}: ${now.error}`, crmId });
      }
    } else if (now.crmId && !was?.crmId) {
      lines.push({ key, etlify: 'created in the CRM', crmId });
    } else if (was && now.digest !== was.digest) {
      lines.push({ key, etlify: 'updated, by its CRM id', crmId });
    } else if (outcomes[key]) {
      const { status, crmId: outcomeCrmId } = outcomes[key];
      const why =
        status === 'not_modified' ? ' (same digest, no CRM call)' : '';
      lines.push({ key, etlify: status + why, crmId: outcomeCrmId ?? crmId });
    }
  }
  for (const [key, was] of before) {
    if (!after.has(key)) {
      lines.push({
        key,
        etlify: 'deleted from the CRM',
        crmId: was.crmId ?? '',
      });
    }
  }
  // Inline and queued runs finish in different orders: print in a stable one.
  return lines.sort((a, b) => byRecord(a.key, b.key));
}

function byRecord(a: string, b: string): number {
  const [typeA, idA] = a.split('#');
  const [typeB, idB] = b.split('#');
  return typeA.localeCompare(typeB) || Number(idA) - Number(idB);
}
