import type { SandboxAssociationDefinition } from './sandbox-associations';
import { routeNotFound, validationError } from './sandbox-errors';
import type { ObjectTypeStore, SandboxStore } from './sandbox-store';

/** HubSpot's limits: batch create 2,000 inputs, batch read 1,000. */
const MAX_WRITE_INPUTS = 2_000;
const MAX_READ_INPUTS = 1_000;

/** Date versions served beside v4 (`/crm/associations/2026-03/…`). */
const VERSION = /^(v4|\d{4}-\d{2})$/;

interface ExtensionRequest {
  method: string;
  path: string;
  body: unknown;
  now: number;
}

export interface ExtensionResponse {
  status: number;
  body?: unknown;
}

interface BatchError {
  status: 'error';
  category: string;
  message: string;
  context: Record<string, string[]>;
}

/**
 * Routes the sandbox serves beside the objects API: associations v4 and their date versions
 * (`/crm/v4/associations/{from}/{to}/…`, `/crm/associations/{v4|2026-03}/{from}/{to}/…`) and
 * custom object schemas. Undefined when the path is none of them.
 */
export function handleExtensions(
  store: SandboxStore,
  req: ExtensionRequest,
  parts: string[],
): ExtensionResponse | undefined {
  if (parts[0] === 'crm' && parts[1] === 'v4' && parts[2] === 'associations') {
    return associations(store, req, parts.slice(3));
  }
  if (
    parts[0] === 'crm' &&
    parts[1] === 'associations' &&
    VERSION.test(parts[2] ?? '')
  ) {
    return associations(store, req, parts.slice(3));
  }
  if (
    parts[0] === 'crm' &&
    parts[1] === 'v3' &&
    parts[2] === 'properties' &&
    parts[4] === 'groups'
  ) {
    return propertyGroups(store, req, parts[3], parts.slice(5));
  }
  const schemaRoot =
    (parts[0] === 'crm-object-schemas' && VERSION_OR_V3.test(parts[1] ?? '')) ||
    (parts[0] === 'crm' && parts[1] === 'v3');
  if (schemaRoot && parts[2] === 'schemas') {
    return schemas(store, req, parts.slice(3));
  }
  return undefined;
}

const VERSION_OR_V3 = /^(v3|\d{4}-\d{2})$/;

function schemas(
  store: SandboxStore,
  req: ExtensionRequest,
  parts: string[],
): ExtensionResponse {
  if (parts.length === 0 && req.method === 'GET') {
    return { status: 200, body: { results: store.schemas.list() } };
  }
  if (parts.length === 0 && req.method === 'POST') {
    return { status: 201, body: store.schemas.define(req.body) };
  }
  if (parts.length === 1 && req.method === 'GET') {
    return { status: 200, body: store.schemas.get(parts[0]) };
  }
  throw routeNotFound(req.method, req.path);
}

/** Property groups (`/crm/v3/properties/{objectType}/groups`): list, read, create. */
function propertyGroups(
  store: SandboxStore,
  req: ExtensionRequest,
  objectType: string,
  rest: string[],
): ExtensionResponse {
  const type = store.type(objectType).objectType;
  if (rest.length === 0 && req.method === 'GET') {
    return { status: 200, body: { results: store.schemas.groups(type) } };
  }
  if (rest.length === 0 && req.method === 'POST') {
    return { status: 201, body: store.schemas.createGroup(type, req.body) };
  }
  if (rest.length === 1 && req.method === 'GET') {
    return { status: 200, body: store.schemas.group(type, rest[0]) };
  }
  throw routeNotFound(req.method, req.path);
}

function associations(
  store: SandboxStore,
  req: ExtensionRequest,
  parts: string[],
): ExtensionResponse {
  const [fromRaw, toRaw, kind, ...rest] = parts;
  if (!fromRaw || !toRaw) throw routeNotFound(req.method, req.path);
  const from = store.type(fromRaw);
  const to = store.type(toRaw);
  if (kind === 'labels') return labels(store, req, from, to, rest);
  if (kind !== 'batch' || req.method !== 'POST') {
    throw routeNotFound(req.method, req.path);
  }
  const action = rest.join('/');
  const route = new AssociationBatch(store, from, to, req);
  switch (action) {
    case 'create':
      return route.create();
    case 'associate/default':
      return route.associateDefault();
    case 'read':
      return route.read();
    case 'archive':
      return route.archive();
    case 'labels/archive':
      return route.archiveLabels();
    default:
      throw routeNotFound(req.method, req.path);
  }
}

/** The association labels API: list, create (user-defined, optionally paired), rename, delete. */
function labels(
  store: SandboxStore,
  req: ExtensionRequest,
  from: ObjectTypeStore,
  to: ObjectTypeStore,
  rest: string[],
): ExtensionResponse {
  const a = from.objectType;
  const b = to.objectType;
  if (rest.length === 0 && req.method === 'GET') {
    return {
      status: 200,
      body: {
        results: store.associations.definitionsBetween(a, b).map(labelJson),
      },
    };
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (rest.length === 0 && req.method === 'POST') {
    if (typeof body.label !== 'string' || body.label === '') {
      throw validationError('label is required');
    }
    if (typeof body.name !== 'string' || body.name === '') {
      throw validationError('name is required');
    }
    const defs = store.associations.definePair(a, b, {
      label: body.label,
      name: body.name,
      inverseLabel:
        typeof body.inverseLabel === 'string' ? body.inverseLabel : undefined,
      category: 'USER_DEFINED',
    });
    return {
      status: 200,
      body: { results: [...new Set(defs)].map(labelJson) },
    };
  }
  if (rest.length === 0 && req.method === 'PUT') {
    const typeId = Number(body.associationTypeId);
    if (!Number.isInteger(typeId) || typeof body.label !== 'string') {
      throw validationError('associationTypeId and label are required');
    }
    store.associations.updateLabel(
      a,
      b,
      typeId,
      body.label,
      typeof body.inverseLabel === 'string' ? body.inverseLabel : undefined,
    );
    return { status: 204 };
  }
  if (rest.length === 1 && req.method === 'DELETE') {
    store.associations.deleteLabel(a, b, Number(rest[0]));
    return { status: 204 };
  }
  throw routeNotFound(req.method, req.path);
}

function labelJson(def: SandboxAssociationDefinition) {
  return { category: def.category, typeId: def.typeId, label: def.label };
}

/** One batch request between two object types. */
class AssociationBatch {
  private readonly errors: BatchError[] = [];

  constructor(
    private readonly store: SandboxStore,
    private readonly from: ObjectTypeStore,
    private readonly to: ObjectTypeStore,
    private readonly req: ExtensionRequest,
  ) {}

  /** Labelled associations; each input names its types. Per-input failures answer 207. */
  create(): ExtensionResponse {
    const inputs = this.inputs(MAX_WRITE_INPUTS);
    // Malformed inputs reject the whole batch before anything is written.
    const planned = inputs.map((input, i) => {
      const { fromId, toId } = this.pair(input, i);
      const types = Array.isArray(input.types) ? input.types : [];
      if (types.length === 0)
        throw validationError(`inputs[${i}].types is required`);
      const defs = types.map((t: Record<string, unknown>) => {
        const typeId = Number(t?.associationTypeId);
        if (!Number.isInteger(typeId)) {
          throw validationError(
            `inputs[${i}].types[].associationTypeId must be an integer`,
          );
        }
        const category =
          typeof t.associationCategory === 'string'
            ? t.associationCategory
            : undefined;
        return this.store.associations.checkType(
          this.from.objectType,
          this.to.objectType,
          typeId,
          category,
        );
      });
      return { fromId, toId, defs };
    });
    const results = planned.flatMap(({ fromId, toId, defs }) => {
      if (!this.bothExist(fromId, toId)) return [];
      for (const def of defs) {
        this.store.associations.add(
          this.from.objectType,
          fromId,
          this.to.objectType,
          toId,
          def.typeId,
        );
      }
      return [
        {
          fromObjectTypeId: this.typeId(this.from),
          fromObjectId: Number(fromId),
          toObjectTypeId: this.typeId(this.to),
          toObjectId: Number(toId),
          labels: defs
            .map((d) => d.label)
            .filter((l): l is string => l !== null),
        },
      ];
    });
    return this.answer(201, results);
  }

  /** Unlabeled associations (the pair's default type). */
  associateDefault(): ExtensionResponse {
    const typeId = this.store.associations.defaultType(
      this.from.objectType,
      this.to.objectType,
    );
    if (typeId === undefined) {
      throw validationError(
        `There is no association definition between ${this.from.objectType} and ${this.to.objectType}`,
      );
    }
    const category = this.store.associations.definition(typeId)!.category;
    const planned = this.inputs(MAX_WRITE_INPUTS).map((input, i) =>
      this.pair(input, i),
    );
    const results = planned.flatMap(({ fromId, toId }) => {
      if (!this.bothExist(fromId, toId)) return [];
      this.store.associations.add(
        this.from.objectType,
        fromId,
        this.to.objectType,
        toId,
        typeId,
      );
      return [
        {
          from: { id: fromId },
          to: { id: toId },
          associationSpec: {
            associationCategory: category,
            associationTypeId: typeId,
          },
        },
      ];
    });
    return this.answer(200, results);
  }

  /** Associations of up to 1,000 records; unknown records are per-input errors. */
  read(): ExtensionResponse {
    const missing: string[] = [];
    const results = this.inputs(MAX_READ_INPUTS).flatMap((input, i) => {
      const fromId = idOf(input, `inputs[${i}]`);
      if (!this.from.live(fromId, false)) {
        missing.push(fromId);
        return [];
      }
      const to = this.store.associations
        .list(this.from.objectType, fromId, this.to.objectType)
        .map((a) => ({
          toObjectId: Number(a.toObjectId),
          associationTypes: a.associationTypeIds.map((typeId) => {
            const def = this.store.associations.definition(typeId);
            return {
              category: def?.category ?? 'HUBSPOT_DEFINED',
              typeId,
              label: def?.label ?? null,
            };
          }),
        }));
      return [{ from: { id: fromId }, to: this.store.associations.order(to) }];
    });
    if (missing.length) {
      this.errors.push({
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        message: `No ${this.from.objectType} with ids ${missing.join(', ')}`,
        context: { ids: missing },
      });
    }
    return this.answer(200, results);
  }

  /** Removes every type between each pair; unknown pairs are ignored (204 either way). */
  archive(): ExtensionResponse {
    const planned = this.inputs(MAX_WRITE_INPUTS).map((input, i) => {
      const fromId = idOf(input.from, `inputs[${i}].from`);
      const targets: unknown[] = Array.isArray(input.to)
        ? input.to
        : [input.to];
      return {
        fromId,
        toIds: targets.map((t, j) => idOf(t, `inputs[${i}].to[${j}]`)),
      };
    });
    for (const { fromId, toIds } of planned) {
      for (const toId of toIds) {
        this.store.associations.remove(
          this.from.objectType,
          fromId,
          this.to.objectType,
          toId,
        );
      }
    }
    return { status: 204 };
  }

  /** Removes some labels of each pair; removing the unlabeled type removes the association. */
  archiveLabels(): ExtensionResponse {
    const planned = this.inputs(MAX_WRITE_INPUTS).map((input, i) => {
      const { fromId, toId } = this.pair(input, i);
      const types: Array<Record<string, unknown>> = Array.isArray(input.types)
        ? input.types
        : [];
      const typeIds = types.map(
        (t) =>
          this.store.associations.checkType(
            this.from.objectType,
            this.to.objectType,
            Number(t?.associationTypeId),
          ).typeId,
      );
      return { fromId, toId, typeIds };
    });
    for (const { fromId, toId, typeIds } of planned) {
      this.store.associations.removeTypes(
        this.from.objectType,
        fromId,
        this.to.objectType,
        toId,
        typeIds,
      );
    }
    return { status: 204 };
  }

  private inputs(max: number): Array<Record<string, any>> {
    const body = this.req.body;
    if (body === undefined) return [];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw validationError('Request body must be a JSON object');
    }
    const inputs = (body as { inputs?: unknown }).inputs;
    // As for objects, a body without `inputs` is silently accepted and does nothing.
    if (inputs === undefined) return [];
    if (!Array.isArray(inputs))
      throw validationError('inputs must be an array');
    if (inputs.length > max) {
      throw validationError(
        `Too many inputs: ${inputs.length}. This association batch accepts at most ${max} inputs.`,
      );
    }
    inputs.forEach((input, i) => {
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        throw validationError(`inputs[${i}] must be an object`);
    });
    return inputs as Array<Record<string, any>>;
  }

  private pair(
    input: Record<string, any>,
    i: number,
  ): { fromId: string; toId: string } {
    return {
      fromId: idOf(input.from, `inputs[${i}].from`),
      toId: idOf(input.to, `inputs[${i}].to`),
    };
  }

  /**
   * Both records live (batch endpoints do not follow merged ids); otherwise a per-input error
   * naming the pair.
   */
  private bothExist(fromId: string, toId: string): boolean {
    const missing = [
      ...(this.from.live(fromId, false)
        ? []
        : [`${this.from.objectType} ${fromId}`]),
      ...(this.to.live(toId, false) ? [] : [`${this.to.objectType} ${toId}`]),
    ];
    if (missing.length === 0) return true;
    this.errors.push({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
      message: `Could not associate: no live object for ${missing.join(' and ')}`,
      context: { fromObjectId: [fromId], toObjectId: [toId] },
    });
    return false;
  }

  private typeId(types: ObjectTypeStore): string {
    return this.store.schemas.objectTypeId(types.objectType);
  }

  private answer(okStatus: number, results: unknown[]): ExtensionResponse {
    const times = {
      startedAt: new Date(this.req.now).toISOString(),
      completedAt: new Date().toISOString(),
    };
    const ordered = this.store.associations.order(results);
    if (this.errors.length === 0) {
      return {
        status: okStatus,
        body: { status: 'COMPLETE', results: ordered, ...times },
      };
    }
    return {
      status: 207,
      body: {
        status: 'COMPLETE',
        results: ordered,
        numErrors: this.errors.length,
        errors: this.errors,
        ...times,
      },
    };
  }
}

function idOf(ref: unknown, where: string): string {
  const id = (ref as { id?: unknown } | undefined)?.id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') {
    throw validationError(`${where}.id is required`);
  }
  return String(id);
}
