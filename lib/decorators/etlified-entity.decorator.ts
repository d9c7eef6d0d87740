import { ETLIFIED_ENTITY_METADATA } from '../etlify.constants';
import type { EtlifiedEntityOptions } from '../interfaces/etlified-entity-options.interface';

/** Every class that carries @EtlifiedEntity, so boot can tell decorated-but-unregistered entities. */
export const etlifiedEntityClasses = new Set<Function>();

/**
 * Declares that a TypeORM entity is mirrored into a CRM. Repeatable: one decorator per CRM.
 * Only stores metadata; `EtlifyExplorer` reads it at boot through `EtlifyMetadataAccessor`.
 */
export function EtlifiedEntity<T = any>(
  options: EtlifiedEntityOptions<T>,
): ClassDecorator {
  return (target) => {
    const own: EtlifiedEntityOptions[] =
      Reflect.getOwnMetadata(ETLIFIED_ENTITY_METADATA, target) ?? [];
    // Decorators apply bottom-up; unshift keeps the declaration order.
    Reflect.defineMetadata(
      ETLIFIED_ENTITY_METADATA,
      [{ ...options }, ...own],
      target,
    );
    etlifiedEntityClasses.add(target);
  };
}
