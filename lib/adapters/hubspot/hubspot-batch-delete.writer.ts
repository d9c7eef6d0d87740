import type {
  CrmBatchDeleteRequest,
  CrmBatchDeleteResult,
  CrmDeleteRequest,
} from '../../interfaces/crm-adapter.interface';
import { asCrmError } from './hubspot-create.settler';
import { chunk, mapLimited } from './hubspot-batch.util';
import type { HubspotObjectsApi } from './hubspot-objects.api';
import { HUBSPOT_MAX_BATCH_INPUTS } from './hubspot.constants';

/**
 * Bulk deletes: per 100 ids one batch/read (live and merged ids, for the merge guard) and one
 * batch/archive. An id the batch read does not answer (an old id of a merged record, or a record
 * already gone) takes the single path, whose GET follows merges.
 */
export class HubspotBatchDeleter {
  constructor(
    private readonly api: HubspotObjectsApi,
    private readonly single: (req: CrmDeleteRequest) => Promise<boolean>,
    private readonly concurrency: number,
  ) {}

  async delete(
    type: string,
    req: CrmBatchDeleteRequest,
  ): Promise<CrmBatchDeleteResult[]> {
    const ids = [...new Set(req.crmIds.filter((id) => id))];
    const results: CrmBatchDeleteResult[] = [];
    await mapLimited(
      chunk(ids, HUBSPOT_MAX_BATCH_INPUTS),
      this.concurrency,
      async (part) => {
        results.push(...(await this.deleteChunk(type, part, req)));
      },
    );
    return results;
  }

  private async deleteChunk(
    type: string,
    ids: string[],
    req: CrmBatchDeleteRequest,
  ): Promise<CrmBatchDeleteResult[]> {
    let live: Map<string, { id: string; mergedIds: string[] }>;
    let kept: Set<string>;
    try {
      live = await this.api.readIdentities(type, ids);
      kept =
        (await req.heldElsewhere?.(
          [...live.values()].map((record) => ({
            crmId: record.id,
            ids: [record.id, ...record.mergedIds],
          })),
        )) ?? new Set<string>();
    } catch (caught) {
      const error = asCrmError(caught);
      return ids.map((crmId) => ({ crmId, status: 'deleted', error }));
    }
    const results: CrmBatchDeleteResult[] = [];
    const archive = ids.filter((id) => live.has(id) && !kept.has(id));
    for (const id of ids)
      if (kept.has(id)) results.push({ crmId: id, status: 'kept' });
    if (archive.length) {
      try {
        await this.api.archiveMany(type, archive);
        for (const id of archive)
          results.push({ crmId: id, status: 'deleted' });
      } catch (caught) {
        const error = asCrmError(caught);
        for (const id of archive)
          results.push({ crmId: id, status: 'deleted', error });
      }
    }
    const unanswered = ids.filter((id) => !live.has(id));
    await mapLimited(unanswered, this.concurrency, async (crmId) => {
      let held = false;
      try {
        const existed = await this.single({
          objectType: type,
          crmId,
          heldElsewhere: async (all) =>
            (held = !!(await req.heldElsewhere?.([{ crmId, ids: all }]))?.has(
              crmId,
            )),
        });
        results.push({
          crmId,
          status: held ? 'kept' : existed ? 'deleted' : 'not_found',
        });
      } catch (caught) {
        results.push({ crmId, status: 'deleted', error: asCrmError(caught) });
      }
    });
    return results;
  }
}
