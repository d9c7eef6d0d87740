import type { ModulePartsBuilder } from '../module-parts.interface';

/** Imports and providers the rate feature adds to EtlifyModule. */
export const rateModuleParts: ModulePartsBuilder = () => ({});
