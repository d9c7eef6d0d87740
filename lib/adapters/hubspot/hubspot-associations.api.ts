import { CrmError } from '../../errors/crm.error';
import type {
  CrmAssociateRequest,
  CrmAssociationInput,
  CrmAssociationLabel,
  CrmAssociationResult,
  CrmDisassociateRequest,
} from '../../interfaces/crm-association.interface';
import { chunk, mapLimited } from './hubspot-batch.util';
import {
  batchItemError,
  type HubspotBatchErrorItem,
} from './hubspot-errors.util';
import type { HubspotHttpClient } from './hubspot-http.client';

/** Associations v4 details and labels (`/crm/v4/associations/{from}/{to}/…`). */
export const HUBSPOT_ASSOCIATIONS_PATH = '/crm/v4/associations';
/** HubSpot's limit of batch create / associate / archive inputs. */
export const HUBSPOT_MAX_ASSOCIATION_INPUTS = 2_000;

interface AssociationBatchResponse {
  results?: Array<{
    fromObjectId?: string | number;
    toObjectId?: string | number;
    from?: { id?: string | number };
    to?: { id?: string | number };
  }>;
  errors?: HubspotBatchErrorItem[];
}

const pairKey = (fromId: string, toId: string) => `${fromId}\u0000${toId}`;

/**
 * HubSpot associations through the v4 batch endpoints: up to 2,000 pairs per call, one result
 * per pair (207 per-input errors are mapped to their pair, never lost), results in any order.
 */
export class HubspotAssociationsApi {
  constructor(
    private readonly client: HubspotHttpClient,
    private readonly concurrency: number,
  ) {}

  async associate(req: CrmAssociateRequest): Promise<CrmAssociationResult[]> {
    const labelled = req.inputs.filter((i) => i.types.length > 0);
    const unlabeled = req.inputs.filter((i) => i.types.length === 0);
    const jobs = [
      ...chunk(labelled, HUBSPOT_MAX_ASSOCIATION_INPUTS).map((part) => ({
        part,
        action: 'create',
        body: {
          inputs: part.map((i) => ({
            from: { id: i.fromId },
            to: { id: i.toId },
            types: i.types.map((t) => ({
              associationCategory: t.category,
              associationTypeId: t.typeId,
            })),
          })),
        },
      })),
      ...chunk(unlabeled, HUBSPOT_MAX_ASSOCIATION_INPUTS).map((part) => ({
        part,
        action: 'associate/default',
        body: {
          inputs: part.map((i) => ({
            from: { id: i.fromId },
            to: { id: i.toId },
          })),
        },
      })),
    ];
    const out: CrmAssociationResult[] = [];
    await mapLimited(jobs, this.concurrency, async ({ part, action, body }) => {
      out.push(...(await this.send(req, action, part, body)));
    });
    return out;
  }

  async disassociate(
    req: CrmDisassociateRequest,
  ): Promise<CrmAssociationResult[]> {
    const out: CrmAssociationResult[] = [];
    const path = this.path(
      req.fromObjectType,
      req.toObjectType,
      'batch/archive',
    );
    await mapLimited(
      chunk(req.inputs, HUBSPOT_MAX_ASSOCIATION_INPUTS),
      this.concurrency,
      async (part) => {
        const byFrom = new Map<string, string[]>();
        for (const { fromId, toId } of part) {
          byFrom.set(fromId, [...(byFrom.get(fromId) ?? []), toId]);
        }
        try {
          await this.client.request({
            method: 'POST',
            path,
            body: {
              inputs: [...byFrom].map(([fromId, toIds]) => ({
                from: { id: fromId },
                to: toIds.map((id) => ({ id })),
              })),
            },
          });
          out.push(...part.map(({ fromId, toId }) => ({ fromId, toId })));
        } catch (error) {
          out.push(
            ...part.map(({ fromId, toId }) => ({
              fromId,
              toId,
              error: asCrmError(error),
            })),
          );
        }
      },
    );
    return out;
  }

  async labels(
    fromObjectType: string,
    toObjectType: string,
  ): Promise<CrmAssociationLabel[]> {
    const response = await this.client.request<{
      results?: Array<{
        category?: string;
        typeId?: number;
        label?: string | null;
      }>;
    }>({
      method: 'GET',
      path: this.path(fromObjectType, toObjectType, 'labels'),
    });
    return (response.data?.results ?? [])
      .filter((r) => typeof r.typeId === 'number')
      .map((r) => ({
        typeId: r.typeId!,
        category: (r.category ??
          'HUBSPOT_DEFINED') as CrmAssociationLabel['category'],
        label: r.label ?? null,
      }));
  }

  private async send(
    req: CrmAssociateRequest,
    action: string,
    part: CrmAssociationInput[],
    body: unknown,
  ): Promise<CrmAssociationResult[]> {
    const path = this.path(
      req.fromObjectType,
      req.toObjectType,
      `batch/${action}`,
    );
    let data: AssociationBatchResponse;
    let correlationId: string | undefined;
    try {
      const response = await this.client.request<AssociationBatchResponse>({
        method: 'POST',
        path,
        body,
      });
      data = response.data ?? {};
      correlationId = response.correlationId;
    } catch (error) {
      // The whole batch was refused (a type of another pair, a malformed input): every pair fails.
      return part.map((i) => ({
        fromId: i.fromId,
        toId: i.toId,
        error: asCrmError(error),
      }));
    }
    const done = new Set<string>();
    for (const r of data.results ?? []) {
      const fromId = r.fromObjectId ?? r.from?.id;
      const toId = r.toObjectId ?? r.to?.id;
      if (fromId !== undefined && toId !== undefined)
        done.add(pairKey(String(fromId), String(toId)));
    }
    const failed = new Map<string, CrmError>();
    for (const item of data.errors ?? []) {
      const error = batchItemError(item, {
        method: 'POST',
        path,
        correlationId,
      });
      const froms = item.context?.fromObjectId ?? [];
      const tos = item.context?.toObjectId ?? [];
      const ids = new Set(item.context?.ids ?? []);
      for (const i of part) {
        const named =
          (froms.includes(i.fromId) &&
            (tos.length === 0 || tos.includes(i.toId))) ||
          ids.has(i.fromId) ||
          ids.has(i.toId);
        if (named) failed.set(pairKey(i.fromId, i.toId), error);
      }
    }
    return part.map((i) => {
      const key = pairKey(i.fromId, i.toId);
      const error =
        failed.get(key) ??
        (done.has(key)
          ? undefined
          : new CrmError(
              `HubSpot returned no result for the association ${i.fromId} → ${i.toId}`,
              { retryable: true },
            ));
      return { fromId: i.fromId, toId: i.toId, ...(error ? { error } : {}) };
    });
  }

  private path(from: string, to: string, rest: string): string {
    return `${HUBSPOT_ASSOCIATIONS_PATH}/${encodeURIComponent(from)}/${encodeURIComponent(to)}/${rest}`;
  }
}

function asCrmError(error: unknown): CrmError {
  return error instanceof CrmError
    ? error
    : new CrmError(error instanceof Error ? error.message : String(error));
}
