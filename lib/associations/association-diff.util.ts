import type { CrmAssociationState } from './crm-association-state.entity';
import type { AssociationStateValues } from './association-state.store';

/** What one record's association set needs in the CRM. */
export interface AssociationPlan {
  resourceId: string;
  fromCrmId: string;
  /** Target CRM ids the record must be associated with now. */
  desired: string[];
  /** Targets that have no CRM id yet. */
  pending: number;
  create: string[];
  remove: string[];
}

/** The state row's set as pushed (`[]` without one). */
export function storedSet(row: CrmAssociationState | undefined): string[] {
  if (!row?.toCrmIds) return [];
  try {
    const parsed: unknown = JSON.parse(row.toCrmIds);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * The difference between what the database says now and what was pushed last. A set pushed for
 * another CRM id of the record (a merge) or with other types is created again in full (creates
 * are idempotent); removals always go by what was pushed, so associations made by others stay.
 * Undefined when nothing is to be done.
 */
export function planAssociations(
  resourceId: string,
  fromCrmId: string,
  desired: string[],
  pending: number,
  types: string,
  row: CrmAssociationState | undefined,
): AssociationPlan | undefined {
  const previous = storedSet(row);
  const same = row?.fromCrmId === fromCrmId && row?.types === types;
  const want = new Set(desired);
  const had = new Set(previous);
  const create = same ? desired.filter((id) => !had.has(id)) : desired;
  const remove = previous.filter((id) => !want.has(id));
  const settled =
    same &&
    create.length === 0 &&
    remove.length === 0 &&
    row?.pending === pending &&
    !row?.lastError;
  if (settled) return undefined;
  return { resourceId, fromCrmId, desired, pending, create, remove };
}

/**
 * The state a push leaves: what is known to be in the CRM (previous, plus creates that
 * succeeded, minus removals that succeeded), the types only once every create went through.
 */
export function stateAfterPush(
  plan: AssociationPlan,
  row: CrmAssociationState | undefined,
  types: string,
  failedCreates: Map<string, string>,
  failedRemoves: Map<string, string>,
): AssociationStateValues {
  const inCrm = new Set(storedSet(row));
  for (const id of plan.create) if (!failedCreates.has(id)) inCrm.add(id);
  for (const id of plan.remove) if (!failedRemoves.has(id)) inCrm.delete(id);
  const errors = [...failedCreates.values(), ...failedRemoves.values()];
  return {
    fromCrmId: plan.fromCrmId,
    toCrmIds: [...inCrm].sort(),
    types: failedCreates.size === 0 ? types : (row?.types ?? ''),
    pending: plan.pending,
    lastError: errors.length ? errors[0] : null,
  };
}
