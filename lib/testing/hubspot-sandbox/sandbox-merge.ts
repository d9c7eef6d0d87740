import { notFound, validationError } from './sandbox-errors';
import type {
  ObjectTypeStore,
  SandboxRecord,
  SandboxStore,
} from './sandbox-store';

/**
 * `POST /crm/v3/objects/{type}/merge` as HubSpot does it now: a new record with a new id; both
 * old ids resolve to it on basic GET/PATCH/DELETE, batch endpoints answer OBJECT_NOT_FOUND for
 * them, and the associations of both move to the new id.
 */
export function mergeRecords(
  sandbox: SandboxStore,
  store: ObjectTypeStore,
  primaryId: string,
  otherId: string,
  now: number,
  lagMs: number,
): SandboxRecord {
  if (!primaryId || !otherId) {
    throw validationError('primaryObjectId and objectIdToMerge are required');
  }
  // Old ids of earlier merges name the record they became.
  const primary = store.live(primaryId, true);
  const other = store.live(otherId, true);
  if (!primary || !other) throw notFound();
  if (primary.id === other.id)
    throw validationError('Cannot merge an object with itself');
  const oldIds = [primary.id, other.id];
  const record = store.mergeIntoNew(
    primary,
    other,
    sandbox.allocateId(),
    now,
    lagMs,
  );
  // Both records' associations (labels included) move to the new id.
  sandbox.associations.merge(store.objectType, oldIds, record.id);
  return store.toJson(record);
}
