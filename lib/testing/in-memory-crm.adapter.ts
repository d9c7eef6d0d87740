import {
  CrmError,
  CrmNotFoundError,
  CrmValidationError,
} from '../errors/crm.error';
import type {
  CrmAdapter,
  CrmBatchDeleteRequest,
  CrmBatchDeleteResult,
  CrmBatchUpsertRequest,
  CrmBatchUpsertResult,
  CrmDeleteRequest,
  CrmUpsertRequest,
} from '../interfaces/crm-adapter.interface';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type {
  CrmAssociateRequest,
  CrmAssociationLabel,
  CrmAssociationResult,
  CrmDisassociateRequest,
} from '../interfaces/crm-association.interface';
import { sleep } from '../util/sleep.util';

export interface InMemoryCrmRecord {
  id: string;
  objectType: string;
  properties: CrmPayload;
}

export interface InMemoryCrmCall {
  method:
    | 'upsert'
    | 'delete'
    | 'batchUpsert'
    | 'batchDelete'
    | 'associate'
    | 'disassociate';
  objectType: string;
  /** For upsert: the request; for batches: the number of records. */
  request: unknown;
}

export interface InMemoryCrmAdapterOptions {
  /** Delay of every call in ms, to widen race windows in tests. Default 0. */
  latencyMs?: number;
  /** Offer `batchUpsert`/`batchDelete`. Default true. */
  batch?: boolean;
}

/**
 * A CRM in memory with the same contract as a real adapter: records per object type, ids it
 * assigns, matching by `idProperty` (case-insensitive), `crmId` honoured, errors of the CrmError family.
 * Everything it received is in `calls`; `failNext` / `failWhen` make it fail.
 */
export class InMemoryCrmAdapter implements CrmAdapter {
  readonly calls: InMemoryCrmCall[] = [];
  private readonly store = new Map<string, Map<string, InMemoryCrmRecord>>();
  /** `fromType:fromId` → `toType:toId` → type ids (`0`: the default type). */
  private readonly links = new Map<string, Map<string, Set<number>>>();
  private nextId = 1;
  private failures: Array<{ error: CrmError | Error; times: number }> = [];
  private predicate?: (req: CrmUpsertRequest) => CrmError | Error | undefined;

  batchUpsert?: (req: CrmBatchUpsertRequest) => Promise<CrmBatchUpsertResult[]>;
  batchDelete?: (req: CrmBatchDeleteRequest) => Promise<CrmBatchDeleteResult[]>;

  constructor(private readonly options: InMemoryCrmAdapterOptions = {}) {
    if (options.batch !== false) {
      this.batchUpsert = (req) => this.doBatchUpsert(req);
      this.batchDelete = (req) => this.doBatchDelete(req);
    }
  }

  /** The next `times` calls fail with `error` (default: a retryable 500). */
  failNext(
    times = 1,
    error: CrmError | Error = new CrmError('Internal error', {
      status: 500,
      category: 'SERVER',
      retryable: true,
    }),
  ): this {
    this.failures.push({ error, times });
    return this;
  }

  /** Fails every upsert (or batch record) for which `check` returns an error. */
  failWhen(
    check:
      ((req: CrmUpsertRequest) => CrmError | Error | undefined) | undefined,
  ): this {
    this.predicate = check;
    return this;
  }

  records(objectType: string): InMemoryCrmRecord[] {
    return [...(this.store.get(objectType)?.values() ?? [])];
  }

  record(objectType: string, id: string): InMemoryCrmRecord | undefined {
    return this.store.get(objectType)?.get(id);
  }

  callCount(method?: InMemoryCrmCall['method']): number {
    return method
      ? this.calls.filter((c) => c.method === method).length
      : this.calls.length;
  }

  /** Associations made from a record, as `associate` left them (one direction, as asked). */
  associations(
    objectType: string,
    id: string,
    toObjectType?: string,
  ): Array<{ toObjectType: string; toId: string; typeIds: number[] }> {
    const out: Array<{
      toObjectType: string;
      toId: string;
      typeIds: number[];
    }> = [];
    for (const [key, types] of this.links.get(`${objectType}:${id}`) ?? []) {
      const split = key.lastIndexOf(':');
      const toType = key.slice(0, split);
      if (toObjectType && toType !== toObjectType) continue;
      out.push({
        toObjectType: toType,
        toId: key.slice(split + 1),
        typeIds: [...types].sort((a, b) => a - b),
      });
    }
    return out;
  }

  async associate(req: CrmAssociateRequest): Promise<CrmAssociationResult[]> {
    this.calls.push({
      method: 'associate',
      objectType: req.fromObjectType,
      request: req.inputs.length,
    });
    await this.delay();
    this.takeFailure();
    return req.inputs.map(({ fromId, toId, types }) => {
      if (
        !this.exists(req.fromObjectType, fromId) ||
        !this.exists(req.toObjectType, toId)
      ) {
        return {
          fromId,
          toId,
          error: new CrmNotFoundError(
            `cannot associate ${req.fromObjectType} ${fromId} with ${req.toObjectType} ${toId}: no such record`,
          ),
        };
      }
      const key = `${req.fromObjectType}:${fromId}`;
      const targets = this.links.get(key) ?? new Map<string, Set<number>>();
      const set =
        targets.get(`${req.toObjectType}:${toId}`) ?? new Set<number>();
      for (const type of types.length ? types : [{ typeId: 0 }])
        set.add(type.typeId);
      targets.set(`${req.toObjectType}:${toId}`, set);
      this.links.set(key, targets);
      return { fromId, toId };
    });
  }

  async disassociate(
    req: CrmDisassociateRequest,
  ): Promise<CrmAssociationResult[]> {
    this.calls.push({
      method: 'disassociate',
      objectType: req.fromObjectType,
      request: req.inputs.length,
    });
    await this.delay();
    this.takeFailure();
    return req.inputs.map(({ fromId, toId }) => {
      this.links
        .get(`${req.fromObjectType}:${fromId}`)
        ?.delete(`${req.toObjectType}:${toId}`);
      return { fromId, toId };
    });
  }

  /** No labels: declare associations with `typeId` (or none, for the default type). */
  async associationLabels(): Promise<CrmAssociationLabel[]> {
    return [];
  }

  reset(): void {
    this.calls.length = 0;
    this.links.clear();
    this.store.clear();
    this.failures = [];
    this.predicate = undefined;
  }

  async upsert(req: CrmUpsertRequest): Promise<string> {
    // A callback cannot be cloned; the log keeps the request's data.
    const { mayRecreate: _mayRecreate, ...data } = req;
    this.calls.push({
      method: 'upsert',
      objectType: req.objectType,
      request: structuredClone(data),
    });
    await this.delay();
    this.takeFailure();
    return this.apply(req);
  }

  async delete(req: CrmDeleteRequest): Promise<boolean> {
    this.calls.push({
      method: 'delete',
      objectType: req.objectType,
      request: { ...req },
    });
    await this.delay();
    this.takeFailure();
    return this.table(req.objectType).delete(req.crmId);
  }

  private async doBatchUpsert(
    req: CrmBatchUpsertRequest,
  ): Promise<CrmBatchUpsertResult[]> {
    this.calls.push({
      method: 'batchUpsert',
      objectType: req.objectType,
      request: req.records.length,
    });
    await this.delay();
    this.takeFailure();
    return req.records.map((record) => {
      try {
        const crmId = this.apply({
          objectType: req.objectType,
          payload: record.payload,
          idProperty: req.idProperty || undefined,
          crmId: record.crmId,
        });
        return { key: record.key, crmId };
      } catch (error) {
        return { key: record.key, error: error as CrmError };
      }
    });
  }

  private async doBatchDelete(
    req: CrmBatchDeleteRequest,
  ): Promise<CrmBatchDeleteResult[]> {
    this.calls.push({
      method: 'batchDelete',
      objectType: req.objectType,
      request: req.crmIds.length,
    });
    await this.delay();
    this.takeFailure();
    const table = this.table(req.objectType);
    const kept =
      (await req.heldElsewhere?.(
        req.crmIds
          .filter((id) => table.has(id))
          .map((crmId) => ({ crmId, ids: [crmId] })),
      )) ?? new Set<string>();
    return req.crmIds.map((crmId) => ({
      crmId,
      status: kept.has(crmId)
        ? 'kept'
        : table.delete(crmId)
          ? 'deleted'
          : 'not_found',
    }));
  }

  private apply(req: CrmUpsertRequest): string {
    const injected = this.predicate?.(req);
    if (injected) throw injected;
    const table = this.table(req.objectType);
    if (req.crmId) {
      const existing = table.get(req.crmId);
      if (!existing)
        throw new CrmNotFoundError(
          `${req.objectType} ${req.crmId} does not exist`,
        );
      existing.properties = { ...existing.properties, ...req.payload };
      return existing.id;
    }
    if (req.idProperty) {
      const value = req.payload[req.idProperty];
      if (
        value === undefined ||
        value === null ||
        String(value).trim() === ''
      ) {
        throw new CrmValidationError(
          `Property "${req.idProperty}" is blank; cannot match a ${req.objectType} record`,
        );
      }
      const wanted = String(value).toLowerCase();
      for (const record of table.values()) {
        if (
          String(record.properties[req.idProperty] ?? '').toLowerCase() ===
          wanted
        ) {
          record.properties = { ...record.properties, ...req.payload };
          return record.id;
        }
      }
    }
    const id = String(this.nextId++);
    table.set(id, {
      id,
      objectType: req.objectType,
      properties: { ...req.payload },
    });
    return id;
  }

  /** Records of types nobody wrote (another system's) are taken to exist. */
  private exists(objectType: string, id: string): boolean {
    const table = this.store.get(objectType);
    return !table || table.has(id);
  }

  private table(objectType: string): Map<string, InMemoryCrmRecord> {
    let table = this.store.get(objectType);
    if (!table) {
      table = new Map();
      this.store.set(objectType, table);
    }
    return table;
  }

  private takeFailure(): void {
    const next = this.failures[0];
    if (!next) return;
    if (--next.times <= 0) this.failures.shift();
    throw next.error;
  }

  private async delay(): Promise<void> {
    const ms = this.options.latencyMs ?? 0;
    if (ms > 0) await sleep(ms);
  }
}
