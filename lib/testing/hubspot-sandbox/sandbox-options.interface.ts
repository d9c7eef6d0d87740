import type { IncomingMessage } from 'node:http';
import type { SandboxPropertyInput } from './sandbox-properties';

/**
 * Kinds of failure the sandbox can play instead of a normal answer:
 * - `'500' | '502' | '503' | '504'`: server / gateway errors (502 and 504 as HTML pages);
 * - `'423'`: locked record; `'429'`: rate limited (see `policy`);
 * - `'477'`: Migration in Progress, with `Retry-After` (see `retryAfterSeconds`);
 * - `'timeout'`: no answer until the client gives up; `'reset'`: socket destroyed, no answer;
 * - `'slow'`: the request waits `delayMs`, then runs and answers normally;
 * - `'late'`: the request runs at once, its answer leaves after `delayMs` (beyond a client timeout);
 * - `'truncated'`: the request runs, its 2xx answer has a cut JSON body;
 * - `'empty'`: the request runs, its 2xx answer has no body at all.
 * `late`, `truncated` and `empty` always apply the request first: they are ghost writes by nature.
 */
export type SandboxFaultKind =
  | '500'
  | '502'
  | '503'
  | '504'
  | '423'
  | '429'
  | '477'
  | 'timeout'
  | 'reset'
  | 'slow'
  | 'late'
  | 'truncated'
  | 'empty';

/** Faults that can follow an applied write (a ghost write). */
export type SandboxGhostKind = Exclude<
  SandboxFaultKind,
  '429' | 'slow' | '423'
>;

/** HubSpot's rate-limit policies, as named in 429 bodies. */
export type SandboxRatePolicy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

/** What a fault matcher sees of a request (the token is never exposed). */
export interface SandboxRequestInfo {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

/**
 * Random faults drawn from the seeded PRNG, so a given seed replays the same sequence.
 * `HubspotSandboxOptions.faults` takes one rule or a list (per-route rates); the first rule
 * that fires wins.
 */
export interface SandboxRandomFaults {
  /** Probability (0..1) that a matching request gets a fault. */
  rate: number;
  /** Kinds to pick from uniformly. Default `['500', '502', '503', '423', 'timeout', 'reset']`. */
  kinds?: SandboxFaultKind[];
  /** HTTP method to match (case-insensitive). Default: any. */
  method?: string;
  /** Exact path, a path prefix ending at a `/` boundary, or a RegExp over the path. Default: any. */
  path?: string | RegExp;
  /** Only requests for which this returns true are eligible. Default: every request. */
  match?: (req: SandboxRequestInfo) => boolean;
  /**
   * Probability (0..1) that a fault drawn for a write (POST other than search/batch read, PATCH,
   * DELETE) is a ghost write: the write is applied, then the fault is played. Default 0.
   */
  ghostRate?: number;
}

/** A scripted fault for the next matching request(s); see `HubspotSandbox.injectFault`. */
export interface SandboxInjectedFault {
  kind: SandboxFaultKind;
  /** How many matching requests get it. Default 1. */
  times?: number;
  /** HTTP method to match (case-insensitive). Default: any. */
  method?: string;
  /** Exact path, a path prefix ending at a `/` boundary, or a RegExp over the path. Default: any. */
  path?: string | RegExp;
  /** Policy of a scripted `'429'`. Default `TEN_SECONDLY_ROLLING`. */
  policy?: SandboxRatePolicy;
  /**
   * Apply the request before playing the fault (not for `slow`), as when HubSpot commits a write
   * but the answer is lost: retries must then be idempotent. Default false.
   */
  afterWrite?: boolean;
  /**
   * Delay of a `'slow'` fault (the request then runs and answers) or of a `'late'` answer
   * (the request already ran). Default 2000 for `slow`, 30,000 for `late`.
   */
  delayMs?: number;
  /** `Retry-After` (seconds) of a `'477'`. Default 30. */
  retryAfterSeconds?: number;
}

/** A scripted ghost write; see `HubspotSandbox.ghostWrite`. */
export interface SandboxGhostWrite {
  /** How the applied write's answer goes wrong. Default `'reset'` (socket destroyed). */
  kind?: SandboxGhostKind;
  /** How many matching requests get it. Default 1. */
  times?: number;
  /** HTTP method to match. Default: any write method (POST, PATCH, DELETE, PUT). */
  method?: string;
  /** Exact path, a prefix ending at a `/` boundary, or a RegExp. Default: any. */
  path?: string | RegExp;
  /** Delay of a `'late'` answer in ms. Default 30,000. */
  delayMs?: number;
}

/** API versions served beside `/crm/v3` and `/crm/v4/associations`. */
export type SandboxApiVersion = '2025-09' | '2026-03' | '2026-09';

/** How batch/update and batch/upsert report an input that cannot be written. */
export type SandboxBatchWriteErrors = 'per-input' | 'whole-batch';

/**
 * Options of `new HubspotSandbox(...)`. Every default is the harsher behaviour HubSpot allows
 * (shared/docs/hubspot.md); the kinder one is an option a test asks for by name.
 */
export interface HubspotSandboxOptions {
  /** When set, any other bearer token gets 401; unset, any non-empty bearer token works. */
  accessToken?: string;
  /** Calls per rolling 10 s per token. Default 100 (HubSpot Free/Starter). */
  tenSecondLimit?: number;
  /** Calls per portal day (see `timeZone`) per token. Default 250,000. */
  dailyLimit?: number;
  /** Search calls per rolling second per token, outside the 10 s bucket. Default 5. */
  searchPerSecond?: number;
  /**
   * Delay before a write becomes visible to search. Default 3,000 ms plus up to
   * `searchLagJitterMs` (so 3–5 s, as field reports describe). `0` makes search immediate.
   */
  searchLagMs?: number;
  /**
   * Random extra lag (0..this, seeded) per write. Default 2,000 when `searchLagMs` is not set,
   * 0 when it is (a test that names a lag gets exactly that lag).
   */
  searchLagJitterMs?: number;
  /** Added to every response. Default 0. */
  latencyMs?: number;
  /** Seed of the PRNGs used for random faults, result order and search-lag jitter. Default 1. */
  seed?: number;
  /** Random faults, one rule or per-route rules (first that fires wins); none by default. */
  faults?: SandboxRandomFaults | SandboxRandomFaults[];
  /**
   * Order of successful batch results. Default `'random'` (seeded): HubSpot returns them in no
   * particular order. `'input'` keeps the inputs' order.
   */
  batchResultOrder?: 'random' | 'input';
  /**
   * Echo `objectWriteTraceId` on successful batch results. Default false: the field is optional
   * in HubSpot's schema and its own examples omit it. Errors always name it in their context.
   */
  traceIdsInResults?: boolean;
  /**
   * batch/update and batch/upsert: `'per-input'` (default) answers 207 with one error per bad
   * input and writes the others; `'whole-batch'` refuses the batch with a 400 on the first bad input.
   */
  batchWriteErrors?: SandboxBatchWriteErrors;
  /**
   * batch/upsert when two inputs resolve to the same record: `'per-input'` (default) writes the
   * first and answers a per-input error for the others, so a client must read which inputs were
   * written; `'reject-batch'` answers 400 for the whole batch, as HubSpot's docs describe.
   */
  upsertDuplicates?: 'per-input' | 'reject-batch';
  /**
   * The portal's IANA time zone: the daily quota resets at its midnight, and
   * `GET /account-info/v3/details` reports it. Default `'America/Los_Angeles'`, west of UTC, so
   * a client that waits for UTC midnight resumes too early.
   */
  timeZone?: string;
  /** A fixed UTC offset in minutes instead of `timeZone` (e.g. -480). */
  utcOffsetMinutes?: number;
  /**
   * The sandbox's clock (epoch ms): record timestamps, search lag, rate windows and the daily
   * reset. Default `Date.now`. A test can move it to cross the portal's midnight without waiting.
   */
  now?: () => number;
  /**
   * Scopes the private app lacks (e.g. `'crm.schemas.contacts.write'`): calls that need one
   * answer 403 `MISSING_SCOPES` naming it. Default none.
   */
  missingScopes?: string[];
  /** Date versions served beside v3. Default all of `2025-09`, `2026-03`, `2026-09`. */
  apiVersions?: SandboxApiVersion[];
  /** Send `Retry-After` (seconds) on 429s; HubSpot does not document it, so default false. 477s always carry it. */
  retryAfter?: boolean;
  /** Port to listen on; default 0 (random). */
  port?: number;
  /** Properties to define before start, per object type. */
  properties?: Record<string, SandboxPropertyInput[]>;
  /** Most request-log entries kept (oldest dropped first). Default 100,000. */
  maxLogEntries?: number;
  /** The portal's id, part of custom objects' names (`p<portalId>_<name>`). Default 12345678. */
  portalId?: number;
  /**
   * Kind mode: association batch results in input order. HubSpot promises no order, so by
   * default they come back shuffled (seeded by `seed`).
   */
  orderedAssociationResults?: boolean;
}

/** One entry of `HubspotSandbox.requests`. The bearer token is never stored. */
export interface SandboxRequestLogEntry {
  method: string;
  path: string;
  /** Query string without `?`, '' when none. */
  query: string;
  /** Status sent; 0 when the socket was reset or the request timed out. */
  status: number;
  /** Epoch ms when the request arrived. */
  at: number;
  /** Number of `inputs` of a batch body. */
  bodyInputs?: number;
  /** Fault played instead of (or before, for `slow`) the normal answer. */
  fault?: SandboxFaultKind;
  /** Rate-limit policy of a 429. */
  policy?: SandboxRatePolicy;
}

/** Filter of `HubspotSandbox.callCount`. */
export interface SandboxCallFilter {
  method?: string;
  path?: string | RegExp;
  status?: number;
}
