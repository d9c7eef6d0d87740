import { validationError } from './sandbox-errors';

/** HubSpot-defined association type ids: id -> [from, to, inverse id]. */
const KNOWN_TYPES: Record<number, [string, string, number]> = {
  1: ['contacts', 'companies', 2],
  2: ['companies', 'contacts', 1],
  3: ['deals', 'contacts', 4],
  4: ['contacts', 'deals', 3],
  5: ['deals', 'companies', 6],
  6: ['companies', 'deals', 5],
  279: ['contacts', 'companies', 280],
  280: ['companies', 'contacts', 279],
  341: ['deals', 'companies', 342],
  342: ['companies', 'deals', 341],
};

/** Unlabelled ("default") type id per direction, as `batch/associate/default` uses. */
const DEFAULT_TYPES: Record<string, number> = {
  'contacts>companies': 279,
  'companies>contacts': 280,
  'deals>contacts': 3,
  'contacts>deals': 4,
  'deals>companies': 341,
  'companies>deals': 342,
};

/** Id HubSpot uses for directions it does not define (custom objects). */
const UNKNOWN_DEFAULT_TYPE = 0;

export interface SandboxAssociation {
  toObjectType: string;
  toObjectId: string;
  associationTypeIds: number[];
}

/** Associations in both directions, keyed `type:id` → `type:id` → type ids. */
export class SandboxAssociations {
  private readonly edges = new Map<string, Map<string, Set<number>>>();

  static typesOf(typeId: number): [string, string] | undefined {
    const known = KNOWN_TYPES[typeId];
    return known ? [known[0], known[1]] : undefined;
  }

  static defaultType(from: string, to: string): number {
    return DEFAULT_TYPES[`${from}>${to}`] ?? UNKNOWN_DEFAULT_TYPE;
  }

  add(
    from: string,
    fromId: string,
    to: string,
    toId: string,
    typeId: number,
  ): void {
    const known = KNOWN_TYPES[typeId];
    if (known && (known[0] !== from || known[1] !== to)) {
      throw validationError(
        `associationTypeId ${typeId} goes from ${known[0]} to ${known[1]}, not from ${from} to ${to}`,
      );
    }
    this.edge(from, fromId, to, toId).add(typeId);
    const inverse = known ? known[2] : typeId;
    this.edge(to, toId, from, fromId).add(inverse);
  }

  remove(from: string, fromId: string, to: string, toId: string): void {
    this.edges.get(`${from}:${fromId}`)?.delete(`${to}:${toId}`);
    this.edges.get(`${to}:${toId}`)?.delete(`${from}:${fromId}`);
  }

  list(from: string, fromId: string, to?: string): SandboxAssociation[] {
    const out: SandboxAssociation[] = [];
    for (const [key, types] of this.edges.get(`${from}:${fromId}`) ?? []) {
      const split = key.indexOf(':');
      const toObjectType = key.slice(0, split);
      if (to && toObjectType !== to) continue;
      out.push({
        toObjectType,
        toObjectId: key.slice(split + 1),
        associationTypeIds: [...types].sort((a, b) => a - b),
      });
    }
    return out;
  }

  /** Drops every association of a record (GDPR delete, merge). */
  forget(type: string, id: string): void {
    for (const key of this.edges.get(`${type}:${id}`)?.keys() ?? []) {
      this.edges.get(key)?.delete(`${type}:${id}`);
    }
    this.edges.delete(`${type}:${id}`);
  }

  clear(): void {
    this.edges.clear();
  }

  private edge(
    from: string,
    fromId: string,
    to: string,
    toId: string,
  ): Set<number> {
    let targets = this.edges.get(`${from}:${fromId}`);
    if (!targets) {
      targets = new Map();
      this.edges.set(`${from}:${fromId}`, targets);
    }
    let types = targets.get(`${to}:${toId}`);
    if (!types) {
      types = new Set();
      targets.set(`${to}:${toId}`, types);
    }
    return types;
  }
}
