import { CrmRateLimitError } from '../errors/crm.error';

/**
 * Whether a failure counts toward `maxSyncErrors`. Running out of the CRM's budget — the 10-second
 * window or the daily quota — is not the record's fault, so it never dead-letters a record.
 */
export function countsTowardDeadLetter(error: unknown): boolean {
  return !(error instanceof CrmRateLimitError);
}
