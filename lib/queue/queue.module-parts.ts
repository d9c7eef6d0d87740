import type { ModulePartsBuilder } from '../module-parts.interface';

/** Imports and providers the queue feature adds to EtlifyModule. */
export const queueModuleParts: ModulePartsBuilder = () => ({});
