import { handleExtensions } from './sandbox-association-routes';
import { SandboxAssociations } from './sandbox-associations';
import {
  notFound,
  routeNotFound,
  SandboxHttpError,
  validationError,
  type SandboxErrorBody,
} from './sandbox-errors';
import {
  PROPERTY_TYPES,
  type SandboxPropertyDefinition,
  type SandboxPropertyInput,
} from './sandbox-properties';
import { MAX_SEARCH_BODY_CHARS, search } from './sandbox-search';
import type {
  BatchClaims,
  ObjectTypeStore,
  PropertyChanges,
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
}

export interface RouteResponse {
  status: number;
  body?: unknown;
}

interface BatchError {
  status: 'error';
  category: string;
  message: string;
  context?: Record<string, string[]>;
  errors?: unknown[];
}

const MAX_BATCH_INPUTS = 100;
const BATCH_ACTIONS = new Set([
  'create',
  'read',
  'update',
  'upsert',
  'archive',
]);

/** The HubSpot endpoints the sandbox speaks; pure request → response over the store. */
export class SandboxRoutes {
  constructor(
    private readonly store: SandboxStore,
    private readonly lagMs: () => number,
  ) {}

  /** True for the endpoints HubSpot limits per second instead of per 10 s. */
  static isSearch(method: string, path: string): boolean {
    return (
      method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/search$/.test(path)
    );
  }

  handle(req: RouteRequest): RouteResponse {
    let parts: string[];
    try {
      parts = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      throw routeNotFound(req.method, req.path);
    }
    const extension = handleExtensions(this.store, req, parts);
    if (extension) return extension;
    if (parts[0] !== 'crm' || parts[1] !== 'v3' || parts.length < 4) {
      throw routeNotFound(req.method, req.path);
    }
    if (parts[2] === 'objects') return this.objects(req, parts.slice(3));
    if (parts[2] === 'properties') return this.properties(req, parts.slice(3));
    throw routeNotFound(req.method, req.path);
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
          return this.batchCreate(store, req);
        case 'read':
          return this.batchRead(store, req);
        case 'update':
          return this.batchUpdate(store, req);
        case 'upsert':
          return this.batchUpsert(store, req);
        default:
          return this.batchArchive(store, req);
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
    // Writes never follow merges: a merged id answers 404.
    const record = store.lookup(
      id,
      req.query.get('idProperty') ?? undefined,
      false,
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
    const record = store.records.get(id);
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
    const mergedId = String(body.objectIdToMerge ?? '');
    return {
      status: 200,
      body: this.mergeRecords(store, primaryId, mergedId, req.now),
    };
  }

  mergeRecords(
    store: ObjectTypeStore,
    primaryId: string,
    mergedId: string,
    now: number,
  ): SandboxRecord {
    if (!primaryId || !mergedId) {
      throw validationError('primaryObjectId and objectIdToMerge are required');
    }
    if (primaryId === mergedId)
      throw validationError('Cannot merge an object with itself');
    const primary = store.live(primaryId, false);
    const merged = store.live(mergedId, false);
    if (!primary || !merged) throw notFound();
    store.merge(primary, merged, now, this.lagMs());
    // The survivor inherits the merged record's associations.
    this.store.associations.merge(
      store.objectType,
      [primaryId, mergedId],
      primaryId,
    );
    return store.toJson(primary);
  }

  private batchCreate(
    store: ObjectTypeStore,
    req: RouteRequest,
  ): RouteResponse {
    const batch = batchBody(req.body);
    const traceIds = batch.inputs.map((i) => i.objectWriteTraceId);
    // Per-input errors only when every input carries a distinct trace id, as HubSpot does.
    const perInput =
      batch.inputs.length > 0 &&
      traceIds.every((t) => typeof t === 'string' && t !== '') &&
      new Set(traceIds).size === traceIds.length;
    const claims: BatchClaims = new Map();
    const planned: Array<{ changes: PropertyChanges; traceId?: string }> = [];
    const errors: BatchError[] = [];
    batch.inputs.forEach((input, i) => {
      try {
        planned.push({
          changes: store.prepare(
            input.properties,
            undefined,
            claims,
            `new:${i}`,
          ),
          traceId: traceIds[i] as string | undefined,
        });
      } catch (error) {
        if (!perInput || !(error instanceof SandboxHttpError)) throw error;
        errors.push(
          toBatchError(error.body, {
            objectWriteTraceId: [traceIds[i] as string],
          }),
        );
      }
    });
    const results = planned.map(({ changes, traceId }) => {
      const record = store.create(
        this.store.allocateId(),
        changes,
        req.now,
        this.lagMs(),
      );
      return {
        ...store.toJson(record),
        ...(traceId ? { objectWriteTraceId: traceId } : {}),
      };
    });
    return batchResult(201, results, errors, req.now);
  }

  private batchRead(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const batch = batchBody(req.body);
    const body = req.body as { properties?: unknown; idProperty?: unknown };
    const requested = Array.isArray(body.properties)
      ? body.properties.filter((p): p is string => typeof p === 'string')
      : undefined;
    const idProperty =
      typeof body.idProperty === 'string' ? body.idProperty : undefined;
    const names = store.readProperties(requested);
    const results: SandboxRecord[] = [];
    const missing: string[] = [];
    for (const input of batch.inputs) {
      const id = String(input.id ?? '');
      const record = store.lookup(id, idProperty, true);
      if (record) results.push(store.toJson(record, names));
      else missing.push(id);
    }
    return batchResult(200, results, notFoundErrors(store, missing), req.now);
  }

  private batchUpdate(
    store: ObjectTypeStore,
    req: RouteRequest,
  ): RouteResponse {
    const batch = batchBody(req.body);
    const missing: string[] = [];
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const claims: BatchClaims = new Map();
    const planned: Array<{
      record: StoredRecord;
      changes: PropertyChanges;
      traceId?: unknown;
    }> = [];
    for (const input of batch.inputs) {
      const id = String(input.id ?? '');
      const idProperty =
        typeof input.idProperty === 'string' ? input.idProperty : undefined;
      const record = store.lookup(id, idProperty, false);
      if (!record) {
        missing.push(id);
        continue;
      }
      if (seen.has(record.id)) duplicates.push(id);
      seen.add(record.id);
      planned.push({
        record,
        changes: store.prepare(input.properties, record.id, claims, record.id),
        traceId: input.objectWriteTraceId,
      });
    }
    if (duplicates.length > 0) throw duplicateIds(duplicates);
    const results = planned.map(({ record, changes, traceId }) => {
      store.update(record, changes, req.now, this.lagMs());
      return {
        ...store.toJson(record),
        ...(typeof traceId === 'string' ? { objectWriteTraceId: traceId } : {}),
      };
    });
    return batchResult(200, results, notFoundErrors(store, missing), req.now);
  }

  private batchUpsert(
    store: ObjectTypeStore,
    req: RouteRequest,
  ): RouteResponse {
    const batch = batchBody(req.body);
    const keys = new Map<string, string>();
    const duplicates: string[] = [];
    const claims: BatchClaims = new Map();
    const resolved = batch.inputs.map((input, i) => {
      const idProperty = input.idProperty;
      const id = input.id;
      if (typeof idProperty !== 'string' || idProperty === '') {
        throw validationError(
          `inputs[${i}].idProperty is required for batch upsert`,
        );
      }
      if (typeof id !== 'string' || id === '') {
        throw validationError(`inputs[${i}].id is required for batch upsert`);
      }
      if (!store.isUniqueProperty(idProperty)) {
        throw validationError(
          `Batch upsert requires idProperty to be a property with unique values; ${idProperty} is not one for ${store.objectType}.`,
        );
      }
      const record = store.findByUnique(idProperty, id);
      const index = store.indexOf(idProperty) as string;
      const key = record
        ? `record:${record.id}`
        : `new:${index}:${store.indexKey(index, id)}`;
      if (keys.has(key)) duplicates.push(id);
      keys.set(key, id);
      return { input, idProperty, id, record };
    });
    // Two inputs for one record reject the whole batch before anything is validated or written.
    if (duplicates.length > 0) throw duplicateIds(duplicates);
    const planned = resolved.map(({ input, idProperty, id, record }, i) => {
      const given = input.properties;
      const properties =
        record || (given && typeof given === 'object' && idProperty in given)
          ? given
          : { ...(given as object | undefined), [idProperty]: id };
      return {
        record,
        changes: store.prepare(
          properties,
          record?.id,
          claims,
          record ? record.id : `new:${i}`,
        ),
        traceId: input.objectWriteTraceId,
      };
    });
    const results = planned.map(({ record, changes, traceId }) => {
      const isNew = !record;
      const target =
        record ??
        store.create(this.store.allocateId(), changes, req.now, this.lagMs());
      if (record) store.update(record, changes, req.now, this.lagMs());
      return {
        ...store.toJson(target),
        new: isNew,
        ...(typeof traceId === 'string' ? { objectWriteTraceId: traceId } : {}),
      };
    });
    return batchResult(200, results, [], req.now);
  }

  private batchArchive(
    store: ObjectTypeStore,
    req: RouteRequest,
  ): RouteResponse {
    const batch = batchBody(req.body);
    for (const input of batch.inputs) {
      const record = store.records.get(String(input.id ?? ''));
      if (record && !record.archived) store.archive(record, req.now);
    }
    return { status: 204 };
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
        return { status: 201, body: defineProperty(store, req.body, true) };
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
  return store.defineProperty(
    input as SandboxPropertyInput,
    new Date().toISOString(),
  );
}

interface BatchInput {
  id?: unknown;
  idProperty?: unknown;
  properties?: unknown;
  objectWriteTraceId?: unknown;
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw validationError('Request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

function batchBody(raw: unknown): { inputs: BatchInput[] } {
  const body = objectBody(raw);
  // HubSpot silently accepts a body without `inputs` and does nothing.
  if (body.inputs === undefined) return { inputs: [] };
  if (!Array.isArray(body.inputs))
    throw validationError('inputs must be an array');
  if (body.inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(
      `Too many inputs: ${body.inputs.length}. Batch endpoints accept at most ${MAX_BATCH_INPUTS} inputs.`,
    );
  }
  body.inputs.forEach((input, i) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw validationError(`inputs[${i}] must be an object`);
    }
  });
  return { inputs: body.inputs as BatchInput[] };
}

function batchResult(
  okStatus: number,
  results: unknown[],
  errors: BatchError[],
  startedAt: number,
): RouteResponse {
  const times = {
    startedAt: new Date(startedAt).toISOString(),
    completedAt: new Date().toISOString(),
  };
  if (errors.length === 0) {
    return {
      status: okStatus,
      body: { status: 'COMPLETE', results, ...times },
    };
  }
  return {
    status: 207,
    body: {
      status: 'COMPLETE',
      results,
      numErrors: errors.length,
      errors,
      ...times,
    },
  };
}

function toBatchError(
  body: SandboxErrorBody,
  context: Record<string, string[]>,
): BatchError {
  return {
    status: 'error',
    category: body.category ?? 'VALIDATION_ERROR',
    message: body.message,
    context: { ...body.context, ...context },
    ...(body.errors ? { errors: body.errors } : {}),
  };
}

const SINGULAR: Record<string, string> = {
  contacts: 'CONTACT',
  companies: 'COMPANY',
  deals: 'DEAL',
  tickets: 'TICKET',
};

function notFoundErrors(store: ObjectTypeStore, ids: string[]): BatchError[] {
  if (ids.length === 0) return [];
  const name = SINGULAR[store.objectType] ?? store.objectType.toUpperCase();
  return [
    {
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: `Could not get some ${name} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids },
    },
  ];
}

function duplicateIds(ids: string[]): SandboxHttpError {
  return validationError(
    `Duplicate IDs found in batch input: [${ids.join(', ')}]. IDs must be unique`,
  );
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
