import type { CrmAssociationCategory } from '../interfaces/crm-association.interface';

/**
 * One association of `@EtlifiedEntity({ associations })`: the records a TypeORM relation points at
 * are associated with this record in the CRM, with one association type.
 *
 * ```ts
 * associations: [
 *   { relation: 'company', to: 'companies', typeId: 1 },              // primary company
 *   { relation: 'deals', to: 'deals', label: 'Decision maker' },       // a label, by name
 *   { relation: 'cars', to: 'p12345678_car' },                         // the default (unlabeled) type
 * ]
 * ```
 */
export interface EtlifyAssociationOptions {
  /** A relation of the entity (many-to-one, one-to-one, one-to-many or many-to-many). */
  relation: string;
  /**
   * CRM object type of the records at the other end (`companies`, `2-1234`, `p12345678_car`).
   * Default: the `crmObjectType` of the related entity.
   */
  to?: string;
  /** Association type id in the direction from this record to the related ones (e.g. 279). */
  typeId?: number;
  /** Category of `typeId`. Default `HUBSPOT_DEFINED`, or what the labels API says for `label`. */
  category?: CrmAssociationCategory;
  /**
   * A label by name (e.g. `Billing contact`), resolved to its type id at boot through the CRM's
   * labels API. Without `typeId` and `label`, the pair's default (unlabeled) association is used.
   */
  label?: string;
}
