import { Logger, type LoggerService } from '@nestjs/common';
import { CrmNotFoundError, CrmValidationError } from '../../errors/crm.error';
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
import type {
  CrmAdapter,
  CrmAdapterContext,
  CrmBatchDeleteRequest,
  CrmBatchDeleteResult,
  CrmBatchUpsertRequest,
  CrmBatchUpsertResult,
  CrmDeleteRequest,
  CrmReadRequest,
  CrmRecordView,
  CrmUpsertRequest,
} from '../../interfaces/crm-adapter.interface';
import { InProcessRateGovernor } from '../../rate/in-process-rate.governor';
import { HUBSPOT_DEFAULTS, HUBSPOT_SCHEMA_DEFAULTS } from './hubspot.constants';
import { HubspotAssociationsApi } from './hubspot-associations.api';
import { HubspotPropertiesApi } from './hubspot-properties.api';
import type { HubspotAdapterOptions } from './hubspot-adapter-options.interface';
import { HubspotBatchDeleter } from './hubspot-batch-delete.writer';
import { HubspotBatchWriter } from './hubspot-batch.writer';
import { HubspotCreateSettler } from './hubspot-create.settler';
import { HubspotHttpClient } from './hubspot-http.client';
import { HubspotIdentity } from './hubspot-identity.service';
import { HubspotObjectsApi } from './hubspot-objects.api';
import {
  resolveHubspotOptions,
  type ResolvedHubspotOptions,
} from './hubspot-options.util';
import { HubspotPaths } from './hubspot-paths.util';
import type { HubspotProperties } from './hubspot-payload.util';
import {
  HubspotPropertyProvisioner,
  keyPropertyDefinition,
  type ProvisionResult,
} from './hubspot-property.provisioner';
import { SecretRedactor } from '../../sync/redact.util';

/**
 * HubSpot CRM adapter. Known ids are PATCHed (a merged id answers with the merged record's new id,
 * which is returned); first writes are upserts by a unique property — the contact's email, the
 * entity's unique idProperty, or the library's own key property — so repeating one never makes a
 * second record. Without such a property a create is fenced (searched for before, settled after a
 * lost answer). Every call draws from the CRM's rate governor and feeds the answer's rate headers
 * back to it. The token lives in a private field and every echo of it is redacted.
 */
export class HubspotAdapter implements CrmAdapter {
  readonly #client: HubspotHttpClient;
  readonly #options: ResolvedHubspotOptions;
  readonly #logger: LoggerService;
  readonly #api: HubspotObjectsApi;
  readonly #identity: HubspotIdentity;
  readonly #settler: HubspotCreateSettler;
  readonly #batch: HubspotBatchWriter;
  readonly #deleter: HubspotBatchDeleter;
  readonly #provisioner: HubspotPropertyProvisioner;
  /** Property schema, pre-flight checks and `sync-properties` writes. */
  readonly #properties: HubspotPropertiesApi;
  readonly #associations: HubspotAssociationsApi;
  #crmName = 'hubspot';

  constructor(options: HubspotAdapterOptions) {
    this.#options = resolveHubspotOptions(options);
    const o = this.#options;
    this.#logger = options.logger ?? new Logger(HubspotAdapter.name);
    const paths = new HubspotPaths(o.apiVersion);
    this.#client = new HubspotHttpClient(
      options.accessToken,
      o,
      new SecretRedactor(options.accessToken),
      paths,
      this.#logger,
    );
    // Until EtlifyModule attaches the CRM's governor: Free/Starter limits, raised by the headers.
    this.#client.setGovernor(
      new InProcessRateGovernor({
        ...HUBSPOT_DEFAULTS.rateLimit,
        learnLimitFromHeaders: true,
      }),
    );
    const warn = (message: string) => this.warn(message);
    this.#api = new HubspotObjectsApi(this.#client, paths);
    this.#identity = new HubspotIdentity(
      this.#client,
      paths,
      o.keyProperty,
      warn,
      () => this.#crmName,
    );
    this.#settler = new HubspotCreateSettler(this.#api, o.settleDelayMs, warn);
    this.#batch = new HubspotBatchWriter(
      this.#client,
      this.#api,
      this.#identity,
      this.#settler,
      { update: (...args) => this.update(...args) },
      o.concurrency,
    );
    this.#deleter = new HubspotBatchDeleter(
      this.#api,
      (req) => this.delete(req),
      o.concurrency,
    );
    this.#provisioner = new HubspotPropertyProvisioner(this.#client, paths);
    this.#properties = new HubspotPropertiesApi(
      this.#client,
      {
        validate: options.validatePayloads ?? true,
        ttlMs: options.schemaTtlMs ?? HUBSPOT_SCHEMA_DEFAULTS.ttlMs,
        minRefreshMs: HUBSPOT_SCHEMA_DEFAULTS.minRefreshMs,
      },
      (message) => this.warn(`${this.#crmName}: ${message}`),
      paths,
    );
    this.#associations = new HubspotAssociationsApi(
      this.#client,
      o.concurrency,
    );
  }

  /** API version the adapter speaks (`v3` or a date version). */
  get apiVersion(): string {
    return this.#options.apiVersion;
  }

  /** Name of the library's own unique property, or undefined when turned off. */
  get keyProperty(): string | undefined {
    return this.#options.keyProperty;
  }

  /** Creates or checks properties of this portal (`etlify provision`). */
  get provisioner(): HubspotPropertyProvisioner {
    return this.#provisioner;
  }

  attach(context: CrmAdapterContext): void {
    this.#crmName = context.crmName;
    if (context.rateGovernor) this.#client.setGovernor(context.rateGovernor);
  }

  close(): void {
    this.#client.close();
  }

  /**
   * Creates the key property on `objectType` when missing (`apply`, else a dry run), or checks
   * it (unique, string). Says which scope is missing on a 403.
   */
  async provisionKeyProperty(
    objectType: string,
    options: { apply?: boolean } = {},
  ): Promise<ProvisionResult> {
    const name = this.#options.keyProperty;
    if (!name) {
      return {
        objectType,
        name: '',
        status: 'ok',
        message: `keyProperty is false: ${objectType} goes without a key property`,
      };
    }
    const result = await this.#provisioner.ensure(
      objectType,
      keyPropertyDefinition(name, objectType),
      options,
    );
    this.#identity.forget(objectType);
    return result;
  }

  /** Forgets what was read of a type's properties (after provisioning them). */
  forgetProperties(objectType?: string): void {
    this.#identity.forget(objectType);
  }

  toJSON(): Record<string, string> {
    return { adapter: HubspotAdapter.name, crm: this.#crmName };
  }

  async upsert(req: CrmUpsertRequest): Promise<string> {
    const type = objectTypeOf(req.objectType);
    // Converted and checked against the schema: a bad payload fails here, before any write.
    const props = await this.#properties.checkOne(type, req.payload);
    try {
      if (req.crmId)
        return await this.update(
          type,
          req.crmId,
          props,
          req.idProperty,
          req.recordKey,
          req.mayRecreate,
        );
      return await this.firstWrite(type, props, req.idProperty, req.recordKey);
    } catch (error) {
      this.#properties.noteRefusal(type, error);
      throw error;
    }
  }

  async delete(req: CrmDeleteRequest): Promise<boolean> {
    const type = objectTypeOf(req.objectType);
    // HubSpot answers 204 to archiving an archived record: a read tells whether it still exists.
    const live = await this.#api.readIdentity(type, req.crmId);
    if (!live) return false;
    // A merged record may still mirror another local row (through any of its ids): keep it.
    if (await req.heldElsewhere?.([live.id, ...live.mergedIds])) return false;
    try {
      // A merged id reads as the merged record: archive that one, under its own id.
      await this.#api.archive(type, live.id);
      return true;
    } catch (error) {
      if (error instanceof CrmNotFoundError) return false;
      throw error;
    }
  }

  /** Operations (`explain({ remote: true })`): one record's properties, or null when HubSpot has none. */
  async read(req: CrmReadRequest): Promise<CrmRecordView | null> {
    return this.#api.read(
      objectTypeOf(req.objectType),
      req.crmId,
      req.properties,
    );
  }

  /** Per 100 ids: one batch/read for the merge guard, one batch/archive. */
  async batchDelete(
    req: CrmBatchDeleteRequest,
  ): Promise<CrmBatchDeleteResult[]> {
    return this.#deleter.delete(objectTypeOf(req.objectType), req);
  }

  async batchUpsert(
    req: CrmBatchUpsertRequest,
  ): Promise<CrmBatchUpsertResult[]> {
    const type = objectTypeOf(req.objectType);
    // Every payload converted and checked with one schema read; bad ones fail alone, unsent.
    const checked = await this.#properties.checkMany(
      type,
      req.records.map((r) => ({ key: r.key, payload: r.payload })),
    );
    const rejected: CrmBatchUpsertResult[] = [];
    const records: CrmBatchUpsertRequest['records'] = [];
    for (const record of req.records) {
      const props = checked.get(record.key);
      if (props instanceof CrmValidationError)
        rejected.push({ key: record.key, error: props });
      else records.push(props ? { ...record, payload: props } : record);
    }
    const results = records.length
      ? await this.#batch.write(type, { ...req, records })
      : [];
    for (const result of results)
      if (result.error) this.#properties.noteRefusal(type, result.error);
    return [...rejected, ...results];
  }

  async associate(req: CrmAssociateRequest): Promise<CrmAssociationResult[]> {
    return this.#associations.associate(req);
  }

  async disassociate(
    req: CrmDisassociateRequest,
  ): Promise<CrmAssociationResult[]> {
    return this.#associations.disassociate(req);
  }

  async associationLabels(
    fromObjectType: string,
    toObjectType: string,
  ): Promise<CrmAssociationLabel[]> {
    return this.#associations.labels(fromObjectType, toObjectType);
  }

  async readProperties(objectType: string): Promise<CrmPropertyDefinition[]> {
    return this.#properties.read(objectTypeOf(objectType));
  }

  async createProperty(
    objectType: string,
    definition: CrmPropertyDefinition,
  ): Promise<void> {
    await this.#properties.create(objectTypeOf(objectType), definition);
  }

  async readPropertyGroups(objectType: string): Promise<CrmPropertyGroup[]> {
    return this.#properties.readGroups(objectTypeOf(objectType));
  }

  async createPropertyGroup(
    objectType: string,
    group: CrmPropertyGroup,
  ): Promise<void> {
    await this.#properties.createGroup(objectTypeOf(objectType), group);
  }

  private async firstWrite(
    type: string,
    props: HubspotProperties,
    idProperty: string | undefined,
    recordKey: string | undefined,
  ): Promise<string> {
    const plan = await this.#identity.firstWrite(
      type,
      props,
      idProperty,
      recordKey,
    );
    if (plan.kind === 'upsert') {
      return (
        await this.#api.upsertOne(type, plan.idProperty, plan.value, plan.props)
      ).id;
    }
    return this.#settler.createOne(type, {
      props,
      match: plan.match,
      recordKey,
    });
  }

  /**
   * PATCH a known id. HubSpot answers a merged id with the merged record's new id (returned, so
   * the state moves to it); a 404 means the record was deleted there: written again as a first
   * write, and logged so a re-creation is never silent — unless `mayRecreate` says the record
   * was deleted locally meanwhile.
   */
  private async update(
    type: string,
    crmId: string,
    props: HubspotProperties,
    idProperty: string | undefined,
    recordKey: string | undefined,
    mayRecreate?: () => Promise<boolean>,
  ): Promise<string> {
    const where = `${this.#crmName}: ${type} ${crmId}`;
    try {
      const id = await this.#api.patch(type, crmId, props);
      if (id !== crmId)
        this.warn(
          `${where} was merged into ${id}; the record now follows ${id}`,
        );
      return id;
    } catch (error) {
      if (!(error instanceof CrmNotFoundError)) throw error;
      if (mayRecreate && !(await mayRecreate()))
        throw new CrmNotFoundError(
          `${where} no longer exists in HubSpot and was deleted locally; not written again`,
        );
    }
    const id = await this.firstWrite(type, props, idProperty, recordKey);
    this.warn(`${where} no longer exists in HubSpot; written again as ${id}`);
    return id;
  }

  private warn(message: string): void {
    this.#logger.warn(this.#client.scrub(message), HubspotAdapter.name);
  }
}

function objectTypeOf(objectType: string): string {
  if (typeof objectType !== 'string' || objectType.trim() === '') {
    throw new CrmValidationError('objectType is required (e.g. "contacts")');
  }
  return objectType.trim();
}
