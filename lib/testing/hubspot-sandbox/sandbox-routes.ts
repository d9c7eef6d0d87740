import { errorsInBody, parseApiPath } from './sandbox-api-path.util';
import { handleExtensions } from './sandbox-association-routes';
import { SandboxAssociations } from './sandbox-associations';
import { SandboxBatchRoutes } from './sandbox-batch-routes';
import {
  notFound,
  routeNotFound,
  SandboxHttpError,
  validationError,
} from './sandbox-errors';
import { mergeRecords } from './sandbox-merge';
import type { SandboxBatchWriteErrors } from './sandbox-options.interface';
import {
  PROPERTY_TYPES,
  type SandboxPropertyDefinition,
  type SandboxPropertyInput,
} from './sandbox-properties';
import { MAX_SEARCH_BODY_CHARS, search } from './sandbox-search';
import type {
  ObjectTypeStore,
  SandboxRecord,
  SandboxStore,
  StoredRecord,
} from './sandbox-store';

export interface RouteRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  rawBodyLength: number;
  now: number;
  /** Set by the dispatcher: a 2026-09+ path, whose batch writes never answer 207. */
  errorsInBody?: boolean;
}

/** How harsh the routes are; resolved from HubspotSandboxOptions in one place. */
export interface RouteConfig {
  /** Search lag of the next write (jittered). */
  lagMs(): number;
  /** Successful batch results in the order they are answered. */
  order<T>(results: T[]): T[];
  traceIdsInResults: boolean;
  batchWriteErrors: SandboxBatchWriteErrors;
  upsertDuplicates: 'per-input' | 'reject-batch';
  /** Date versions served beside v3/v4. */
  apiVersions: ReadonlySet<string>;
}

export interface RouteResponse {
  status: number;
  body?: unknown;
}

/** HubSpot allows at most 10 custom unique-value properties per object type. */
const MAX_UNIQUE_PROPERTIES = 10;
const BATCH_ACTIONS = new Set([
  'create',
  'read',
  'update',
  'upsert',
  'archive',
]);

/** The HubSpot endpoints the sandbox speaks; pure request → response over the store. */
export class SandboxRoutes {
  private readonly batch: SandboxBatchRoutes;

  constructor(
    private readonly store: SandboxStore,
    private readonly config: RouteConfig,
  ) {
    this.batch = new SandboxBatchRoutes(store, config);
  }

  private lagMs(): number {
    return this.config.lagMs();
  }

  /** True for the endpoints HubSpot limits per second instead of per 10 s. */
  static isSearch(method: string, path: string): boolean {
    if (method !== 'POST') return false;
    const parsed = parseApiPath(path);
    return (
      parsed?.api === 'objects' &&
      parsed.rest.length === 2 &&
      parsed.rest[1] === 'search'
    );
  }

  /** `/crm/v3/…`, `/crm/v4/associations/…` and the date-versioned paths reach the same handlers. */
  handle(req: RouteRequest): RouteResponse {
    // Associations v4, property groups and custom object schemas (sandbox-association-routes).
    let parts: string[];
    try {
      parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw routeNotFound(req.method, req.path);
    }
    const extension = handleExtensions(this.store, req, parts);
    if (extension) return extension;
    const parsed = parseApiPath(req.path);
    if (!parsed || parsed.api === 'account-info')
      throw routeNotFound(req.method, req.path);
    const legacy = parsed.version === 'v3' || parsed.version === 'v4';
    if (!legacy && !this.config.apiVersions.has(parsed.version)) {
      throw routeNotFound(req.method, req.path);
    }
    const routed = { ...req, errorsInBody: errorsInBody(parsed.version) };
    if (parsed.rest.length < 1) throw routeNotFound(req.method, req.path);
    if (parsed.api === 'objects') return this.objects(routed, parsed.rest);
    return this.properties(routed, parsed.rest);
  }

  private objects(req: RouteRequest, parts: string[]): RouteResponse {
    const store = this.store.type(parts[0]);
    const { method } = req;
    if (parts.length === 1) {
      if (method === 'POST') return this.create(store, req);
      if (method === 'GET') return this.list(store, req);
      throw methodNotAllowed(req);
    }
    if (
      parts.length === 3 &&
      parts[1] === 'batch' &&
      BATCH_ACTIONS.has(parts[2])
    ) {
      if (method !== 'POST') throw methodNotAllowed(req);
      switch (parts[2]) {
        case 'create':
          return this.batch.create(store, req);
        case 'read':
          return this.batch.read(store, req);
        case 'update':
          return this.batch.update(store, req);
        case 'upsert':
          return this.batch.upsert(store, req);
        default:
          return this.batch.archive(store, req);
      }
    }
    if (parts.length === 2 && method === 'POST') {
      if (parts[1] === 'search') {
        if (req.rawBodyLength > MAX_SEARCH_BODY_CHARS) {
          throw validationError(
            `Search request body is ${req.rawBodyLength} characters; the maximum is ${MAX_SEARCH_BODY_CHARS}.`,
          );
        }
        return { status: 200, body: search(store, req.body, req.now) };
      }
      if (parts[1] === 'merge') return this.merge(store, req);
      if (parts[1] === 'gdpr-delete' && store.objectType === 'contacts') {
        return this.gdprDelete(store, req);
      }
    }
    if (parts.length === 2) {
      if (method === 'GET') return this.read(store, req, parts[1]);
      if (method === 'PATCH') return this.update(store, req, parts[1]);
      if (method === 'DELETE') return this.archive(store, parts[1], req.now);
      throw methodNotAllowed(req);
    }
    throw routeNotFound(req.method, req.path);
  }

  private create(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const body = objectBody(req.body);
    const changes = store.prepare(body.properties, undefined);
    const associations = this.plannedAssociations(store, body.associations);
    const record = store.create(
      this.store.allocateId(),
      changes,
      req.now,
      this.lagMs(),
    );
    for (const a of associations) {
      this.store.associations.add(
        store.objectType,
        record.id,
        a.toType,
        a.toId,
        a.typeId,
      );
    }
    return { status: 201, body: store.toJson(record) };
  }

  /** `associations` of a create body; the target type follows from HubSpot-defined type ids. */
  private plannedAssociations(
    store: ObjectTypeStore,
    raw: unknown,
  ): Array<{ toType: string; toId: string; typeId: number }> {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw))
      throw validationError('associations must be an array');
    return raw.flatMap((a: { to?: { id?: unknown }; types?: unknown }, i) => {
      const toId = String(a?.to?.id ?? '');
      const types = Array.isArray(a?.types) ? a.types : [];
      if (!toId || types.length === 0) {
        throw validationError(`associations[${i}] needs to.id and types`);
      }
      return types.map((t: { associationTypeId?: unknown }) => {
        const typeId = Number(t?.associationTypeId);
        const known = SandboxAssociations.typesOf(typeId);
        if (!known || known[0] !== store.objectType) {
          throw validationError(
            `associations[${i}]: association type ${String(t?.associationTypeId)} is not valid from ${store.objectType}`,
          );
        }
        if (!this.store.type(known[1]).live(toId, false)) {
          throw validationError(
            `associations[${i}]: ${known[1]} ${toId} does not exist`,
          );
        }
        return { toType: known[1], toId, typeId };
      });
    });
  }

  private list(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const limit = Number(req.query.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw validationError('limit must be between 1 and 100');
    }
    const after = Number(req.query.get('after') ?? 0);
    const names = store.readProperties(propertyList(req.query));
    const archived = req.query.get('archived') === 'true';
    const page: StoredRecord[] = [];
    let more = false;
    for (const record of store.records.values()) {
      if (record.archived !== archived || Number(record.id) <= after) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(record);
    }
    return {
      status: 200,
      body: {
        results: page.map((r) => store.toJson(r, names)),
        ...(more
          ? { paging: { next: { after: page[page.length - 1].id } } }
          : {}),
      },
    };
  }

  private read(
    store: ObjectTypeStore,
    req: RouteRequest,
    id: string,
  ): RouteResponse {
    const idProperty = req.query.get('idProperty') ?? undefined;
    let record = store.lookup(id, idProperty, true);
    if (!record && req.query.get('archived') === 'true') {
      const archived = store.records.get(id);
      if (archived?.archived) record = archived;
    }
    if (!record) throw notFound();
    return {
      status: 200,
      body: store.toJson(record, store.readProperties(propertyList(req.query))),
    };
  }

  private update(
    store: ObjectTypeStore,
    req: RouteRequest,
    id: string,
  ): RouteResponse {
    const body = objectBody(req.body);
    // An old id of a merged record acts on the merge's record, which answers with its new id.
    const record = store.lookup(
      id,
      req.query.get('idProperty') ?? undefined,
      true,
    );
    if (!record) throw notFound();
    const changes = store.prepare(body.properties, record.id);
    store.update(record, changes, req.now, this.lagMs());
    return { status: 200, body: store.toJson(record) };
  }

  private archive(
    store: ObjectTypeStore,
    id: string,
    now: number,
  ): RouteResponse {
    // An old id of a merged record archives the merge's record, as HubSpot's basic endpoint does.
    const record = store.live(id, true) ?? store.records.get(id);
    if (!record) throw notFound();
    if (!record.archived) store.archive(record, now);
    return { status: 204 };
  }

  private gdprDelete(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const body = objectBody(req.body);
    if (typeof body.objectId !== 'string' || body.objectId === '') {
      throw validationError('objectId is required');
    }
    const idProperty =
      typeof body.idProperty === 'string' ? body.idProperty : undefined;
    const record = store.lookup(body.objectId, idProperty, false);
    if (!record) throw notFound();
    store.purge(record);
    this.store.associations.forget(store.objectType, record.id);
    return { status: 204 };
  }

  private merge(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const body = objectBody(req.body);
    const primaryId = String(body.primaryObjectId ?? '');
    const otherId = String(body.objectIdToMerge ?? '');
    return {
      status: 200,
      body: this.mergeRecords(store, primaryId, otherId, req.now),
    };
  }

  mergeRecords(
    store: ObjectTypeStore,
    primaryId: string,
    otherId: string,
    now: number,
  ): SandboxRecord {
    return mergeRecords(
      this.store,
      store,
      primaryId,
      otherId,
      now,
      this.lagMs(),
    );
  }

  private properties(req: RouteRequest, parts: string[]): RouteResponse {
    const store = this.store.type(parts[0]);
    if (parts.length === 1) {
      if (req.method === 'GET') {
        return {
          status: 200,
          body: { results: [...store.properties.values()] },
        };
      }
      if (req.method === 'POST') {
        return {
          status: 201,
          body: defineProperty(store, req.body, true, req.now),
        };
      }
      throw methodNotAllowed(req);
    }
    if (parts.length === 2 && req.method === 'GET') {
      const def = store.properties.get(parts[1]);
      if (!def)
        throw notFound(
          `Unable to find property ${parts[1]} for object type ${store.objectType}`,
        );
      return { status: 200, body: def };
    }
    throw routeNotFound(req.method, req.path);
  }
}

/** Validates and stores a property definition; over HTTP the fields HubSpot requires are required. */
export function defineProperty(
  store: ObjectTypeStore,
  raw: unknown,
  strictFields: boolean,
  now: number,
): SandboxPropertyDefinition {
  const input = objectBody(raw) as Partial<SandboxPropertyInput>;
  const required = strictFields
    ? (['name', 'label', 'type', 'fieldType', 'groupName'] as const)
    : (['name', 'type'] as const);
  const missing = required.filter(
    (k) => typeof input[k] !== 'string' || input[k] === '',
  );
  if (missing.length > 0) {
    throw validationError(`Missing required fields: ${missing.join(', ')}`);
  }
  const name = input.name as string;
  if (!/^[a-z][a-z0-9_]*$/.test(name)) {
    throw validationError(
      `Property name ${name} is invalid: use lowercase letters, digits and underscores, starting with a letter.`,
    );
  }
  if (!PROPERTY_TYPES.includes(input.type as SandboxPropertyInput['type'])) {
    throw validationError(
      `Invalid property type ${String(input.type)}; expected one of ${PROPERTY_TYPES.join(', ')}`,
    );
  }
  if (
    input.type === 'enumeration' &&
    (!Array.isArray(input.options) || input.options.length === 0)
  ) {
    throw validationError('Enumeration properties need options');
  }
  if (store.properties.has(name)) {
    throw new SandboxHttpError(409, {
      status: 'error',
      message: `Property named '${name}' already exists.`,
      category: 'OBJECT_ALREADY_EXISTS',
    });
  }
  if (input.hasUniqueValue === true) {
    const unique = [...store.properties.values()].filter(
      (p) => p.hasUniqueValue && !p.hubspotDefined,
    ).length;
    if (unique >= MAX_UNIQUE_PROPERTIES) {
      throw validationError(
        `Object type ${store.objectType} already has ${MAX_UNIQUE_PROPERTIES} properties with unique values; that is the maximum.`,
      );
    }
  }
  return store.defineProperty(
    input as SandboxPropertyInput,
    new Date(now).toISOString(),
  );
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationError('Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function propertyList(query: URLSearchParams): string[] | undefined {
  const all = query.getAll('properties').flatMap((p) => p.split(','));
  const names = all.map((p) => p.trim()).filter(Boolean);
  return names.length > 0 ? names : undefined;
}

function methodNotAllowed(req: RouteRequest): SandboxHttpError {
  return new SandboxHttpError(405, {
    status: 'error',
    message: `HTTP ${req.method} is not supported by ${req.path}`,
    category: 'VALIDATION_ERROR',
  });
}
