import type { ModulePartsBuilder } from '../module-parts.interface';
import { RateGovernorFactory } from './rate-governor.factory';

/** Imports and providers the rate feature adds to EtlifyModule. */
export const rateModuleParts: ModulePartsBuilder = () => ({
  providers: [RateGovernorFactory],
});
