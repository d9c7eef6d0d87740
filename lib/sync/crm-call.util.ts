import type { Logger } from '@nestjs/common';
import { SYNC_LEASE_RENEW_MS } from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { RegisteredCrm } from '../interfaces/registered-crm.interface';
import type { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from './redact.util';
import type { SyncStateStore } from './sync-state.store';

/** Resource types mirrored into the same CRM object type as `config` (one id space). */
export function mirrorsOf(
  registry: CrmRegistry,
  config: EntitySyncConfig,
): string[] {
  return registry
    .getEntityConfigs()
    .filter(
      (c) =>
        c.crm === config.crm &&
        c.options.crmObjectType === config.options.crmObjectType,
    )
    .map((c) => c.resourceType);
}

/**
 * Runs a CRM call while renewing the leases taken under `token`: a slow but live call keeps its
 * records, while the leases of a process that died lapse after SYNC_LEASE_MS.
 */
export async function whileLeased<R>(
  store: SyncStateStore,
  token: string,
  logger: Logger,
  call: () => Promise<R>,
): Promise<R> {
  const timer = setInterval(() => {
    store
      .renewLeases(token)
      .catch((error) =>
        logger.warn(`could not renew a lease: ${errorMessage(error)}`),
      );
  }, SYNC_LEASE_RENEW_MS);
  timer.unref();
  try {
    return await call();
  } finally {
    clearInterval(timer);
  }
}

/** Adapters that do not meter themselves (no `attach`) draw one unit per call here. */
export async function acquireBudget(crm: RegisteredCrm): Promise<void> {
  if (crm.rateGovernor && !crm.adapter.attach)
    await crm.rateGovernor.acquire('standard');
}
