import type { CrmPropertyDefinition } from './crm-property.interface';

/** The property definitions of one object type, as read at `loadedAt`. */
export interface PropertySchema {
  objectType: string;
  properties: ReadonlyMap<string, CrmPropertyDefinition>;
  loadedAt: number;
}

export interface PropertySchemaCacheOptions {
  /** How long a read schema is trusted. */
  ttlMs: number;
  /** A schema is never read again sooner than this, whatever asks (bounds calls on repeated misses). */
  minRefreshMs: number;
}

/**
 * Property definitions per object type, read once and kept for `ttlMs`. A read that fails is not
 * remembered (the next caller tries again) and yields `null`: callers then send without
 * pre-flight checks rather than not at all. Concurrent callers share one read.
 */
export class PropertySchemaCache {
  private readonly entries = new Map<string, Promise<PropertySchema | null>>();
  private readonly loaded = new Map<string, PropertySchema>();

  constructor(
    private readonly load: (
      objectType: string,
    ) => Promise<CrmPropertyDefinition[] | null>,
    private readonly options: PropertySchemaCacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  async get(objectType: string): Promise<PropertySchema | null> {
    const current = this.loaded.get(objectType);
    if (current && this.now() - current.loadedAt < this.options.ttlMs) {
      return current;
    }
    return this.read(objectType);
  }

  /** Reads again unless the schema was read within `minRefreshMs`; resolves to the current one. */
  async refresh(objectType: string): Promise<PropertySchema | null> {
    const current = this.loaded.get(objectType);
    if (current && this.now() - current.loadedAt < this.options.minRefreshMs) {
      return current;
    }
    return this.read(objectType);
  }

  /** Forgets a type's schema (the CRM refused a property: the next write reads it again). */
  invalidate(objectType: string): void {
    const current = this.loaded.get(objectType);
    // Within minRefreshMs the schema is as fresh as a new read would be.
    if (current && this.now() - current.loadedAt < this.options.minRefreshMs)
      return;
    this.loaded.delete(objectType);
  }

  private read(objectType: string): Promise<PropertySchema | null> {
    let pending = this.entries.get(objectType);
    if (pending) return pending;
    pending = this.load(objectType)
      .then((definitions) => {
        if (!definitions) return null;
        const schema: PropertySchema = {
          objectType,
          properties: new Map(definitions.map((d) => [d.name, d])),
          loadedAt: this.now(),
        };
        this.loaded.set(objectType, schema);
        return schema;
      })
      .catch(() => null)
      .finally(() => this.entries.delete(objectType));
    this.entries.set(objectType, pending);
    return pending;
  }
}
