import {
  SandboxHttpError,
  validationError,
  type SandboxErrorBody,
} from './sandbox-errors';
import type {
  BatchClaims,
  ObjectTypeStore,
  PropertyChanges,
  SandboxRecord,
  SandboxStore,
  StoredRecord,
} from './sandbox-store';
import type {
  RouteConfig,
  RouteRequest,
  RouteResponse,
} from './sandbox-routes';

export interface BatchError {
  status: 'error';
  category: string;
  message: string;
  context?: Record<string, string[]>;
  errors?: unknown[];
}

interface BatchInput {
  id?: unknown;
  idProperty?: unknown;
  properties?: unknown;
  objectWriteTraceId?: unknown;
}

const MAX_BATCH_INPUTS = 100;

const SINGULAR: Record<string, string> = {
  contacts: 'CONTACT',
  companies: 'COMPANY',
  deals: 'DEAL',
  tickets: 'TICKET',
};

/**
 * The objects batch endpoints. Harsh by default (see RouteConfig): successful results in
 * seeded random order without `objectWriteTraceId`, and per-input errors for update/upsert.
 */
export class SandboxBatchRoutes {
  constructor(
    private readonly store: SandboxStore,
    private readonly config: RouteConfig,
  ) {}

  create(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
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
        dropClaims(claims, `new:${i}`);
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
        this.config.lagMs(),
      );
      return this.withTrace(store.toJson(record), traceId);
    });
    return this.result(201, results, errors, req, true);
  }

  read(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
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
      // Batch endpoints do not follow merges: an old id is OBJECT_NOT_FOUND.
      const record = store.lookup(id, idProperty, false);
      if (record) results.push(store.toJson(record, names));
      else missing.push(id);
    }
    return this.result(
      200,
      results,
      notFoundErrors(store, missing),
      req,
      false,
    );
  }

  update(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const batch = batchBody(req.body);
    const missing: string[] = [];
    const seen = new Set<string>();
    const duplicates: string[] = [];
    const claims: BatchClaims = new Map();
    const errors: BatchError[] = [];
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
      try {
        planned.push({
          record,
          changes: store.prepare(
            input.properties,
            record.id,
            claims,
            record.id,
          ),
          traceId: input.objectWriteTraceId,
        });
      } catch (error) {
        if (!this.perInput(error)) throw error;
        dropClaims(claims, record.id);
        errors.push(inputError(error, id, input.objectWriteTraceId));
      }
    }
    if (duplicates.length > 0) throw duplicateIds(duplicates);
    const results = planned.map(({ record, changes, traceId }) => {
      store.update(record, changes, req.now, this.config.lagMs());
      return this.withTrace(store.toJson(record), traceId);
    });
    return this.result(
      200,
      results,
      [...notFoundErrors(store, missing), ...errors],
      req,
      true,
    );
  }

  upsert(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const batch = batchBody(req.body);
    const keys = new Set<string>();
    const duplicates: string[] = [];
    const errors: BatchError[] = [];
    const claims: BatchClaims = new Map();
    const rejectDuplicates =
      this.config.upsertDuplicates === 'reject-batch' ||
      this.config.batchWriteErrors === 'whole-batch';
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
      const duplicate = keys.has(key);
      if (duplicate) duplicates.push(id);
      keys.add(key);
      return { input, idProperty, id, record, duplicate };
    });
    // Two inputs for one record: the whole batch, or (default) each later input, is refused.
    if (rejectDuplicates && duplicates.length > 0)
      throw duplicateIds(duplicates);
    const planned: Array<{
      record?: StoredRecord;
      changes: PropertyChanges;
      traceId?: unknown;
    }> = [];
    resolved.forEach(({ input, idProperty, id, record, duplicate }, i) => {
      if (duplicate) {
        errors.push({
          ...toBatchError(duplicateIds([id]).body, { ids: [id] }),
          ...traceContext(input.objectWriteTraceId, id),
        });
        return;
      }
      const given = input.properties;
      const properties =
        record || (given && typeof given === 'object' && idProperty in given)
          ? given
          : { ...(given as object | undefined), [idProperty]: id };
      const claimant = record ? record.id : `new:${i}`;
      try {
        planned.push({
          record,
          changes: store.prepare(properties, record?.id, claims, claimant),
          traceId: input.objectWriteTraceId,
        });
      } catch (error) {
        if (!this.perInput(error)) throw error;
        dropClaims(claims, claimant);
        errors.push(inputError(error, id, input.objectWriteTraceId));
      }
    });
    const results = planned.map(({ record, changes, traceId }) => {
      const lag = this.config.lagMs();
      const target =
        record ?? store.create(this.store.allocateId(), changes, req.now, lag);
      if (record) store.update(record, changes, req.now, lag);
      return this.withTrace({ ...store.toJson(target), new: !record }, traceId);
    });
    return this.result(200, results, errors, req, true);
  }

  archive(store: ObjectTypeStore, req: RouteRequest): RouteResponse {
    const batch = batchBody(req.body);
    for (const input of batch.inputs) {
      const record = store.records.get(String(input.id ?? ''));
      if (record && !record.archived) store.archive(record, req.now);
    }
    return { status: 204 };
  }

  private perInput(error: unknown): error is SandboxHttpError {
    return (
      error instanceof SandboxHttpError &&
      this.config.batchWriteErrors !== 'whole-batch'
    );
  }

  private withTrace<T extends object>(result: T, traceId: unknown): T {
    return this.config.traceIdsInResults &&
      typeof traceId === 'string' &&
      traceId !== ''
      ? { ...result, objectWriteTraceId: traceId }
      : result;
  }

  /** 200/201, or 207 with per-input errors; a write under 2026-09+ keeps 200/201 with `errors`. */
  private result(
    okStatus: number,
    results: unknown[],
    errors: BatchError[],
    req: RouteRequest,
    isWrite: boolean,
  ): RouteResponse {
    const times = {
      startedAt: new Date(req.now).toISOString(),
      completedAt: new Date(req.now).toISOString(),
    };
    const ordered = this.config.order(results);
    if (errors.length === 0) {
      return {
        status: okStatus,
        body: { status: 'COMPLETE', results: ordered, ...times },
      };
    }
    return {
      status: isWrite && req.errorsInBody ? okStatus : 207,
      body: {
        status: 'COMPLETE',
        results: ordered,
        numErrors: errors.length,
        errors,
        ...times,
      },
    };
  }
}

function batchBody(raw: unknown): { inputs: BatchInput[] } {
  if (raw === undefined) return { inputs: [] };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw validationError('Request body must be a JSON object');
  }
  const body = raw as Record<string, unknown>;
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

/** Claims of an input that failed must not block later inputs from the same values. */
function dropClaims(claims: BatchClaims, claimant: string): void {
  for (const [key, owner] of claims) {
    if (owner === claimant) claims.delete(key);
  }
}

function traceContext(
  traceId: unknown,
  id: string,
): { context: Record<string, string[]> } {
  return {
    context: {
      ids: [id],
      ...(typeof traceId === 'string' && traceId !== ''
        ? { objectWriteTraceId: [traceId] }
        : {}),
    },
  };
}

function inputError(
  error: SandboxHttpError,
  id: string,
  traceId: unknown,
): BatchError {
  const base = toBatchError(error.body, {});
  return {
    ...base,
    context: { ...base.context, ...traceContext(traceId, id).context },
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
