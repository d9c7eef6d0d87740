import type { CrmError } from '../errors/crm.error';
import type { CrmPropertyMethods } from '../schema/crm-property.interface';
import type { CrmAssociationMethods } from './crm-association.interface';
import type { CrmPayload } from './crm-payload.interface';
import type { RateGovernor } from './rate-governor.interface';

export interface CrmUpsertRequest {
  /** Native type (`contacts`, `companies`, …) or custom object name. */
  objectType: string;
  payload: CrmPayload;
  /** CRM property used to find the record the first time (e.g. `email`). */
  idProperty?: string;
  /** Id already known for this record: the adapter must update it instead of searching. */
  crmId?: string;
  /**
   * Stable key of the local record, independent of the CRM (`<resourceType>:<id>`): adapters that
   * keep their own unique property write it there, so a repeated first write finds the record.
   */
  recordKey?: string;
  /**
   * Asked when the CRM no longer has `crmId` (archived there), before the adapter writes the record
   * again: `false` means it was deleted locally meanwhile, and the adapter throws CrmNotFoundError
   * instead of re-creating it. Adapters that never re-create on a missing id may ignore it.
   */
  mayRecreate?: () => Promise<boolean>;
}

export interface CrmDeleteRequest {
  objectType: string;
  crmId: string;
  /**
   * Asked before archiving, with every id the CRM record answers to (its live id and the ids merged
   * into it): `true` keeps the record, because another local row still mirrors it. Adapters whose
   * CRM never merges records may ignore it.
   */
  heldElsewhere?: (crmIds: string[]) => Promise<boolean>;
}

export interface CrmBatchUpsertRecord {
  /** Caller's key for this record, echoed back in the result. */
  key: string;
  payload: CrmPayload;
  crmId?: string;
  /** Stable key of the local record (see `CrmUpsertRequest.recordKey`); defaults to `key`. */
  recordKey?: string;
  /** See `CrmUpsertRequest.mayRecreate`. */
  mayRecreate?: () => Promise<boolean>;
}

export interface CrmBatchDeleteRequest {
  objectType: string;
  crmIds: string[];
  /**
   * Batch form of `CrmDeleteRequest.heldElsewhere`, asked once per CRM call before archiving: for
   * each record, every id it answers to. Resolves to the requested `crmId`s to keep.
   */
  heldElsewhere?: (
    records: Array<{ crmId: string; ids: string[] }>,
  ) => Promise<Set<string>>;
}

/** How the delete of one requested id ended; a failed one carries its error. */
export interface CrmBatchDeleteResult {
  crmId: string;
  status: 'deleted' | 'not_found' | 'kept';
  error?: CrmError;
}

export interface CrmBatchUpsertRequest {
  objectType: string;
  idProperty: string;
  records: CrmBatchUpsertRecord[];
}

export interface CrmBatchUpsertResult {
  key: string;
  crmId?: string;
  error?: CrmError;
}

export interface CrmReadRequest {
  objectType: string;
  crmId: string;
  /** Properties to return (the payload's keys). */
  properties: string[];
}

/** A record as the CRM holds it; property values as the CRM returns them (HubSpot: strings). */
export interface CrmRecordView {
  id: string;
  properties: Record<string, string | number | boolean | null>;
}

/** Context handed to adapters that want it (optional `attach`). */
export interface CrmAdapterContext {
  /** The CRM name from the module options. */
  crmName: string;
  /** Shared budget of calls for this CRM (in-process or Redis-backed). */
  rateGovernor?: RateGovernor;
}

/**
 * The contract every CRM adapter implements. Adapters are plain objects built by the user
 * (`new HubspotAdapter({...})`); they must throw `CrmError` (or a subclass) for CRM-side failures.
 */
export interface CrmAdapter extends CrmAssociationMethods, CrmPropertyMethods {
  /** Create or update one record; resolves to the CRM id. */
  upsert(req: CrmUpsertRequest): Promise<string>;
  /** Delete (archive) a record; resolves to false when the CRM did not know it. */
  delete(req: CrmDeleteRequest): Promise<boolean>;
  /** Optional bulk path: one result per input, in any order. */
  batchUpsert?(req: CrmBatchUpsertRequest): Promise<CrmBatchUpsertResult[]>;
  /**
   * Optional bulk delete: one result per requested id. Resolving to nothing means every id was
   * archived (adapters written before per-id results existed).
   */
  batchDelete?(
    req: CrmBatchDeleteRequest,
  ): Promise<CrmBatchDeleteResult[] | void>;
  /** Optional: reads one record, or null when the CRM does not have it (`explain({ remote: true })`). */
  read?(req: CrmReadRequest): Promise<CrmRecordView | null>;
  /** Called once at boot with the CRM's name and its rate governor. */
  attach?(context: CrmAdapterContext): void;
  /** Called on application shutdown (close sockets, timers). */
  close?(): Promise<void> | void;
}
