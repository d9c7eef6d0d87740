import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { CrmRegistry } from '../registry/crm.registry';
import type { SyncEngine } from '../sync/sync-engine.service';

/**
 * The configuration and id a caller names: an entity instance, or `[EntityClass, id]` where the
 * class may also be given by name (the CLI's `Contact 42`).
 */
export function resolveEntityConfig(
  registry: CrmRegistry,
  engine: SyncEngine,
  ref: object | [Function | string, string | number],
  crm?: string,
): { config: EntitySyncConfig; id: string } {
  if (Array.isArray(ref)) {
    const [target, id] = ref;
    if (id === undefined || id === null || id === '')
      throw new TypeError('pass [EntityClass, id] with an id');
    return {
      config: registry.getEntityConfig(entityClass(registry, target), crm),
      id: String(id),
    };
  }
  if (!ref || typeof ref !== 'object')
    throw new TypeError('pass an entity instance or [EntityClass, id]');
  const config = registry.getEntityConfig(ref.constructor, crm);
  return { config, id: engine.resourceId(config, ref) };
}

/** An etlified entity class from the class itself or its name. */
export function entityClass(
  registry: CrmRegistry,
  target: Function | string,
): Function {
  if (typeof target === 'function') return target;
  const config = registry
    .getEntityConfigs()
    .find((c) => c.resourceType === target);
  if (!config) {
    const known = [
      ...new Set(registry.getEntityConfigs().map((c) => c.resourceType)),
    ];
    throw new Error(
      `"${target}" is not an etlified entity; known: ${known.join(', ') || '(none)'}`,
    );
  }
  return config.target;
}
