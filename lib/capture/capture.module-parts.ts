import type { ModulePartsBuilder } from '../module-parts.interface';

/** Imports and providers the capture feature adds to EtlifyModule. */
export const captureModuleParts: ModulePartsBuilder = () => ({});
