import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';

/** `Contact → hubspot: batch of 100 in 412 ms: 97 synced, 2 not_modified, 1 error` */
export function batchLine(
  config: EntitySyncConfig,
  statuses: string[],
  ms: number,
): string {
  const counts = new Map<string, number>();
  for (const status of statuses)
    counts.set(status, (counts.get(status) ?? 0) + 1);
  const parts = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  return `${config.resourceType} → ${config.crm}: batch of ${statuses.length} in ${ms} ms: ${parts || 'nothing to do'}`;
}
