import type { IncomingMessage } from 'node:http';
import type { SandboxPropertyInput } from './sandbox-properties';

/** Kinds of failure the sandbox can play instead of a normal answer. */
export type SandboxFaultKind =
  '500' | '502' | '503' | '423' | '429' | 'timeout' | 'reset' | 'slow';

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

/** Random faults drawn from the seeded PRNG, so a given seed replays the same sequence. */
export interface SandboxRandomFaults {
  /** Probability (0..1) that a matching request gets a fault. */
  rate: number;
  /** Kinds to pick from uniformly. Default `['500', '502', '503', '423', 'timeout', 'reset']`. */
  kinds?: SandboxFaultKind[];
  /** Only requests for which this returns true are eligible. Default: every request. */
  match?: (req: SandboxRequestInfo) => boolean;
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
  /** Delay of a `'slow'` fault in ms (the request then proceeds normally). Default 2000. */
  delayMs?: number;
}

export interface HubspotSandboxOptions {
  /** When set, any other bearer token gets 401; unset, any non-empty bearer token works. */
  accessToken?: string;
  /** Calls per rolling 10 s per token. Default 100 (HubSpot Free/Starter). */
  tenSecondLimit?: number;
  /** Calls per UTC day per token. Default 250,000. */
  dailyLimit?: number;
  /** Search calls per rolling second per token, outside the 10 s bucket. Default 5. */
  searchPerSecond?: number;
  /** Delay before a write becomes visible to search. Default 300 ms. */
  searchLagMs?: number;
  /** Added to every response. Default 0. */
  latencyMs?: number;
  /** Seed of the PRNG used for random faults. Default 1. */
  seed?: number;
  /** Random faults; none by default. */
  faults?: SandboxRandomFaults;
  /** Send `Retry-After` (seconds) on 429s; HubSpot does not document it, so default false. */
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
