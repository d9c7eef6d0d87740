import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleAccountInfo } from './sandbox-account-routes';
import { parseApiPath } from './sandbox-api-path.util';
import { PortalClock } from './sandbox-clock.util';
import {
  SandboxHttpError,
  unauthorized,
  validationError,
} from './sandbox-errors';
import { SandboxFaults, seededRandom } from './sandbox-faults';
import type {
  HubspotSandboxOptions,
  SandboxApiVersion,
  SandboxCallFilter,
  SandboxFaultKind,
  SandboxGhostWrite,
  SandboxInjectedFault,
  SandboxRequestInfo,
  SandboxRequestLogEntry,
} from './sandbox-options.interface';
import type {
  SandboxPropertyDefinition,
  SandboxPropertyInput,
} from './sandbox-properties';
import { SandboxRateLimiter } from './sandbox-rate-limiter';
import {
  bearerToken,
  errorResponse,
  faultResponse,
  fixedZoneName,
  migrationInProgress,
  rateLimited,
} from './sandbox-responses';
import {
  defineProperty,
  SandboxRoutes,
  type RouteConfig,
  type RouteResponse,
} from './sandbox-routes';
import type {
  SandboxAssociation,
  SandboxAssociationDefinition,
} from './sandbox-associations';
import type {
  SandboxObjectSchema,
  SandboxObjectSchemaInput,
} from './sandbox-schemas';
import { missingScopes, requiredScope } from './sandbox-scopes';
import {
  canonicalObjectType,
  SandboxStore,
  type SandboxRecord,
} from './sandbox-store';

type ResolvedOptions = Required<
  Pick<
    HubspotSandboxOptions,
    | 'tenSecondLimit'
    | 'dailyLimit'
    | 'searchPerSecond'
    | 'searchLagMs'
    | 'searchLagJitterMs'
    | 'latencyMs'
    | 'seed'
    | 'retryAfter'
    | 'port'
    | 'maxLogEntries'
    | 'batchResultOrder'
    | 'traceIdsInResults'
    | 'batchWriteErrors'
    | 'upsertDuplicates'
    | 'timeZone'
    | 'apiVersions'
  >
> &
  HubspotSandboxOptions;

/** Harsh by default: see HubspotSandboxOptions for each kinder alternative. */
const DEFAULTS = {
  tenSecondLimit: 100,
  dailyLimit: 250_000,
  searchPerSecond: 5,
  searchLagMs: 3_000,
  latencyMs: 0,
  seed: 1,
  retryAfter: false,
  port: 0,
  maxLogEntries: 100_000,
  batchResultOrder: 'random' as const,
  traceIdsInResults: false,
  batchWriteErrors: 'per-input' as const,
  upsertDuplicates: 'per-input' as const,
  timeZone: 'America/Los_Angeles',
  apiVersions: ['2025-09', '2026-03', '2026-09'] as SandboxApiVersion[],
};
/** Jitter added to the default lag, so search catches up in 3–5 s. */
const DEFAULT_LAG_JITTER_MS = 2_000;
const DEFAULT_LATE_MS = 30_000;
const DEFAULT_SLOW_MS = 2_000;
const DEFAULT_MIGRATION_RETRY_S = 30;
/** Faults that apply the request whatever `afterWrite` says: the answer is what fails. */
const ALWAYS_APPLIED = new Set<SandboxFaultKind>([
  'late',
  'truncated',
  'empty',
]);

const JSON_TYPE = 'application/json;charset=utf-8';

/**
 * An in-process HTTP server that answers like HubSpot's CRM v3 objects and properties APIs
 * (see shared/docs/hubspot.md): per-token rate limits, search-index lag, unique identities,
 * HubSpot-shaped errors and scripted or seeded faults, for tests and benchmarks.
 */
export class HubspotSandbox {
  private readonly options: ResolvedOptions;
  private readonly store = new SandboxStore();
  private readonly routes: SandboxRoutes;
  private readonly limiter: SandboxRateLimiter;
  private readonly faults: SandboxFaults;
  private readonly clock: PortalClock;
  private lagRandom: () => number;
  private orderRandom: () => number;
  private missing: Set<string>;
  private server?: Server;
  private url?: string;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private log: SandboxRequestLogEntry[] = [];
  private endpointCounts = new Map<string, number>();

  constructor(options: HubspotSandboxOptions = {}) {
    this.options = {
      ...DEFAULTS,
      searchLagJitterMs:
        options.searchLagMs === undefined ? DEFAULT_LAG_JITTER_MS : 0,
      ...stripUndefined(options),
    } as ResolvedOptions;
    const fixedZone =
      options.utcOffsetMinutes !== undefined && options.timeZone === undefined;
    this.clock = new PortalClock(
      fixedZone
        ? fixedZoneName(options.utcOffsetMinutes as number)
        : this.options.timeZone,
      options.utcOffsetMinutes,
      options.now ?? Date.now,
    );
    this.lagRandom = seededRandom(this.options.seed ^ 0x9e3779b9);
    this.orderRandom = seededRandom(this.options.seed ^ 0x85ebca6b);
    this.missing = new Set(options.missingScopes ?? []);
    const config: RouteConfig = {
      lagMs: () => this.nextLag(),
      order: (results) => this.order(results),
      traceIdsInResults: this.options.traceIdsInResults,
      batchWriteErrors: this.options.batchWriteErrors,
      upsertDuplicates: this.options.upsertDuplicates,
      apiVersions: new Set(this.options.apiVersions),
    };
    this.routes = new SandboxRoutes(this.store, config);
    this.limiter = new SandboxRateLimiter(this.options, this.clock);
    this.faults = new SandboxFaults(this.options.seed, this.options.faults);
    this.store.portalId = options.portalId ?? this.store.portalId;
    this.store.associations.seed(this.options.seed);
    this.store.associations.resultsInOrder =
      !!options.orderedAssociationResults;
    for (const [type, defs] of Object.entries(options.properties ?? {})) {
      for (const def of defs) this.createProperty(type, def);
    }
  }

  /** The sandbox's clock (the `now` option, else `Date.now()`). */
  now(): number {
    return this.clock.now();
  }

  /** The portal's time zone, as `GET /account-info/v3/details` reports it. */
  get timeZone(): string {
    return this.clock.timeZone;
  }

  /** Epoch ms of the next daily-quota reset: the portal's next midnight. */
  nextDailyReset(at = this.now()): number {
    return this.clock.nextMidnight(at);
  }

  /** Listens on 127.0.0.1 (random port unless `port` is set). */
  async start(): Promise<{ baseUrl: string; port: number }> {
    if (this.server && this.url) {
      return { baseUrl: this.url, port: Number(new URL(this.url).port) };
    }
    const server = createServer((req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return { baseUrl: this.url, port };
  }

  /** Closes the server, keep-alive sockets and requests held by `timeout` faults or latency. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) =>
      server.close(() => resolve()),
    );
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  /** `http://127.0.0.1:<port>` once started. */
  get baseUrl(): string {
    if (!this.url)
      throw new Error('HubspotSandbox is not started; call start() first');
    return this.url;
  }

  /** Request log, oldest first (bearer tokens are never recorded). */
  get requests(): readonly SandboxRequestLogEntry[] {
    return this.log;
  }

  /** Live (not archived) records of a type, with every set property. */
  records(objectType: string): SandboxRecord[] {
    const store = this.store.type(objectType);
    const out: SandboxRecord[] = [];
    for (const record of store.records.values()) {
      if (!record.archived) out.push(store.toJson(record));
    }
    return out;
  }

  /** One record by id, archived ones included; old ids of merged records resolve to the merge's record. */
  record(objectType: string, id: string): SandboxRecord | undefined {
    const store = this.store.type(objectType);
    const record = store.records.get(id) ?? store.live(id, true);
    return record ? store.toJson(record) : undefined;
  }

  /** Associations of a record (both directions are stored), optionally to one object type. */
  associations(
    objectType: string,
    id: string,
    toObjectType?: string,
  ): SandboxAssociation[] {
    const from = this.store.type(objectType).objectType;
    const to = toObjectType
      ? this.store.type(toObjectType).objectType
      : undefined;
    return this.store.associations.list(from, id, to);
  }

  /** Calls per endpoint, keyed `METHOD /path` (e.g. `POST /crm/v3/objects/contacts/batch/upsert`). */
  counts(): Record<string, number> {
    return Object.fromEntries(this.endpointCounts);
  }

  /** Number of logged requests matching the filter (all when omitted). */
  callCount(filter: SandboxCallFilter = {}): number {
    return this.log.filter((entry) => {
      if (filter.method && filter.method.toUpperCase() !== entry.method)
        return false;
      if (filter.status !== undefined && filter.status !== entry.status)
        return false;
      if (filter.path instanceof RegExp) return filter.path.test(entry.path);
      return filter.path === undefined || filter.path === entry.path;
    }).length;
  }

  /** How many requests were answered 429 (limiter or scripted). */
  rejected429(): number {
    return this.log.reduce((n, entry) => n + (entry.status === 429 ? 1 : 0), 0);
  }

  /** Plays `fault` on the next matching request(s), before any random fault. */
  injectFault(fault: SandboxInjectedFault): void {
    this.faults.inject(fault);
  }

  /**
   * The next `times` matching writes are applied, then their answer is lost (`reset`, default),
   * never comes (`timeout`), comes too late (`late`), is a 5xx, or is a cut/empty 2xx body.
   */
  ghostWrite(ghost: SandboxGhostWrite = {}): void {
    this.faults.inject(
      {
        kind: ghost.kind ?? 'reset',
        times: ghost.times,
        method: ghost.method,
        path: ghost.path,
        delayMs: ghost.delayMs,
        afterWrite: true,
      },
      ghost.method === undefined,
    );
  }

  /** Scopes the private app lacks from now on (replaces the `missingScopes` option). */
  setMissingScopes(scopes: string[]): void {
    this.missing = new Set(scopes);
  }

  /**
   * Forgets records, request log, rate-limit budgets and scripted faults, and restarts the
   * fault PRNG; property definitions stay, like a portal's schema.
   */
  reset(): void {
    this.store.clearRecords();
    this.log = [];
    this.endpointCounts = new Map();
    this.limiter.reset();
    this.faults.reset();
    this.lagRandom = seededRandom(this.options.seed ^ 0x9e3779b9);
    this.orderRandom = seededRandom(this.options.seed ^ 0x85ebca6b);
  }

  /** Defines a property as `POST /crm/v3/properties/{objectType}` would (label etc. defaulted). */
  createProperty(
    objectType: string,
    def: SandboxPropertyInput,
  ): SandboxPropertyDefinition {
    return defineProperty(this.store.type(objectType), def, false, this.now());
  }

  /**
   * Defines a custom object as `POST /crm-object-schemas/v3/schemas` would; its records are then
   * reachable as `2-<id>` and `p<portalId>_<name>`.
   */
  defineObject(schema: SandboxObjectSchemaInput): SandboxObjectSchema {
    return this.store.schemas.define(schema);
  }

  /** Association types from one object type to another (HubSpot-defined and user-defined). */
  associationTypes(
    fromObjectType: string,
    toObjectType: string,
  ): SandboxAssociationDefinition[] {
    return this.store.associations.definitionsBetween(
      this.store.type(fromObjectType).objectType,
      this.store.type(toObjectType).objectType,
    );
  }

  /**
   * Merges two records as `POST /crm/v3/objects/{type}/merge` does: a new record with a new id,
   * values from the primary; both old ids keep answering basic GET/PATCH with it. Returns the new id.
   */
  merge(objectType: string, primaryId: string, otherId: string): string {
    return this.mergeRecords(objectType, primaryId, otherId).id;
  }

  /** `merge`, returning the new record. */
  mergeRecords(
    objectType: string,
    primaryId: string,
    otherId: string,
  ): SandboxRecord {
    return this.routes.mergeRecords(
      this.store.type(objectType),
      primaryId,
      otherId,
      this.now(),
    );
  }

  private nextLag(): number {
    const jitter = this.options.searchLagJitterMs;
    const extra = jitter > 0 ? Math.floor(this.lagRandom() * (jitter + 1)) : 0;
    return this.options.searchLagMs + extra;
  }

  private order<T>(results: T[]): T[] {
    if (this.options.batchResultOrder === 'input') return results;
    const out = [...results];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.orderRandom() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () =>
      this.process(req, res, Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', () => res.destroy());
  }

  private process(
    req: IncomingMessage,
    res: ServerResponse,
    rawBody: string,
  ): void {
    const at = this.now();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const entry: SandboxRequestLogEntry = {
      method,
      path,
      query: url.search.slice(1),
      status: 0,
      at,
    };
    this.record_(entry);
    const correlationId = randomUUID();
    const send = (
      response: RouteResponse,
      headers: Record<string, string> = {},
      cut?: 'truncated' | 'empty',
    ): void => {
      entry.status = response.status;
      this.respond(
        res,
        response,
        { ...headers, 'X-HubSpot-Correlation-Id': correlationId },
        correlationId,
        cut,
      );
    };

    let body: unknown;
    let bodyError: SandboxHttpError | undefined;
    if (rawBody.trim() !== '') {
      try {
        body = JSON.parse(rawBody);
        const inputs = (body as { inputs?: unknown } | null)?.inputs;
        if (Array.isArray(inputs)) entry.bodyInputs = inputs.length;
      } catch (error) {
        bodyError = validationError(
          `Invalid input JSON: ${(error as Error).message}`,
        );
      }
    }

    const token = bearerToken(req);
    if (
      !token ||
      (this.options.accessToken !== undefined &&
        token !== this.options.accessToken)
    ) {
      return send(errorResponse(unauthorized()));
    }

    const parsed = parseApiPath(path);
    const isSearch = SandboxRoutes.isSearch(method, path);
    const isAccountInfo = parsed?.api === 'account-info';
    const info: SandboxRequestInfo = {
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
    };
    const fault = this.faults.pick(info);
    if (fault) entry.fault = fault.kind;
    if (fault?.kind === '429') {
      const policy = fault.policy ?? 'TEN_SECONDLY_ROLLING';
      entry.policy = policy;
      const retryAfter =
        policy === 'DAILY'
          ? Math.ceil((this.clock.nextMidnight(at) - at) / 1000)
          : 1;
      return send(rateLimited(policy), {
        ...(isSearch ? {} : this.limiter.peekHeaders(token, at)),
        ...(this.options.retryAfter
          ? { 'Retry-After': String(retryAfter) }
          : {}),
      });
    }

    // Account-info answers even on a spent daily quota: it is how a client learns the reset.
    const decision = this.limiter.check(token, isSearch, at, isAccountInfo);
    if (decision.policy) {
      entry.policy = decision.policy;
      const headers = { ...decision.headers };
      if (this.options.retryAfter)
        headers['Retry-After'] = String(decision.retryAfterSeconds ?? 1);
      return send(rateLimited(decision.policy), headers);
    }

    const scope = requiredScope(method, parsed, canonicalObjectType);
    if (scope && this.missing.has(scope)) {
      return send(errorResponse(missingScopes(scope)), decision.headers);
    }

    const run = (): RouteResponse => {
      if (bodyError) return errorResponse(bodyError);
      try {
        const now = this.now();
        if (isAccountInfo && parsed) {
          return handleAccountInfo(
            method,
            path,
            parsed,
            this.clock,
            this.limiter.usage(token, now),
            now,
          );
        }
        return this.routes.handle({
          method,
          path,
          query: url.searchParams,
          body,
          rawBodyLength: rawBody.length,
          now,
        });
      } catch (error) {
        return error instanceof SandboxHttpError
          ? errorResponse(error)
          : {
              status: 500,
              body: {
                status: 'error',
                message: `Sandbox failure: ${String(error)}`,
                category: 'INTERNAL_ERROR',
              },
            };
      }
    };
    const headers = decision.headers;
    const proceed = (): void => send(run(), headers);
    const kind = fault?.kind;

    // A "ghost write": the request takes effect but the client only sees the failure.
    if (fault?.afterWrite && kind !== 'slow' && !ALWAYS_APPLIED.has(kind!)) {
      run();
    }
    switch (kind) {
      case 'reset':
        // No answer at all: the client sees ECONNRESET / "socket hang up".
        res.socket?.destroy();
        return;
      case 'timeout':
        // Hold the request until the client gives up; stop() destroys the socket.
        return;
      case 'slow':
        this.later(fault?.delayMs ?? DEFAULT_SLOW_MS, proceed);
        return;
      case 'late': {
        // Applied now, answered after the client has most likely given up.
        const response = run();
        this.later(fault?.delayMs ?? DEFAULT_LATE_MS, () =>
          send(response, headers),
        );
        return;
      }
      case 'truncated':
      case 'empty':
        return send(run(), headers, kind);
      case '477':
        return send(migrationInProgress(), {
          ...headers,
          'Retry-After': String(
            fault?.retryAfterSeconds ?? DEFAULT_MIGRATION_RETRY_S,
          ),
        });
      case '500':
      case '502':
      case '503':
      case '504':
      case '423':
        return send(faultResponse(kind), headers);
      default:
        return proceed();
    }
  }

  private respond(
    res: ServerResponse,
    response: RouteResponse,
    headers: Record<string, string>,
    correlationId: string,
    cut?: 'truncated' | 'empty',
  ): void {
    let payload = '';
    let contentType = JSON_TYPE;
    if (typeof response.body === 'string') {
      payload = response.body;
      contentType = 'text/html';
    } else if (response.body !== undefined) {
      const body = response.body as Record<string, unknown>;
      payload = JSON.stringify(
        body.status === 'error' ? { ...body, correlationId } : body,
      );
    }
    if (cut === 'empty') payload = '';
    // A complete HTTP answer whose JSON stops half-way, as when a proxy cuts the body.
    if (cut === 'truncated')
      payload = payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
    const write = (): void => {
      if (res.destroyed || res.headersSent) return;
      res.writeHead(response.status, {
        ...headers,
        ...(payload || cut
          ? {
              'Content-Type': contentType,
              'Content-Length': Buffer.byteLength(payload),
            }
          : {}),
      });
      res.end(payload);
    };
    if (this.options.latencyMs > 0) this.later(this.options.latencyMs, write);
    else write();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private record_(entry: SandboxRequestLogEntry): void {
    const key = `${entry.method} ${entry.path}`;
    this.endpointCounts.set(key, (this.endpointCounts.get(key) ?? 0) + 1);
    this.log.push(entry);
    if (this.log.length > this.options.maxLogEntries) {
      // Drop in chunks so a long benchmark does not shift the array on every request.
      this.log.splice(0, Math.ceil(this.options.maxLogEntries / 10));
    }
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

export type {
  HubspotSandboxOptions,
  SandboxCallFilter,
  SandboxApiVersion,
  SandboxBatchWriteErrors,
  SandboxFaultKind,
  SandboxGhostKind,
  SandboxGhostWrite,
  SandboxInjectedFault,
  SandboxRandomFaults,
  SandboxRatePolicy,
  SandboxRequestInfo,
  SandboxRequestLogEntry,
} from './sandbox-options.interface';
export type {
  SandboxPropertyDefinition,
  SandboxPropertyInput,
  SandboxPropertyOption,
  SandboxPropertyType,
} from './sandbox-properties';
export type { SandboxRecord } from './sandbox-store';
export type {
  SandboxAssociation,
  SandboxAssociationCategory,
  SandboxAssociationDefinition,
} from './sandbox-associations';
export type {
  SandboxObjectSchema,
  SandboxObjectSchemaInput,
} from './sandbox-schemas';
