import { Logger, type LoggerService } from '@nestjs/common';
import {
  CrmAuthError,
  CrmConflictError,
  CrmError,
  CrmNotFoundError,
  CrmValidationError,
} from '../../errors/crm.error';
import type {
  CrmAdapter,
  CrmAdapterContext,
  CrmBatchUpsertRecord,
  CrmBatchUpsertRequest,
  CrmBatchUpsertResult,
  CrmDeleteRequest,
  CrmUpsertRequest,
} from '../../interfaces/crm-adapter.interface';
import type {
  CrmAssociateRequest,
  CrmAssociationLabel,
  CrmAssociationResult,
  CrmDisassociateRequest,
} from '../../interfaces/crm-association.interface';
import type {
  CrmPropertyDefinition,
  CrmPropertyGroup,
} from '../../schema/crm-property.interface';
import { HubspotAssociationsApi } from './hubspot-associations.api';
import { HubspotPropertiesApi } from './hubspot-properties.api';
import { InProcessRateGovernor } from '../../rate/in-process-rate.governor';
import {
  HUBSPOT_CONTACT_EMAIL,
  HUBSPOT_CONTACTS,
  HUBSPOT_DEFAULT_BASE_URL,
  HUBSPOT_DEFAULTS,
  HUBSPOT_MAX_BATCH_INPUTS,
  HUBSPOT_OBJECT_ID_PROPERTY,
  HUBSPOT_OBJECTS_PATH,
  HUBSPOT_PROPERTIES_PATH,
  HUBSPOT_SCHEMA_DEFAULTS,
} from './hubspot.constants';
import type { HubspotAdapterOptions } from './hubspot-adapter-options.interface';
import {
  chunk,
  contextValues,
  mapLimited,
  rounds,
  type HubspotBatchResponse,
  type HubspotRecordJson,
} from './hubspot-batch.util';
import { batchItemError, redact } from './hubspot-errors.util';
import { HubspotHttpClient } from './hubspot-http.client';
import {
  blankIdPropertyError,
  identityKey,
  idValueOf,
  type HubspotProperties,
} from './hubspot-payload.util';

/** One record of a batch on its way to HubSpot; `traceId` is its objectWriteTraceId. */
interface BatchItem {
  key: string;
  traceId: string;
  props: HubspotProperties;
  crmId?: string;
  idValue?: string;
}

type Outcome = { crmId: string } | { error: CrmError };
/** Outcomes by traceId. */
type Outcomes = Map<string, Outcome>;

/**
 * HubSpot CRM v3 adapter. Known ids are PATCHed, first syncs use batch upsert by a unique
 * property (or create + adopt the id of a 409), search is a last resort; batches are split,
 * de-duplicated, parsed per input and bisected around bad inputs. Every call draws from the
 * CRM's rate governor and feeds the answer's rate headers back to it.
 */
export class HubspotAdapter implements CrmAdapter {
  private readonly client: HubspotHttpClient;
  private readonly logger: LoggerService;
  private readonly concurrency: number;
  private readonly uniqueProperties = new Map<string, Promise<Set<string>>>();
  private readonly accessToken: string;
  private crmName = 'hubspot';
  /** Property schema, pre-flight checks and `sync-properties` writes. */
  private readonly properties: HubspotPropertiesApi;
  private readonly associations: HubspotAssociationsApi;

  constructor(options: HubspotAdapterOptions) {
    if (
      !options ||
      typeof options.accessToken !== 'string' ||
      options.accessToken.trim() === ''
    ) {
      throw new Error(
        'HubspotAdapter: accessToken is required (a HubSpot private app token)',
      );
    }
    this.accessToken = options.accessToken;
    this.logger = options.logger ?? new Logger(HubspotAdapter.name);
    this.concurrency = options.concurrency ?? HUBSPOT_DEFAULTS.concurrency;
    this.client = new HubspotHttpClient(
      {
        accessToken: options.accessToken,
        baseUrl: (options.baseUrl ?? HUBSPOT_DEFAULT_BASE_URL).replace(
          /\/+$/,
          '',
        ),
        timeoutMs: options.timeoutMs ?? HUBSPOT_DEFAULTS.timeoutMs,
        maxSockets: options.maxSockets ?? HUBSPOT_DEFAULTS.maxSockets,
        maxRetries: options.maxRetries ?? HUBSPOT_DEFAULTS.maxRetries,
        retryBaseDelayMs:
          options.retryBaseDelayMs ?? HUBSPOT_DEFAULTS.retryBaseDelayMs,
        retryMaxDelayMs:
          options.retryMaxDelayMs ?? HUBSPOT_DEFAULTS.retryMaxDelayMs,
        lockedDelayMs: options.lockedDelayMs ?? HUBSPOT_DEFAULTS.lockedDelayMs,
        maxRateLimitWaits:
          options.maxRateLimitWaits ?? HUBSPOT_DEFAULTS.maxRateLimitWaits,
      },
      this.logger,
    );
    this.properties = new HubspotPropertiesApi(
      this.client,
      {
        validate: options.validatePayloads ?? true,
        ttlMs: options.schemaTtlMs ?? HUBSPOT_SCHEMA_DEFAULTS.ttlMs,
        minRefreshMs: HUBSPOT_SCHEMA_DEFAULTS.minRefreshMs,
      },
      (message) => this.warn(`${this.crmName}: ${message}`),
    );
    this.associations = new HubspotAssociationsApi(
      this.client,
      this.concurrency,
    );
    // Until EtlifyModule attaches the CRM's governor: Free/Starter limits, raised by the headers.
    this.client.setGovernor(
      new InProcessRateGovernor({
        ...HUBSPOT_DEFAULTS.rateLimit,
        learnLimitFromHeaders: true,
      }),
    );
  }

  attach(context: CrmAdapterContext): void {
    this.crmName = context.crmName;
    if (context.rateGovernor) this.client.setGovernor(context.rateGovernor);
  }

  close(): void {
    this.client.close();
  }

  async upsert(req: CrmUpsertRequest): Promise<string> {
    const type = objectTypeOf(req.objectType);
    // Converted and checked against the schema: a bad payload fails here, before any write.
    const props = await this.properties.checkOne(type, req.payload);
    try {
      return await this.upsertChecked(type, props, req);
    } catch (error) {
      this.properties.noteRefusal(type, error);
      throw error;
    }
  }

  private async upsertChecked(
    type: string,
    props: HubspotProperties,
    req: CrmUpsertRequest,
  ): Promise<string> {
    if (req.crmId)
      return this.patchOrRecover(type, req.crmId, props, req.idProperty);
    const value = idValueOf(props, req.idProperty);
    if (req.idProperty && !value)
      throw blankIdPropertyError(type, req.idProperty);
    if (req.idProperty && (await this.upsertable(type, req.idProperty))) {
      return (await this.upsertOne(type, req.idProperty, value!, props)).id;
    }
    if (hasEmail(type, props))
      return (await this.createOrAdopt(type, props)).id;
    if (req.idProperty) {
      // Last resort (e.g. companies by domain): search is lag-prone, a fresh record may be missed.
      const found = await this.searchOne(type, req.idProperty, value!);
      if (found) return this.patchOrRecover(type, found, props, req.idProperty);
    }
    return this.create(type, props);
  }

  async delete(req: CrmDeleteRequest): Promise<boolean> {
    const type = objectTypeOf(req.objectType);
    // HubSpot answers 204 to archiving an archived record: a read tells whether it still exists.
    if (!(await this.readId(type, req.crmId))) return false;
    try {
      await this.client.request({
        method: 'DELETE',
        path: objectPath(type, req.crmId),
      });
      return true;
    } catch (error) {
      if (error instanceof CrmNotFoundError) return false;
      throw error;
    }
  }

  async batchDelete(req: {
    objectType: string;
    crmIds: string[];
  }): Promise<void> {
    const type = objectTypeOf(req.objectType);
    const ids = [...new Set(req.crmIds.filter((id) => id))];
    await mapLimited(
      chunk(ids, HUBSPOT_MAX_BATCH_INPUTS),
      this.concurrency,
      async (part) => {
        await this.client.request({
          method: 'POST',
          path: batchPath(type, 'archive'),
          body: { inputs: part.map((id) => ({ id })) },
        });
      },
    );
  }

  async batchUpsert(
    req: CrmBatchUpsertRequest,
  ): Promise<CrmBatchUpsertResult[]> {
    const type = objectTypeOf(req.objectType);
    const idProperty = req.idProperty;
    const out = new Map<string, CrmBatchUpsertResult>();
    // The same key twice: the last payload is the record's current state.
    const latest = new Map<string, CrmBatchUpsertRecord>();
    for (const record of req.records) latest.set(record.key, record);
    // The properties API is read only when some record has no CRM id yet.
    const usable =
      !!idProperty &&
      [...latest.values()].some((r) => !r.crmId) &&
      (await this.upsertable(type, idProperty));

    // Every payload converted and checked with one schema read; bad ones fail alone, unsent.
    const checked = await this.properties.checkMany(
      type,
      [...latest.values()].map((r) => ({ key: r.key, payload: r.payload })),
    );
    const updates: BatchItem[] = [];
    const upserts: BatchItem[] = [];
    const creates: BatchItem[] = [];
    let sequence = 0;
    for (const record of latest.values()) {
      try {
        const props = checked.get(record.key)!;
        if (props instanceof CrmValidationError) throw props;
        const item: BatchItem = {
          key: record.key,
          traceId: String(sequence++),
          props,
          crmId: record.crmId || undefined,
          idValue: idValueOf(props, idProperty),
        };
        if (item.crmId) updates.push(item);
        else if (usable) {
          if (!item.idValue) throw blankIdPropertyError(type, idProperty);
          upserts.push(item);
        } else creates.push(item);
      } catch (error) {
        out.set(record.key, { key: record.key, error: asCrmError(error) });
      }
    }

    const updateRounds = rounds(updates, (i) => i.crmId!);
    const upsertRounds = rounds(upserts, (i) =>
      identityKey(type, idProperty, i.idValue!),
    );
    const createRounds = rounds(creates, (i) =>
      hasEmail(type, i.props)
        ? identityKey(
            type,
            HUBSPOT_CONTACT_EMAIL,
            i.props[HUBSPOT_CONTACT_EMAIL],
          )
        : i.traceId,
    );
    const depth = Math.max(
      updateRounds.length,
      upsertRounds.length,
      createRounds.length,
    );
    for (let r = 0; r < depth; r++) {
      const jobs: Array<{
        items: BatchItem[];
        send: (items: BatchItem[]) => Promise<Outcomes>;
      }> = [
        ...chunk(updateRounds[r] ?? [], HUBSPOT_MAX_BATCH_INPUTS).map(
          (items) => ({
            items,
            send: (part: BatchItem[]) =>
              this.sendUpdate(type, idProperty, part),
          }),
        ),
        ...chunk(upsertRounds[r] ?? [], HUBSPOT_MAX_BATCH_INPUTS).map(
          (items) => ({
            items,
            send: (part: BatchItem[]) =>
              this.sendUpsert(type, idProperty, part),
          }),
        ),
        ...chunk(createRounds[r] ?? [], HUBSPOT_MAX_BATCH_INPUTS).map(
          (items) => ({
            items,
            send: (part: BatchItem[]) =>
              this.sendCreate(type, idProperty, part),
          }),
        ),
      ];
      await mapLimited(jobs, this.concurrency, async ({ items, send }) => {
        const outcomes = await this.bisect(items, send);
        for (const item of items) {
          const outcome: Outcome = outcomes.get(item.traceId) ?? {
            error: new CrmError(
              `HubSpot returned no result for record "${item.key}"`,
              { retryable: true },
            ),
          };
          out.set(item.key, { key: item.key, ...outcome });
        }
      });
    }
    for (const result of out.values())
      if (result.error) this.properties.noteRefusal(type, result.error);
    return [...out.values()];
  }

  async associate(req: CrmAssociateRequest): Promise<CrmAssociationResult[]> {
    return this.associations.associate(req);
  }

  async disassociate(
    req: CrmDisassociateRequest,
  ): Promise<CrmAssociationResult[]> {
    return this.associations.disassociate(req);
  }

  async associationLabels(
    fromObjectType: string,
    toObjectType: string,
  ): Promise<CrmAssociationLabel[]> {
    return this.associations.labels(fromObjectType, toObjectType);
  }

  async readProperties(objectType: string): Promise<CrmPropertyDefinition[]> {
    return this.properties.read(objectTypeOf(objectType));
  }

  async createProperty(
    objectType: string,
    definition: CrmPropertyDefinition,
  ): Promise<void> {
    await this.properties.create(objectTypeOf(objectType), definition);
  }

  async readPropertyGroups(objectType: string): Promise<CrmPropertyGroup[]> {
    return this.properties.readGroups(objectTypeOf(objectType));
  }

  async createPropertyGroup(
    objectType: string,
    group: CrmPropertyGroup,
  ): Promise<void> {
    await this.properties.createGroup(objectTypeOf(objectType), group);
  }

  /** Sends a batch; when HubSpot rejects it as a whole, halves it until only bad inputs fail. */
  private async bisect(
    items: BatchItem[],
    send: (items: BatchItem[]) => Promise<Outcomes>,
  ): Promise<Outcomes> {
    try {
      return await send(items);
    } catch (caught) {
      const error = asCrmError(caught);
      if (items.length === 1 || !isBatchRejection(error)) {
        return new Map(items.map((item) => [item.traceId, { error }]));
      }
      const middle = items.length >> 1;
      const [left, right] = await Promise.all([
        this.bisect(items.slice(0, middle), send),
        this.bisect(items.slice(middle), send),
      ]);
      return new Map([...left, ...right]);
    }
  }

  private async sendUpdate(
    type: string,
    idProperty: string,
    items: BatchItem[],
  ): Promise<Outcomes> {
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path: batchPath(type, 'update'),
      body: {
        inputs: items.map((i) => ({
          id: i.crmId,
          properties: i.props,
          objectWriteTraceId: i.traceId,
        })),
      },
    });
    const byId = new Map(items.map((i) => [i.crmId!, i]));
    const outcomes = this.parseBatch(items, response, (r) => byId.get(r.id));
    const gone: BatchItem[] = [];
    this.collectErrors(type, 'update', items, response, outcomes, {
      byId,
      divert: (error, item) => {
        if (!(error instanceof CrmNotFoundError)) return false;
        gone.push(item);
        return true;
      },
    });
    // Ids HubSpot no longer knows (merged or deleted there): re-matched one by one.
    for (const item of gone) {
      try {
        outcomes.set(item.traceId, {
          crmId: await this.recover(type, item.crmId!, item.props, idProperty),
        });
      } catch (error) {
        outcomes.set(item.traceId, { error: asCrmError(error) });
      }
    }
    return outcomes;
  }

  private async sendUpsert(
    type: string,
    idProperty: string,
    items: BatchItem[],
  ): Promise<Outcomes> {
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path: batchPath(type, 'upsert'),
      body: {
        inputs: items.map((i) => ({
          id: i.idValue,
          idProperty,
          properties: i.props,
          objectWriteTraceId: i.traceId,
        })),
      },
    });
    const byValue = new Map(
      items.map((i) => [identityKey(type, idProperty, i.idValue!), i]),
    );
    const outcomes = this.parseBatch(items, response, (r) => {
      const value = r.properties?.[idProperty];
      return value
        ? byValue.get(identityKey(type, idProperty, value))
        : undefined;
    });
    this.collectErrors(type, 'upsert', items, response, outcomes);
    return outcomes;
  }

  private async sendCreate(
    type: string,
    idProperty: string,
    items: BatchItem[],
  ): Promise<Outcomes> {
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path: batchPath(type, 'create'),
      // Trace ids make HubSpot answer 207 per bad input instead of failing the whole batch.
      body: {
        inputs: items.map((i) => ({
          properties: i.props,
          objectWriteTraceId: i.traceId,
        })),
      },
    });
    const outcomes = this.parseBatch(items, response, () => undefined);
    const adopt: BatchItem[] = [];
    this.collectErrors(type, 'create', items, response, outcomes, {
      divert: (error, item) => {
        if (!(error instanceof CrmConflictError) || !error.existingId)
          return false;
        adopt.push({ ...item, crmId: error.existingId });
        return true;
      },
    });
    // Contacts whose email already exists: adopt the id HubSpot named and update it.
    if (adopt.length) {
      for (const round of rounds(adopt, (i) => i.crmId!)) {
        const adopted = await this.bisect(round, (part) =>
          this.sendUpdate(type, idProperty, part),
        );
        for (const [traceId, outcome] of adopted)
          outcomes.set(traceId, outcome);
      }
    }
    return outcomes;
  }

  /** Successful results of a 200/201/207, matched to inputs by trace id, then by `match`. */
  private parseBatch(
    items: BatchItem[],
    response: { data: HubspotBatchResponse },
    match: (result: HubspotRecordJson) => BatchItem | undefined,
  ): Outcomes {
    const byTrace = new Map(items.map((i) => [i.traceId, i]));
    const outcomes: Outcomes = new Map();
    const results = response.data?.results ?? [];
    for (const result of results) {
      const item =
        (result.objectWriteTraceId !== undefined
          ? byTrace.get(String(result.objectWriteTraceId))
          : undefined) ?? match(result);
      if (item && result.id)
        outcomes.set(item.traceId, { crmId: String(result.id) });
    }
    // A single input answered by a single result needs no matching.
    if (
      items.length === 1 &&
      results.length === 1 &&
      !outcomes.size &&
      results[0].id
    ) {
      outcomes.set(items[0].traceId, { crmId: String(results[0].id) });
    }
    return outcomes;
  }

  /**
   * Gives each input a 207 error names its own error, unless `divert` takes it for another path
   * (an id HubSpot no longer knows, a create conflict naming the existing id).
   */
  private collectErrors(
    type: string,
    action: string,
    items: BatchItem[],
    response: { data: HubspotBatchResponse; correlationId?: string },
    outcomes: Outcomes,
    options: {
      byId?: Map<string, BatchItem>;
      divert?: (error: CrmError, item: BatchItem) => boolean;
    } = {},
  ): void {
    for (const error of response.data.errors ?? []) {
      const mapped = batchItemError(error, {
        method: 'POST',
        path: batchPath(type, action),
        correlationId: response.correlationId,
      });
      for (const item of this.named(error, items, options.byId)) {
        if (outcomes.has(item.traceId)) continue;
        if (!options.divert?.(mapped, item))
          outcomes.set(item.traceId, { error: mapped });
      }
    }
  }

  /** Inputs a 207 error names through its context (trace ids, ids, id property values). */
  private named(
    error: Parameters<typeof contextValues>[0],
    items: BatchItem[],
    byId?: Map<string, BatchItem>,
  ): BatchItem[] {
    const byTrace = new Map(items.map((i) => [i.traceId, i]));
    const found = new Set<BatchItem>();
    for (const t of contextValues(error, 'objectWriteTraceId')) {
      const item = byTrace.get(t);
      if (item) found.add(item);
    }
    for (const id of contextValues(error, 'ids')) {
      const item = byId?.get(id) ?? items.find((i) => i.idValue === id);
      if (item) found.add(item);
    }
    return [...found];
  }

  /** PATCH a known id; a 404 means HubSpot merged or deleted it: re-match instead of failing. */
  private async patchOrRecover(
    type: string,
    crmId: string,
    props: HubspotProperties,
    idProperty: string | undefined,
  ): Promise<string> {
    try {
      return await this.patch(type, crmId, props);
    } catch (error) {
      if (!(error instanceof CrmNotFoundError)) throw error;
      return this.recover(type, crmId, props, idProperty);
    }
  }

  /**
   * Finds what became of a record HubSpot no longer knows by `goneId`: the merge survivor (reads
   * follow merges), else the record holding the id property, else a new record — logged, so a
   * re-creation is never silent.
   */
  private async recover(
    type: string,
    goneId: string,
    props: HubspotProperties,
    idProperty: string | undefined,
  ): Promise<string> {
    const where = `${this.crmName}: ${type} ${goneId}`;
    const survivor = await this.readId(type, goneId);
    if (survivor && survivor !== goneId) {
      await this.patch(type, survivor, props);
      this.warn(
        `${where} was merged into ${survivor}; adopted the surviving id`,
      );
      return survivor;
    }
    const value = idValueOf(props, idProperty);
    if (idProperty && value && (await this.upsertable(type, idProperty))) {
      const { id, isNew } = await this.upsertOne(
        type,
        idProperty,
        value,
        props,
      );
      this.warn(
        isNew
          ? `${where} no longer exists and no record matches ${idProperty}; created ${id} in its place`
          : `${where} no longer exists; re-matched by ${idProperty} to ${id}`,
      );
      return id;
    }
    if (hasEmail(type, props)) {
      const { id, adopted } = await this.createOrAdopt(type, props);
      this.warn(
        adopted
          ? `${where} no longer exists; re-matched by email to ${id}`
          : `${where} no longer exists and no record matches its email; created ${id} in its place`,
      );
      return id;
    }
    if (idProperty && value) {
      const found = await this.searchOne(type, idProperty, value);
      if (found && found !== goneId) {
        await this.patch(type, found, props);
        this.warn(
          `${where} no longer exists; re-matched by ${idProperty} (search) to ${found}`,
        );
        return found;
      }
    }
    const id = await this.create(type, props);
    this.warn(
      `${where} no longer exists and nothing matches it; created ${id} in its place`,
    );
    return id;
  }

  private async patch(
    type: string,
    crmId: string,
    props: HubspotProperties,
  ): Promise<string> {
    const response = await this.client.request<HubspotRecordJson>({
      method: 'PATCH',
      path: objectPath(type, crmId),
      body: { properties: props },
    });
    return String(response.data?.id ?? crmId);
  }

  private async create(
    type: string,
    props: HubspotProperties,
  ): Promise<string> {
    const response = await this.client.request<HubspotRecordJson>({
      method: 'POST',
      path: `${HUBSPOT_OBJECTS_PATH}/${encodeURIComponent(type)}`,
      body: { properties: props },
    });
    return String(response.data.id);
  }

  /** Create; on 409 `Existing ID: N` (contacts by email) adopt N and update it. */
  private async createOrAdopt(
    type: string,
    props: HubspotProperties,
  ): Promise<{ id: string; adopted: boolean }> {
    try {
      return { id: await this.create(type, props), adopted: false };
    } catch (error) {
      if (!(error instanceof CrmConflictError) || !error.existingId)
        throw error;
      return {
        id: await this.patch(type, error.existingId, props),
        adopted: true,
      };
    }
  }

  private async upsertOne(
    type: string,
    idProperty: string,
    value: string,
    props: HubspotProperties,
  ): Promise<{ id: string; isNew: boolean }> {
    const path = batchPath(type, 'upsert');
    const response = await this.client.request<HubspotBatchResponse>({
      method: 'POST',
      path,
      body: { inputs: [{ id: value, idProperty, properties: props }] },
    });
    const result = response.data?.results?.[0];
    if (!result?.id) {
      const error = response.data?.errors?.[0];
      throw error
        ? batchItemError(error, {
            method: 'POST',
            path,
            correlationId: response.correlationId,
          })
        : new CrmError(`HubSpot returned no result for the ${type} upsert`, {
            retryable: true,
          });
    }
    return { id: String(result.id), isNew: result.new === true };
  }

  /** The live id a read by id resolves to (merged ids resolve to the survivor); undefined on 404. */
  private async readId(
    type: string,
    crmId: string,
  ): Promise<string | undefined> {
    try {
      const response = await this.client.request<HubspotRecordJson>({
        method: 'GET',
        path: objectPath(type, crmId),
        query: { properties: HUBSPOT_OBJECT_ID_PROPERTY },
      });
      return String(response.data?.id ?? crmId);
    } catch (error) {
      if (error instanceof CrmNotFoundError) return undefined;
      throw error;
    }
  }

  private async searchOne(
    type: string,
    property: string,
    value: string,
  ): Promise<string | undefined> {
    const response = await this.client.request<{
      results?: HubspotRecordJson[];
    }>({
      method: 'POST',
      path: `${HUBSPOT_OBJECTS_PATH}/${encodeURIComponent(type)}/search`,
      bucket: 'search',
      body: {
        filterGroups: [
          { filters: [{ propertyName: property, operator: 'EQ', value }] },
        ],
        properties: [property],
        limit: 1,
      },
    });
    const id = response.data?.results?.[0]?.id;
    return id ? String(id) : undefined;
  }

  /** Whether batch upsert can key on `idProperty`: contact email, or a property HubSpot says is unique. */
  private async upsertable(
    type: string,
    idProperty: string | undefined,
  ): Promise<boolean> {
    if (!idProperty || idProperty === HUBSPOT_OBJECT_ID_PROPERTY) return false;
    if (type === HUBSPOT_CONTACTS && idProperty === HUBSPOT_CONTACT_EMAIL)
      return true;
    let unique = this.uniqueProperties.get(type);
    if (!unique) {
      unique = this.fetchUniqueProperties(type);
      this.uniqueProperties.set(type, unique);
      // A transient failure is not remembered: the next call asks again.
      unique.catch(() => this.uniqueProperties.delete(type));
    }
    return (await unique).has(idProperty);
  }

  private async fetchUniqueProperties(type: string): Promise<Set<string>> {
    try {
      const response = await this.client.request<{
        results?: Array<{ name?: string; hasUniqueValue?: boolean }>;
      }>({
        method: 'GET',
        path: `${HUBSPOT_PROPERTIES_PATH}/${encodeURIComponent(type)}`,
      });
      return new Set(
        (response.data?.results ?? [])
          .filter((p) => p.hasUniqueValue && p.name)
          .map((p) => p.name!),
      );
    } catch (error) {
      if (!(error instanceof CrmAuthError)) throw error;
      this.warn(
        `${this.crmName}: cannot read the ${type} properties (${error.message}); grant the schema scope so records can be upserted by a unique property`,
      );
      return new Set();
    }
  }

  private warn(message: string): void {
    this.logger.warn(redact(message, this.accessToken), HubspotAdapter.name);
  }
}

function objectTypeOf(objectType: string): string {
  if (typeof objectType !== 'string' || objectType.trim() === '') {
    throw new CrmValidationError('objectType is required (e.g. "contacts")');
  }
  return objectType.trim();
}

function objectPath(type: string, id: string): string {
  return `${HUBSPOT_OBJECTS_PATH}/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;
}

function batchPath(type: string, action: string): string {
  return `${HUBSPOT_OBJECTS_PATH}/${encodeURIComponent(type)}/batch/${action}`;
}

function hasEmail(type: string, props: HubspotProperties): boolean {
  return type === HUBSPOT_CONTACTS && !!props[HUBSPOT_CONTACT_EMAIL]?.trim();
}

/** 400/409/422 on a whole batch: some input is bad, the rest may be fine. */
function isBatchRejection(error: CrmError): boolean {
  return (
    !error.retryable &&
    (error.status === 400 || error.status === 409 || error.status === 422)
  );
}

function asCrmError(error: unknown): CrmError {
  if (error instanceof CrmError) return error;
  return new CrmError(error instanceof Error ? error.message : String(error));
}
