import { validationError } from './sandbox-errors';
import { parseTimestamp } from './sandbox-properties';
import type {
  ObjectTypeStore,
  SandboxRecord,
  SearchVersion,
  StoredRecord,
} from './sandbox-store';

interface SearchFilter {
  propertyName?: unknown;
  operator?: unknown;
  value?: unknown;
  highValue?: unknown;
  values?: unknown;
}

interface SearchBody {
  filterGroups?: Array<{ filters?: SearchFilter[] }>;
  sorts?: unknown[];
  query?: unknown;
  properties?: unknown;
  limit?: unknown;
  after?: unknown;
}

export interface SearchResponse {
  total: number;
  results: SandboxRecord[];
  paging?: { next: { after: string } };
}

const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;
const MAX_LIMIT = 200;
const MAX_RESULTS = 10_000;
export const MAX_SEARCH_BODY_CHARS = 3_000;

const OPERATORS = new Set([
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
]);

type Matcher = (props: Record<string, string>) => boolean;

/** Runs a search over what the index shows at `now` (lagging writes are invisible). */
export function search(
  store: ObjectTypeStore,
  rawBody: unknown,
  now: number,
): SearchResponse {
  const body = (rawBody ?? {}) as SearchBody;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw validationError('Invalid search request body');
  }
  const groups = body.filterGroups ?? [];
  if (!Array.isArray(groups))
    throw validationError('filterGroups must be an array');
  if (groups.length > MAX_GROUPS) {
    throw validationError(
      `Too many filter groups: ${groups.length}; the maximum is ${MAX_GROUPS}.`,
    );
  }
  let total = 0;
  const groupMatchers: Matcher[][] = groups.map((group) => {
    const filters = group?.filters ?? [];
    if (!Array.isArray(filters))
      throw validationError('filters must be an array');
    if (filters.length > MAX_FILTERS_PER_GROUP) {
      throw validationError(
        `Too many filters in a group: ${filters.length}; the maximum is ${MAX_FILTERS_PER_GROUP}.`,
      );
    }
    total += filters.length;
    return filters.map((f) => compileFilter(store, f));
  });
  if (total > MAX_FILTERS) {
    throw validationError(
      `Too many filters: ${total}; the maximum is ${MAX_FILTERS}.`,
    );
  }
  const limit = body.limit === undefined ? 10 : Number(body.limit);
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) {
    throw validationError(`limit must be between 0 and ${MAX_LIMIT}`);
  }
  const after =
    body.after === undefined || body.after === '' ? 0 : Number(body.after);
  if (!Number.isInteger(after) || after < 0)
    throw validationError('after must be a non-negative integer');
  // Paging stops at 10,000 results: a page starting there is refused, one crossing it is cut.
  if (after >= MAX_RESULTS) {
    throw validationError(
      `Search results are limited to ${MAX_RESULTS}; "after" is too large.`,
    );
  }
  const query =
    typeof body.query === 'string' ? body.query.trim().toLowerCase() : '';

  const hits: Array<{ record: StoredRecord; view: SearchVersion }> = [];
  for (const record of store.records.values()) {
    const view = store.searchView(record, now);
    if (!view) continue;
    if (
      groupMatchers.length > 0 &&
      !groupMatchers.some((g) => g.every((m) => m(view.properties)))
    )
      continue;
    if (query && !matchesQuery(view.properties, query)) continue;
    hits.push({ record, view });
  }
  sortHits(hits, body.sorts);

  const properties = Array.isArray(body.properties)
    ? body.properties.filter((p): p is string => typeof p === 'string')
    : undefined;
  const names = store.readProperties(properties);
  const page = hits.slice(after, Math.min(after + limit, MAX_RESULTS));
  const next = after + limit;
  return {
    total: hits.length,
    results: page.map((h) => store.toJson(h.record, names, h.view)),
    ...(next < Math.min(hits.length, MAX_RESULTS) && limit > 0
      ? { paging: { next: { after: String(next) } } }
      : {}),
  };
}

function compileFilter(store: ObjectTypeStore, filter: SearchFilter): Matcher {
  const name = filter?.propertyName;
  const operator = filter?.operator;
  if (
    typeof name !== 'string' ||
    typeof operator !== 'string' ||
    !OPERATORS.has(operator)
  ) {
    throw validationError(
      `Invalid filter: ${JSON.stringify(filter)}; operator must be one of ${[...OPERATORS].join(', ')}`,
    );
  }
  const type = store.properties.get(name)?.type;
  const temporal = type === 'date' || type === 'datetime';
  // Contacts' email filters also match secondary emails, as HubSpot's identity lookups do.
  const alsoSecondary = store.objectType === 'contacts' && name === 'email';
  const valuesOf = (props: Record<string, string>): string[] => {
    const values: string[] = [];
    if (props[name] !== undefined) values.push(props[name]);
    if (alsoSecondary && props.hs_additional_emails) {
      values.push(...props.hs_additional_emails.split(';'));
    }
    return values;
  };
  const eq = (actual: string, expected: unknown): boolean =>
    compare(actual, expected, temporal) === 0;
  switch (operator) {
    case 'HAS_PROPERTY':
      return (p) => p[name] !== undefined;
    case 'NOT_HAS_PROPERTY':
      return (p) => p[name] === undefined;
    case 'EQ':
      return (p) => valuesOf(p).some((v) => eq(v, filter.value));
    case 'NEQ':
      return (p) => !valuesOf(p).some((v) => eq(v, filter.value));
    case 'IN':
    case 'NOT_IN': {
      const list = Array.isArray(filter.values) ? filter.values : [];
      const hit = (p: Record<string, string>) =>
        valuesOf(p).some((v) => list.some((x: unknown) => eq(v, x)));
      return operator === 'IN' ? hit : (p) => !hit(p);
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE':
      return (p) => {
        if (p[name] === undefined) return false;
        const c = compare(p[name], filter.value, temporal);
        if (Number.isNaN(c)) return false;
        return operator === 'GT'
          ? c > 0
          : operator === 'GTE'
            ? c >= 0
            : operator === 'LT'
              ? c < 0
              : c <= 0;
      };
    case 'BETWEEN':
      return (p) =>
        p[name] !== undefined &&
        compare(p[name], filter.value, temporal) >= 0 &&
        compare(p[name], filter.highValue, temporal) <= 0;
    default: {
      const pattern = tokenPattern(String(filter.value ?? ''));
      const hit = (p: Record<string, string>) =>
        valuesOf(p).some((v) => tokens(v).some((t) => pattern.test(t)));
      return operator === 'CONTAINS_TOKEN' ? hit : (p) => !hit(p);
    }
  }
}

/** <0, 0, >0, or NaN when the values cannot be compared. */
function compare(actual: string, expected: unknown, temporal: boolean): number {
  const raw = String(expected ?? '');
  if (temporal) {
    return parseTimestamp(actual) - parseTimestamp(raw);
  }
  const a = Number(actual);
  const b = Number(raw);
  if (
    actual.trim() !== '' &&
    raw.trim() !== '' &&
    Number.isFinite(a) &&
    Number.isFinite(b)
  ) {
    return a - b;
  }
  // HubSpot compares strings case-insensitively.
  const x = actual.toLowerCase();
  const y = raw.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function tokens(value: string): string[] {
  const lower = value.toLowerCase();
  return [lower, ...lower.split(/[^a-z0-9]+/).filter(Boolean)];
}

function tokenPattern(value: string): RegExp {
  const escaped = value
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`);
}

const QUERY_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'company',
  'name',
  'domain',
  'website',
  'dealname',
];

function matchesQuery(props: Record<string, string>, query: string): boolean {
  return QUERY_PROPERTIES.some((name) =>
    props[name]?.toLowerCase().includes(query),
  );
}

function sortHits(
  hits: Array<{ record: StoredRecord; view: SearchVersion }>,
  sorts: unknown[] | undefined,
): void {
  const keys = (Array.isArray(sorts) ? sorts : [])
    .map((s) => {
      if (typeof s === 'string') {
        return s.startsWith('-')
          ? { name: s.slice(1), desc: true }
          : { name: s, desc: false };
      }
      const o = s as { propertyName?: unknown; direction?: unknown };
      return typeof o?.propertyName === 'string'
        ? { name: o.propertyName, desc: o.direction === 'DESCENDING' }
        : undefined;
    })
    .filter((k): k is { name: string; desc: boolean } => k !== undefined);
  hits.sort((x, y) => {
    for (const key of keys) {
      const a = x.view.properties[key.name];
      const b = y.view.properties[key.name];
      if (a === b) continue;
      // Records without the value sort last either way.
      if (a === undefined) return 1;
      if (b === undefined) return -1;
      const c = compare(a, b, false);
      if (c !== 0) return key.desc ? -c : c;
    }
    return Number(x.record.id) - Number(y.record.id);
  });
}
