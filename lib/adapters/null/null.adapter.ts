import { randomUUID } from 'node:crypto';
import { CrmValidationError } from '../../errors/crm.error';
import type {
  CrmAdapter,
  CrmBatchUpsertRequest,
  CrmBatchUpsertResult,
  CrmDeleteRequest,
  CrmUpsertRequest,
} from '../../interfaces/crm-adapter.interface';

/**
 * Talks to no CRM: returns the `idProperty` value (or the known / a generated id) as the CRM id.
 * Useful in development and for CRMs that are switched off per environment.
 */
export class NullAdapter implements CrmAdapter {
  async upsert(req: CrmUpsertRequest): Promise<string> {
    if (req.crmId) return req.crmId;
    if (req.idProperty) {
      const value = req.payload[req.idProperty];
      if (
        value === undefined ||
        value === null ||
        String(value).trim() === ''
      ) {
        // A real CRM cannot match a record on a blank value either.
        throw new CrmValidationError(
          `Property "${req.idProperty}" is blank; it is needed to match the ${req.objectType} record`,
          { category: 'VALIDATION_ERROR' },
        );
      }
      return String(value);
    }
    return randomUUID();
  }

  async delete(_req: CrmDeleteRequest): Promise<boolean> {
    return true;
  }

  async batchUpsert(
    req: CrmBatchUpsertRequest,
  ): Promise<CrmBatchUpsertResult[]> {
    return Promise.all(
      req.records.map(async (record) => {
        try {
          const crmId = await this.upsert({
            objectType: req.objectType,
            payload: record.payload,
            idProperty: req.idProperty || undefined,
            crmId: record.crmId,
          });
          return { key: record.key, crmId };
        } catch (error) {
          return { key: record.key, error: error as CrmValidationError };
        }
      }),
    );
  }
}
