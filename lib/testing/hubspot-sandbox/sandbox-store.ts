import { SandboxAssociations } from './sandbox-associations';
import { SandboxSchemas } from './sandbox-schemas';
import {
  contactConflict,
  notFound,
  propertyValidationError,
  SandboxHttpError,
  validationError,
  type PropertyProblem,
} from './sandbox-errors';
import {
  DEFAULT_PROPERTIES,
  defaultReturnedProperties,
  normalizeValue,
  systemProperties,
  systemPropertyNames,
  toPropertyDefinition,
  type SandboxPropertyDefinition,
  type SandboxPropertyInput,
} from './sandbox-properties';

/** A record as the API (and the inspection helpers) show it. */
export interface SandboxRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** A record's state as the search index holds it. */
export interface SearchVersion {
  visibleAt: number;
  updatedAt: number;
  properties: Record<string, string>;
}

export interface StoredRecord {
  id: string;
  /** Only set values; a cleared property is absent. */
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  /** Oldest first; search sees the newest version whose `visibleAt` has passed. */
  searchVersions: SearchVersion[];
}

interface IndexEntry {
  id: string;
  /** For the contact email index: primary email (true) or one of `hs_additional_emails`. */
  primary: boolean;
}

/** Property changes ready to apply; '' clears. */
export type PropertyChanges = Record<string, string>;

/** Unique values claimed by earlier inputs of the same batch, keyed `index\0value`. */
export type BatchClaims = Map<string, string>;

const CONTACT_EMAIL_INDEX = 'email';

/** Aliases HubSpot accepts for the built-in object types. */
const TYPE_ALIASES: Record<string, string> = {
  '0-1': 'contacts',
  contact: 'contacts',
  '0-2': 'companies',
  company: 'companies',
  '0-3': 'deals',
  deal: 'deals',
  '0-5': 'tickets',
  ticket: 'tickets',
};

export function canonicalObjectType(raw: string): string {
  const lower = raw.toLowerCase();
  return TYPE_ALIASES[lower] ?? lower;
}

/** Records, property definitions and unique indexes of one object type. */
export class ObjectTypeStore {
  readonly records = new Map<string, StoredRecord>();
  readonly properties = new Map<string, SandboxPropertyDefinition>();
  /** index name -> unique value -> owner. */
  readonly unique = new Map<string, Map<string, IndexEntry>>();
  /** old id of a merged record -> id of the record the merge created. */
  readonly mergedInto = new Map<string, string>();
  /**
   * Whether unknown properties are refused. Built-in types are strict from the start; other
   * types (custom objects) accept anything until a property is defined for them, so tests need
   * not declare a schema unless they want validation or unique values.
   */
  strict: boolean;
  readonly sys: { created: string; modified: string };

  constructor(
    readonly objectType: string,
    now: string,
  ) {
    this.sys = systemPropertyNames(objectType);
    const defaults = DEFAULT_PROPERTIES[objectType];
    this.strict = defaults !== undefined;
    for (const input of [
      ...systemProperties(objectType),
      ...(defaults ?? []),
    ]) {
      this.properties.set(input.name, toPropertyDefinition(input, true, now));
    }
    if (objectType === 'contacts')
      this.unique.set(CONTACT_EMAIL_INDEX, new Map());
  }

  defineProperty(
    input: SandboxPropertyInput,
    now: string,
  ): SandboxPropertyDefinition {
    const def = toPropertyDefinition(input, false, now);
    this.properties.set(def.name, def);
    this.strict = true;
    if (def.hasUniqueValue && !this.unique.has(def.name)) {
      const index = new Map<string, IndexEntry>();
      for (const record of this.records.values()) {
        const value = record.properties[def.name];
        if (!record.archived && value !== undefined) {
          index.set(value, { id: record.id, primary: true });
        }
      }
      this.unique.set(def.name, index);
    }
    return def;
  }

  /** Name of the unique index a property feeds, if any. */
  indexOf(name: string): string | undefined {
    if (
      this.objectType === 'contacts' &&
      (name === 'email' || name === 'hs_additional_emails')
    ) {
      return CONTACT_EMAIL_INDEX;
    }
    return this.properties.get(name)?.hasUniqueValue ? name : undefined;
  }

  /** Whether `name` can be used as `idProperty` (batch upsert, reads by idProperty). */
  isUniqueProperty(name: string): boolean {
    return this.objectType === 'contacts'
      ? name === 'email' || this.unique.has(name)
      : this.unique.has(name);
  }

  indexKey(index: string, value: string): string {
    return index === CONTACT_EMAIL_INDEX ? value.trim().toLowerCase() : value;
  }

  /** A live record by id; old ids of merged records resolve to the merge's record only when asked. */
  live(id: string, followMerges: boolean): StoredRecord | undefined {
    let record = this.records.get(id);
    if (!record && followMerges) {
      const survivor = this.mergedInto.get(id);
      if (survivor) record = this.records.get(survivor);
    }
    return record && !record.archived ? record : undefined;
  }

  /** A live record by a unique property value (contacts' email also matches secondary emails). */
  findByUnique(name: string, value: string): StoredRecord | undefined {
    const index = this.indexOf(name);
    if (!index) return undefined;
    const entry = this.unique.get(index)?.get(this.indexKey(index, value));
    return entry ? this.live(entry.id, false) : undefined;
  }

  /** Looks a record up as `GET …/{id}?idProperty=` does. */
  lookup(
    id: string,
    idProperty: string | undefined,
    followMerges: boolean,
  ): StoredRecord | undefined {
    if (!idProperty || idProperty === 'hs_object_id') {
      return this.live(id, followMerges);
    }
    if (!this.isUniqueProperty(idProperty)) {
      throw validationError(
        `Property ${idProperty} is not a unique identifier property for object type ${this.objectType}`,
      );
    }
    return this.findByUnique(idProperty, id);
  }

  /**
   * Validates written properties against the definitions and the unique indexes.
   * `ownerId` is the record being updated (its own values do not conflict).
   */
  prepare(
    input: unknown,
    ownerId: string | undefined,
    claims?: BatchClaims,
    claimant?: string,
  ): PropertyChanges {
    if (input === undefined || input === null) return {};
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw validationError('properties must be an object');
    }
    const changes: PropertyChanges = {};
    const problems: PropertyProblem[] = [];
    for (const [name, value] of Object.entries(
      input as Record<string, unknown>,
    )) {
      const def = this.properties.get(name);
      if (!def && this.strict) {
        problems.push({
          name,
          code: 'PROPERTY_DOESNT_EXIST',
          message: `Property "${name}" does not exist`,
        });
        continue;
      }
      if (def?.modificationMetadata.readOnlyValue) {
        problems.push({
          name,
          code: 'READ_ONLY_VALUE',
          message: `"${name}" is a read only property; its value cannot be set.`,
        });
        continue;
      }
      const normalized = normalizeValue(this.objectType, name, value, def);
      if ('problem' in normalized) problems.push(normalized.problem);
      else changes[name] = normalized.value;
    }
    if (problems.length > 0) throw propertyValidationError(problems);
    this.checkUnique(changes, ownerId, claims, claimant ?? ownerId ?? '');
    return changes;
  }

  private checkUnique(
    changes: PropertyChanges,
    ownerId: string | undefined,
    claims: BatchClaims | undefined,
    claimant: string,
  ): void {
    for (const [name, value] of Object.entries(changes)) {
      const index = this.indexOf(name);
      if (!index || value === '') continue;
      const values =
        name === 'hs_additional_emails' ? value.split(';') : [value];
      for (const v of values) {
        const key = this.indexKey(index, v);
        const entry = this.unique.get(index)?.get(key);
        if (entry && entry.id !== ownerId && this.live(entry.id, false)) {
          if (
            index === CONTACT_EMAIL_INDEX &&
            name === 'email' &&
            entry.primary
          ) {
            throw contactConflict(entry.id);
          }
          throw this.alreadyHasValue(name, v);
        }
        const claimKey = `${index}\u0000${key}`;
        const claimedBy = claims?.get(claimKey);
        if (claimedBy !== undefined && claimedBy !== claimant) {
          throw this.alreadyHasValue(name, v);
        }
        claims?.set(claimKey, claimant);
      }
    }
  }

  private alreadyHasValue(name: string, value: string): SandboxHttpError {
    return propertyValidationError([
      {
        name,
        code: 'CONFLICTING_UNIQUE_VALUE',
        message: `${value} already has that value.`,
      },
    ]);
  }

  create(
    id: string,
    changes: PropertyChanges,
    now: number,
    lagMs: number,
  ): StoredRecord {
    const iso = new Date(now).toISOString();
    const record: StoredRecord = {
      id,
      properties: {
        hs_object_id: id,
        [this.sys.created]: iso,
        [this.sys.modified]: iso,
      },
      createdAt: now,
      updatedAt: now,
      archived: false,
      searchVersions: [],
    };
    this.records.set(id, record);
    this.write(record, changes, now, lagMs);
    return record;
  }

  update(
    record: StoredRecord,
    changes: PropertyChanges,
    now: number,
    lagMs: number,
  ): void {
    record.updatedAt = now;
    record.properties[this.sys.modified] = new Date(now).toISOString();
    this.write(record, changes, now, lagMs);
  }

  private write(
    record: StoredRecord,
    changes: PropertyChanges,
    now: number,
    lagMs: number,
  ): void {
    for (const [name, value] of Object.entries(changes)) {
      const index = this.indexOf(name);
      if (index) this.unindex(index, name, record);
      if (value === '') delete record.properties[name];
      else record.properties[name] = value;
      if (index) this.reindex(index, name, record);
    }
    if (this.objectType === 'contacts' && 'email' in changes) {
      const email = record.properties.email;
      if (email) record.properties.hs_email_domain = email.split('@')[1];
      else delete record.properties.hs_email_domain;
    }
    this.publish(record, now, lagMs);
  }

  /** Queues the record's current state for search, visible after the index lag. */
  publish(record: StoredRecord, now: number, lagMs: number): void {
    record.searchVersions.push({
      visibleAt: now + lagMs,
      updatedAt: record.updatedAt,
      properties: { ...record.properties },
    });
  }

  private unindex(index: string, name: string, record: StoredRecord): void {
    const value = record.properties[name];
    if (value === undefined) return;
    const map = this.unique.get(index);
    const values = name === 'hs_additional_emails' ? value.split(';') : [value];
    for (const v of values) {
      const key = this.indexKey(index, v);
      if (map?.get(key)?.id === record.id) map.delete(key);
    }
  }

  private reindex(index: string, name: string, record: StoredRecord): void {
    const value = record.properties[name];
    if (value === undefined) return;
    const map = this.unique.get(index);
    const primary = name !== 'hs_additional_emails';
    const values = primary ? [value] : value.split(';');
    for (const v of values)
      map?.set(this.indexKey(index, v), { id: record.id, primary });
  }

  private unindexAll(record: StoredRecord): void {
    for (const name of Object.keys(record.properties)) {
      const index = this.indexOf(name);
      if (index) this.unindex(index, name, record);
    }
  }

  /** Archived records leave the unique indexes, so their values can be reused. */
  archive(record: StoredRecord, now: number): void {
    this.unindexAll(record);
    record.archived = true;
    record.archivedAt = now;
  }

  /** Permanent deletion (GDPR): the id answers 404 from now on. */
  purge(record: StoredRecord): void {
    this.drop(record);
    for (const [merged, survivor] of this.mergedInto) {
      if (survivor === record.id) this.mergedInto.delete(merged);
    }
  }

  private drop(record: StoredRecord): void {
    this.unindexAll(record);
    this.records.delete(record.id);
  }

  /**
   * Merges two records into a NEW record with id `newId`, as HubSpot now does for contacts and
   * companies: values come from the primary (gaps filled from the other), the other's emails
   * become secondary ones, `hs_merged_object_ids` lists both old ids (and ids they had absorbed),
   * and both old ids resolve to the new record on basic reads and writes.
   */
  mergeIntoNew(
    primary: StoredRecord,
    other: StoredRecord,
    newId: string,
    now: number,
    lagMs: number,
  ): StoredRecord {
    const skip = new Set([
      'hs_object_id',
      this.sys.created,
      this.sys.modified,
      'hs_merged_object_ids',
    ]);
    const changes: PropertyChanges = {};
    for (const source of [primary, other]) {
      for (const [name, value] of Object.entries(source.properties)) {
        if (!skip.has(name) && changes[name] === undefined)
          changes[name] = value;
      }
    }
    if (this.objectType === 'contacts') {
      const emails = new Set<string>();
      for (const e of [
        ...(primary.properties.hs_additional_emails ?? '').split(';'),
        other.properties.email,
        ...(other.properties.hs_additional_emails ?? '').split(';'),
      ]) {
        if (e && e !== changes.email) emails.add(e);
      }
      delete changes.hs_additional_emails;
      if (emails.size > 0) changes.hs_additional_emails = [...emails].join(';');
    }
    const mergedIds = new Set<string>();
    for (const source of [primary, other]) {
      mergedIds.add(source.id);
      for (const id of (source.properties.hs_merged_object_ids ?? '').split(
        ';',
      )) {
        if (id) mergedIds.add(id);
      }
    }
    const createdAt = Math.min(primary.createdAt, other.createdAt);
    this.drop(primary);
    this.drop(other);
    for (const [id, target] of this.mergedInto) {
      if (target === primary.id || target === other.id)
        this.mergedInto.set(id, newId);
    }
    for (const id of mergedIds) this.mergedInto.set(id, newId);
    changes.hs_merged_object_ids = [...mergedIds].join(';');
    const record = this.create(newId, changes, now, lagMs);
    record.createdAt = createdAt;
    record.properties[this.sys.created] = new Date(createdAt).toISOString();
    // Re-publish so search shows the creation date the record keeps.
    record.searchVersions = [];
    this.publish(record, now, lagMs);
    return record;
  }

  /** The state search sees now, or undefined when the record is not indexed yet. */
  searchView(record: StoredRecord, now: number): SearchVersion | undefined {
    if (record.archived) return undefined;
    const versions = record.searchVersions;
    let visible = -1;
    for (let i = versions.length - 1; i >= 0; i--) {
      if (versions[i].visibleAt <= now) {
        visible = i;
        break;
      }
    }
    if (visible < 0) return undefined;
    // Older versions can never be seen again: drop them.
    if (visible > 0) versions.splice(0, visible);
    return versions[0];
  }

  /** API view of a record; `properties` undefined means every set property. */
  toJson(
    record: StoredRecord,
    properties?: string[],
    indexed?: SearchVersion,
  ): SandboxRecord {
    const source = indexed?.properties ?? record.properties;
    let props: Record<string, string | null>;
    if (properties) {
      props = {};
      for (const name of [
        ...properties,
        'hs_object_id',
        this.sys.created,
        this.sys.modified,
      ]) {
        props[name] = source[name] ?? null;
      }
    } else {
      props = { ...source };
    }
    return {
      id: record.id,
      properties: props,
      createdAt: new Date(record.createdAt).toISOString(),
      updatedAt: new Date(indexed?.updatedAt ?? record.updatedAt).toISOString(),
      archived: record.archived,
      ...(record.archivedAt !== undefined
        ? { archivedAt: new Date(record.archivedAt).toISOString() }
        : {}),
    };
  }

  /** Properties a read returns: the requested ones, else HubSpot's default set. */
  readProperties(requested: string[] | undefined): string[] {
    return requested && requested.length > 0
      ? requested
      : defaultReturnedProperties(this.objectType);
  }
}

/** Every object type's store plus the id sequence and associations they share. */
export class SandboxStore {
  private readonly types = new Map<string, ObjectTypeStore>();
  readonly associations = new SandboxAssociations();
  /** Custom objects' type ids (`2-<id>`) → their fully qualified name, the canonical one. */
  readonly aliases = new Map<string, string>();
  /** The portal's id, part of custom objects' fully qualified names. */
  portalId = 12345678;
  readonly schemas = new SandboxSchemas(this, () => this.portalId);
  private nextId = 1001;

  type(objectType: string): ObjectTypeStore {
    const name =
      this.aliases.get(objectType.toLowerCase()) ??
      canonicalObjectType(objectType);
    let store = this.types.get(name);
    if (!store) {
      store = new ObjectTypeStore(name, new Date().toISOString());
      this.types.set(name, store);
    }
    return store;
  }

  allocateId(): string {
    return String(this.nextId++);
  }

  /** Drops every record but keeps property definitions made since start. */
  clearRecords(): void {
    for (const store of this.types.values()) {
      store.records.clear();
      store.mergedInto.clear();
      for (const index of store.unique.values()) index.clear();
    }
    this.associations.clear();
    this.nextId = 1001;
  }

  mustFind(objectType: string, id: string): StoredRecord {
    const record = this.type(objectType).live(id, true);
    if (!record) throw notFound();
    return record;
  }
}
