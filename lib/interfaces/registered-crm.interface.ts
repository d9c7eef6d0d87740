import type { CrmAdapter } from './crm-adapter.interface';
import type { RateLimitOptions } from './etlify-options.interface';
import type { RateGovernor } from './rate-governor.interface';

/** A CRM from the module options, with its defaults applied and its governor built. */
export interface RegisteredCrm {
  name: string;
  adapter: CrmAdapter;
  enabled: boolean;
  maxSyncErrors: number;
  rateLimit?: RateLimitOptions;
  rateGovernor?: RateGovernor;
}
