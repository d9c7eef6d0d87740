import type { ModulePartsBuilder } from '../module-parts.interface';

/** Imports and providers the stale feature adds to EtlifyModule. */
export const staleModuleParts: ModulePartsBuilder = () => ({});
