import { validationError } from './sandbox-errors';
import { seededRandom } from './sandbox-faults';

export type SandboxAssociationCategory =
  'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';

/** One direction of an association type, as the labels API describes it. */
export interface SandboxAssociationDefinition {
  typeId: number;
  category: SandboxAssociationCategory;
  from: string;
  to: string;
  /** null for the unlabeled type of a pair. */
  label: string | null;
  /** Internal name of a user-defined label. */
  name?: string;
  /** Type id of the other direction. */
  inverseTypeId: number;
}

export interface SandboxAssociation {
  toObjectType: string;
  toObjectId: string;
  associationTypeIds: number[];
}

type Row = [number, string, string, string | null, number];

/**
 * HubSpot-defined association types between the standard objects, from HubSpot's "association type
 * ID values" tables: [typeId, from, to, label, inverse typeId]. The unlabeled type of each pair
 * comes first; "Primary" types are labelled.
 */
const HUBSPOT_DEFINED: Row[] = [
  [279, 'contacts', 'companies', null, 280],
  [280, 'companies', 'contacts', null, 279],
  [1, 'contacts', 'companies', 'Primary', 2],
  [2, 'companies', 'contacts', 'Primary', 1],
  [3, 'deals', 'contacts', null, 4],
  [4, 'contacts', 'deals', null, 3],
  [341, 'deals', 'companies', null, 342],
  [342, 'companies', 'deals', null, 341],
  [5, 'deals', 'companies', 'Primary', 6],
  [6, 'companies', 'deals', 'Primary', 5],
  [16, 'tickets', 'contacts', null, 15],
  [15, 'contacts', 'tickets', null, 16],
  [339, 'tickets', 'companies', null, 340],
  [340, 'companies', 'tickets', null, 339],
  [26, 'tickets', 'companies', 'Primary', 25],
  [25, 'companies', 'tickets', 'Primary', 26],
  [27, 'deals', 'tickets', null, 28],
  [28, 'tickets', 'deals', null, 27],
  [449, 'contacts', 'contacts', null, 449],
  [450, 'companies', 'companies', null, 450],
  [13, 'companies', 'companies', 'Child Company', 14],
  [14, 'companies', 'companies', 'Parent Company', 13],
  [451, 'deals', 'deals', null, 451],
  [452, 'tickets', 'tickets', null, 452],
];

/** User-defined type ids start here, clear of the HubSpot-defined ones above. */
const FIRST_USER_TYPE_ID = 1001;

const edgeKey = (type: string, id: string) => `${type}:${id}`;
const pairKey = (from: string, to: string) => `${from}>${to}`;

/**
 * Association definitions (HubSpot-defined, custom-object pairs, user-defined labels) and the
 * associations between records, both directions stored with their own type ids. As in HubSpot,
 * every labelled association also carries the pair's unlabeled type, and removing the unlabeled
 * type removes the association altogether.
 */
export class SandboxAssociations {
  /** Kind mode: batch results in input order instead of HubSpot's any order. */
  resultsInOrder = false;
  private random = seededRandom(1);
  private readonly definitions = new Map<
    number,
    SandboxAssociationDefinition
  >();
  private readonly byPair = new Map<string, SandboxAssociationDefinition[]>();
  private readonly edges = new Map<string, Map<string, Set<number>>>();
  private nextTypeId = FIRST_USER_TYPE_ID;

  constructor() {
    for (const [typeId, from, to, label, inverseTypeId] of HUBSPOT_DEFINED) {
      this.register({
        typeId,
        category: 'HUBSPOT_DEFINED',
        from,
        to,
        label,
        inverseTypeId,
      });
    }
  }

  /** The standard objects a HubSpot-defined type id goes between. */
  static typesOf(typeId: number): [string, string] | undefined {
    const row = HUBSPOT_DEFINED.find((r) => r[0] === typeId);
    return row ? [row[1], row[2]] : undefined;
  }

  /** Seeds the order of batch results (see `resultsInOrder`). */
  seed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** Batch results as HubSpot sends them: in no particular order, unless asked otherwise. */
  order<T>(results: T[]): T[] {
    if (this.resultsInOrder) return results;
    const out = [...results];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** Every definition from `from` to `to`, unlabeled first. */
  definitionsBetween(from: string, to: string): SandboxAssociationDefinition[] {
    return [...(this.byPair.get(pairKey(from, to)) ?? [])];
  }

  definition(typeId: number): SandboxAssociationDefinition | undefined {
    return this.definitions.get(typeId);
  }

  /** The unlabeled type from `from` to `to`, which `batch/associate/default` uses. */
  defaultType(from: string, to: string): number | undefined {
    return this.byPair.get(pairKey(from, to))?.find((d) => d.label === null)
      ?.typeId;
  }

  /**
   * Defines a pair of directions: the unlabeled pair of a custom object (label null), or a
   * user-defined label (`inverseLabel` names the other direction of a paired label).
   */
  definePair(
    from: string,
    to: string,
    options: {
      label: string | null;
      inverseLabel?: string | null;
      name?: string;
      category: SandboxAssociationCategory;
    },
  ): [SandboxAssociationDefinition, SandboxAssociationDefinition] {
    if (options.label === null && this.defaultType(from, to) !== undefined) {
      const forward = this.definitions.get(this.defaultType(from, to)!)!;
      return [forward, this.definitions.get(forward.inverseTypeId)!];
    }
    if (options.label !== null) {
      const taken = this.definitionsBetween(from, to).find(
        (d) =>
          d.label === options.label ||
          (options.name !== undefined && d.name === options.name),
      );
      if (taken) {
        throw validationError(
          `An association label named "${options.name ?? options.label}" already exists between ${from} and ${to}`,
        );
      }
    }
    const typeId = this.nextTypeId++;
    const self = from === to && options.inverseLabel === undefined;
    const inverseTypeId = self ? typeId : this.nextTypeId++;
    const forward: SandboxAssociationDefinition = {
      typeId,
      category: options.category,
      from,
      to,
      label: options.label,
      name: options.name,
      inverseTypeId,
    };
    this.register(forward);
    if (self) return [forward, forward];
    const inverse: SandboxAssociationDefinition = {
      typeId: inverseTypeId,
      category: options.category,
      from: to,
      to: from,
      label:
        options.inverseLabel === undefined
          ? options.label
          : options.inverseLabel,
      name: options.name,
      inverseTypeId: typeId,
    };
    this.register(inverse);
    return [forward, inverse];
  }

  /** Renames a user-defined label (and its inverse when given). */
  updateLabel(
    from: string,
    to: string,
    typeId: number,
    label: string,
    inverseLabel?: string,
  ): void {
    const def = this.userDefinition(from, to, typeId);
    def.label = label;
    const inverse = this.definitions.get(def.inverseTypeId);
    if (inverse && inverse !== def && inverseLabel !== undefined)
      inverse.label = inverseLabel;
  }

  /** Deletes a user-defined label; associations keep their other types. */
  deleteLabel(from: string, to: string, typeId: number): void {
    const def = this.userDefinition(from, to, typeId);
    for (const removed of new Set([
      def,
      this.definitions.get(def.inverseTypeId)!,
    ])) {
      this.definitions.delete(removed.typeId);
      const list = this.byPair.get(pairKey(removed.from, removed.to)) ?? [];
      list.splice(list.indexOf(removed), 1);
      for (const targets of this.edges.values()) {
        for (const types of targets.values()) types.delete(removed.typeId);
      }
    }
  }

  /**
   * Associates two records with `typeId` (checked against the pair), plus the pair's unlabeled
   * type, in both directions.
   */
  add(
    from: string,
    fromId: string,
    to: string,
    toId: string,
    typeId: number,
  ): void {
    const def = this.checkType(from, to, typeId);
    const unlabeled = this.defaultType(from, to);
    for (const id of new Set([def.typeId, unlabeled ?? def.typeId])) {
      const forward = this.definitions.get(id)!;
      this.edge(from, fromId, to, toId).add(forward.typeId);
      this.edge(to, toId, from, fromId).add(forward.inverseTypeId);
    }
  }

  /** The definition of `typeId`, or a 400 naming why it cannot go from `from` to `to`. */
  checkType(
    from: string,
    to: string,
    typeId: number,
    category?: string,
  ): SandboxAssociationDefinition {
    const def = this.definitions.get(typeId);
    if (!def) {
      throw validationError(
        `associationTypeId ${typeId} is not a valid association type between ${from} and ${to}`,
      );
    }
    if (def.from !== from || def.to !== to) {
      throw validationError(
        `associationTypeId ${typeId} goes from ${def.from} to ${def.to}, not from ${from} to ${to}`,
      );
    }
    if (category !== undefined && category !== def.category) {
      throw validationError(
        `associationTypeId ${typeId} is ${def.category}, not ${category}`,
      );
    }
    return def;
  }

  /** Removes some types; removing the unlabeled type removes the association altogether. */
  removeTypes(
    from: string,
    fromId: string,
    to: string,
    toId: string,
    typeIds: number[],
  ): void {
    const unlabeled = this.defaultType(from, to);
    if (unlabeled !== undefined && typeIds.includes(unlabeled)) {
      this.remove(from, fromId, to, toId);
      return;
    }
    const forward = this.edges
      .get(edgeKey(from, fromId))
      ?.get(edgeKey(to, toId));
    const backward = this.edges
      .get(edgeKey(to, toId))
      ?.get(edgeKey(from, fromId));
    for (const typeId of typeIds) {
      forward?.delete(typeId);
      const inverse = this.definitions.get(typeId)?.inverseTypeId;
      if (inverse !== undefined) backward?.delete(inverse);
    }
  }

  /** Removes every type between two records. */
  remove(from: string, fromId: string, to: string, toId: string): void {
    this.edges.get(edgeKey(from, fromId))?.delete(edgeKey(to, toId));
    this.edges.get(edgeKey(to, toId))?.delete(edgeKey(from, fromId));
  }

  list(from: string, fromId: string, to?: string): SandboxAssociation[] {
    const out: SandboxAssociation[] = [];
    for (const [key, types] of this.edges.get(edgeKey(from, fromId)) ?? []) {
      const split = key.lastIndexOf(':');
      const toObjectType = key.slice(0, split);
      if ((to && toObjectType !== to) || types.size === 0) continue;
      out.push({
        toObjectType,
        toObjectId: key.slice(split + 1),
        associationTypeIds: [...types].sort((a, b) => a - b),
      });
    }
    return out;
  }

  /**
   * A merge: every association of `mergedIds` moves to `intoId` (which may be one of them, or a
   * new id), and associations between the merged records themselves disappear.
   */
  merge(type: string, mergedIds: string[], intoId: string): void {
    const merged = new Set(mergedIds);
    const moved: Array<[string, string, number]> = [];
    for (const id of mergedIds) {
      for (const a of this.list(type, id)) {
        if (
          a.toObjectType === type &&
          (merged.has(a.toObjectId) || a.toObjectId === intoId)
        )
          continue;
        for (const typeId of a.associationTypeIds)
          moved.push([a.toObjectType, a.toObjectId, typeId]);
      }
    }
    for (const id of mergedIds) if (id !== intoId) this.forget(type, id);
    for (const [toType, toId, typeId] of moved) {
      const def = this.definitions.get(typeId);
      if (!def) continue;
      this.edge(type, intoId, toType, toId).add(typeId);
      this.edge(toType, toId, type, intoId).add(def.inverseTypeId);
    }
  }

  /** Drops every association of a record (GDPR delete, merge). */
  forget(type: string, id: string): void {
    for (const key of this.edges.get(edgeKey(type, id))?.keys() ?? []) {
      this.edges.get(key)?.delete(edgeKey(type, id));
    }
    this.edges.delete(edgeKey(type, id));
  }

  /** Forgets associations; definitions stay, like a portal's schema. */
  clear(): void {
    this.edges.clear();
  }

  private register(def: SandboxAssociationDefinition): void {
    this.definitions.set(def.typeId, def);
    const list = this.byPair.get(pairKey(def.from, def.to)) ?? [];
    if (def.label === null) list.unshift(def);
    else list.push(def);
    this.byPair.set(pairKey(def.from, def.to), list);
  }

  private userDefinition(
    from: string,
    to: string,
    typeId: number,
  ): SandboxAssociationDefinition {
    const def = this.checkType(from, to, typeId);
    if (def.category !== 'USER_DEFINED' || def.label === null) {
      throw validationError(
        `associationTypeId ${typeId} is not a user-defined label; HubSpot-defined types cannot be changed`,
      );
    }
    return def;
  }

  private edge(
    from: string,
    fromId: string,
    to: string,
    toId: string,
  ): Set<number> {
    let targets = this.edges.get(edgeKey(from, fromId));
    if (!targets) {
      targets = new Map();
      this.edges.set(edgeKey(from, fromId), targets);
    }
    let types = targets.get(edgeKey(to, toId));
    if (!types) {
      types = new Set();
      targets.set(edgeKey(to, toId), types);
    }
    return types;
  }
}
