import { SandboxAssociations } from './sandbox-associations';
import { routeNotFound, validationError } from './sandbox-errors';
import type { SandboxStore } from './sandbox-store';

const MAX_ASSOCIATION_INPUTS = 2_000;

interface AssociationRequest {
  method: string;
  path: string;
  body: unknown;
  now: number;
}

/**
 * Associations v4 batch endpoints (`/crm/v4/associations/{from}/{to}/batch/…`): create,
 * associate/default, read and archive. Both directions are stored, with HubSpot's inverse type ids.
 */
export function handleAssociations(
  store: SandboxStore,
  req: AssociationRequest,
  parts: string[],
): { status: number; body?: unknown } {
  const [fromRaw, toRaw, batch, action, sub] = parts;
  if (req.method !== 'POST' || batch !== 'batch' || !fromRaw || !toRaw) {
    throw routeNotFound(req.method, req.path);
  }
  const from = store.type(fromRaw);
  const to = store.type(toRaw);
  const inputs = associationInputs(req.body);
  const times = () => ({
    startedAt: new Date(req.now).toISOString(),
    completedAt: new Date().toISOString(),
  });
  const mustExist = (fromId: string, toId: string) => {
    const missing = [
      ...(from.live(fromId, false) ? [] : [fromId]),
      ...(to.live(toId, false) ? [] : [toId]),
    ];
    if (missing.length > 0) {
      throw validationError(
        `Unable to associate: no live object with id(s) ${missing.join(', ')}`,
      );
    }
  };
  const result = (fromId: string, toId: string, typeIds: number[]) => ({
    fromObjectTypeId: from.objectType,
    fromObjectId: Number(fromId),
    toObjectTypeId: to.objectType,
    toObjectId: Number(toId),
    labels: [],
    associationTypeIds: typeIds,
  });

  if (action === 'create' && sub === undefined) {
    // Validate every input before writing, so a bad input changes nothing.
    const planned = inputs.map((input, i) => {
      const fromId = idOf(input.from, `inputs[${i}].from`);
      const toId = idOf(input.to, `inputs[${i}].to`);
      const types = Array.isArray(input.types) ? input.types : [];
      if (types.length === 0)
        throw validationError(`inputs[${i}].types is required`);
      const typeIds = types.map((t: { associationTypeId?: unknown }) =>
        Number(t?.associationTypeId),
      );
      if (typeIds.some((t) => !Number.isInteger(t))) {
        throw validationError(
          `inputs[${i}].types[].associationTypeId must be an integer`,
        );
      }
      mustExist(fromId, toId);
      return { fromId, toId, typeIds };
    });
    const results = planned.map(({ fromId, toId, typeIds }) => {
      for (const t of typeIds)
        store.associations.add(from.objectType, fromId, to.objectType, toId, t);
      return result(fromId, toId, typeIds);
    });
    return { status: 201, body: { status: 'COMPLETE', results, ...times() } };
  }
  if (action === 'associate' && sub === 'default') {
    const typeId = SandboxAssociations.defaultType(
      from.objectType,
      to.objectType,
    );
    const planned = inputs.map((input, i) => {
      const fromId = idOf(input.from, `inputs[${i}].from`);
      const toId = idOf(input.to, `inputs[${i}].to`);
      mustExist(fromId, toId);
      return { fromId, toId };
    });
    const results = planned.map(({ fromId, toId }) => {
      store.associations.add(
        from.objectType,
        fromId,
        to.objectType,
        toId,
        typeId,
      );
      return result(fromId, toId, [typeId]);
    });
    return { status: 200, body: { status: 'COMPLETE', results, ...times() } };
  }
  if (action === 'read' && sub === undefined) {
    const results = inputs.map((input, i) => {
      const fromId = String(input.id ?? idOf(input.from, `inputs[${i}]`));
      return {
        from: { id: fromId },
        to: store.associations
          .list(from.objectType, fromId, to.objectType)
          .map((a) => ({
            toObjectId: Number(a.toObjectId),
            associationTypes: a.associationTypeIds.map((typeId) => ({
              category: typeId === 0 ? 'USER_DEFINED' : 'HUBSPOT_DEFINED',
              typeId,
              label: null,
            })),
          })),
      };
    });
    return { status: 200, body: { status: 'COMPLETE', results, ...times() } };
  }
  if (action === 'archive' && sub === undefined) {
    inputs.forEach((input, i) => {
      const fromId = idOf(input.from, `inputs[${i}].from`);
      const targets: unknown[] = Array.isArray(input.to)
        ? input.to
        : [input.to];
      for (const target of targets) {
        store.associations.remove(
          from.objectType,
          fromId,
          to.objectType,
          idOf(target, `inputs[${i}].to`),
        );
      }
    });
    return { status: 204 };
  }
  throw routeNotFound(req.method, req.path);
}

function associationInputs(raw: unknown): Array<Record<string, any>> {
  const body = (raw ?? {}) as { inputs?: unknown };
  if (typeof body !== 'object' || Array.isArray(body))
    throw validationError('Request body must be a JSON object');
  if (body.inputs === undefined) return [];
  if (!Array.isArray(body.inputs))
    throw validationError('inputs must be an array');
  if (body.inputs.length > MAX_ASSOCIATION_INPUTS) {
    throw validationError(
      `Too many inputs: ${body.inputs.length}. Association batches accept at most ${MAX_ASSOCIATION_INPUTS} inputs.`,
    );
  }
  return body.inputs as Array<Record<string, any>>;
}

function idOf(ref: unknown, where: string): string {
  const id = (ref as { id?: unknown } | undefined)?.id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '') {
    throw validationError(`${where}.id is required`);
  }
  return String(id);
}
