import type { CrmError } from '../errors/crm.error';

/** Who defined an association type (HubSpot's `associationCategory`). */
export type CrmAssociationCategory =
  'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';

/** One directional association type: HubSpot's `associationTypeId` with its category. */
export interface CrmAssociationType {
  typeId: number;
  category: CrmAssociationCategory;
}

/** An association type as the labels API lists it; `label` is null for the unlabeled type. */
export interface CrmAssociationLabel extends CrmAssociationType {
  label: string | null;
}

export interface CrmAssociationInput {
  fromId: string;
  toId: string;
  /** Types to set; empty means the pair's default (unlabeled) association. */
  types: CrmAssociationType[];
}

export interface CrmAssociateRequest {
  fromObjectType: string;
  toObjectType: string;
  inputs: CrmAssociationInput[];
}

export interface CrmDisassociateRequest {
  fromObjectType: string;
  toObjectType: string;
  /** Every type between each pair is removed. */
  inputs: Array<{ fromId: string; toId: string }>;
}

/** One result per input, in any order; `error` when this pair failed on its own. */
export interface CrmAssociationResult {
  fromId: string;
  toId: string;
  error?: CrmError;
}

/** Optional adapter methods behind `@EtlifiedEntity({ associations })`. */
export interface CrmAssociationMethods {
  /** Creates (or adds types to) associations, many per call. Idempotent. */
  associate?(req: CrmAssociateRequest): Promise<CrmAssociationResult[]>;
  /** Removes associations, many per call. Idempotent. */
  disassociate?(req: CrmDisassociateRequest): Promise<CrmAssociationResult[]>;
  /** The association types from one object type to another (labels resolved by name at boot). */
  associationLabels?(
    fromObjectType: string,
    toObjectType: string,
  ): Promise<CrmAssociationLabel[]>;
}
