import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import type { CrmAssociationCategory } from '../interfaces/crm-association.interface';

/** One association type of a spec; `typeId` is filled in at boot for labels given by name. */
export interface AssociationTypeSpec {
  typeId?: number;
  category?: CrmAssociationCategory;
  label?: string;
}

/** The associations declared on one relation of an entity, resolved at boot. */
export interface AssociationSpec {
  /** The relation's property path: the key of its state rows. */
  name: string;
  relation: RelationMetadata;
  /** CRM object type at the other end (the declaration's `to`, else the related entity's). */
  toObjectType?: string;
  /** Types to set; empty means the pair's default (unlabeled) association. */
  types: AssociationTypeSpec[];
}
