import { HubspotAdapter, InProcessRateGovernor } from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';

const TOKEN = 'bench-token';
const LIMIT = { maxRequests: 190, intervalMs: 10_000 };
const quiet = { log() {}, warn() {}, error() {} };

interface Row extends Record<string, string | number> {
  case: string;
  records: number;
  calls: number;
  seconds: number;
  'records/s': number;
  'calls/record': number;
  '429s': number;
}

function row(
  label: string,
  records: number,
  sandbox: HubspotSandbox,
  since: number,
  startedAt: bigint,
): Row {
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const calls = sandbox.requests.length - since;
  return {
    case: label,
    records,
    calls,
    seconds: +seconds.toFixed(2),
    'records/s': +(records / seconds).toFixed(1),
    'calls/record': +(calls / records).toFixed(3),
    '429s': sandbox.requests.slice(since).filter((r) => r.status === 429)
      .length,
  };
}

/** The gem's first sync: search by the id property, then PATCH the hit or POST a new record. */
async function gemPattern(
  baseUrl: string,
  governor: InProcessRateGovernor,
  emails: string[],
): Promise<void> {
  const call = async (method: string, path: string, body: unknown) => {
    await governor.acquire(path.endsWith('/search') ? 'search' : 'standard');
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { results?: Array<{ id: string }> };
  };
  for (const email of emails) {
    const found = await call('POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ', value: email }] },
      ],
      limit: 1,
    });
    const id = found.results?.[0]?.id;
    if (id) {
      await call('PATCH', `/crm/v3/objects/contacts/${id}`, {
        properties: { email, firstname: 'Gem' },
      });
    } else {
      await call('POST', '/crm/v3/objects/contacts', {
        properties: { email, firstname: 'Gem' },
      });
    }
  }
}

/**
 * First sync of new contacts at HubSpot Pro limits (190 / 10 s) with 50 ms latency:
 * HubspotAdapter.batchUpsert vs the gem's search-then-write pattern, in the same run.
 */
export async function hubspotAdapterBench(): Promise<void> {
  const sandbox = new HubspotSandbox({
    accessToken: TOKEN,
    tenSecondLimit: LIMIT.maxRequests,
    latencyMs: 50,
  });
  const { baseUrl } = await sandbox.start();
  const rows: Row[] = [];
  try {
    const adapter = new HubspotAdapter({
      accessToken: TOKEN,
      baseUrl,
      logger: quiet,
    });
    adapter.attach({
      crmName: 'hubspot',
      rateGovernor: new InProcessRateGovernor(LIMIT),
    });
    // The second run keeps the account busy for over three 10 s windows: sustained throughput.
    for (const [label, offset, count] of [
      ['batchUpsert, 10,000, fresh 10 s window', 0, 10_000],
      ['batchUpsert, 60,000 more, sustained', 10_000, 60_000],
    ] as const) {
      const records = Array.from({ length: count }, (_, i) => ({
        key: String(offset + i),
        payload: {
          email: `bench-${offset + i}@example.com`,
          firstname: 'Bench',
        },
      }));
      const since = sandbox.requests.length;
      const startedAt = process.hrtime.bigint();
      const results = await adapter.batchUpsert({
        objectType: 'contacts',
        idProperty: 'email',
        records,
      });
      rows.push(row(label, records.length, sandbox, since, startedAt));
      const failed = results.filter((r) => r.error).length;
      if (failed) throw new Error(`${failed} records failed in "${label}"`);
    }
    adapter.close();

    // A fresh account window for the baseline, so it does not pay for the runs above.
    sandbox.reset();
    const emails = Array.from(
      { length: 500 },
      (_, i) => `gem-${i}@example.com`,
    );
    const since = sandbox.requests.length;
    const startedAt = process.hrtime.bigint();
    await gemPattern(
      baseUrl,
      new InProcessRateGovernor({ ...LIMIT, safetyMarginMs: 50 }),
      emails,
    );
    rows.push(
      row(
        'gem pattern (search, then PATCH/POST)',
        500,
        sandbox,
        since,
        startedAt,
      ),
    );
  } finally {
    await sandbox.stop();
  }
  console.log(
    '\nHubSpot first sync of new contacts (sandbox 190 / 10 s, 50 ms latency)',
  );
  console.table(rows);
  const gem = rows[rows.length - 1]['records/s'];
  for (const r of rows.slice(0, -1)) {
    console.log(
      `${r.case}: ${(r['records/s'] / gem).toFixed(0)}x the gem pattern's records/s`,
    );
  }
}

if (require.main === module) {
  hubspotAdapterBench().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
