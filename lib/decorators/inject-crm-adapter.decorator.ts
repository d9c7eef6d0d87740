import { Inject } from '@nestjs/common';
import { CRM_ADAPTER_TOKEN_PREFIX } from '../etlify.constants';

/** CRM names asked for by @InjectCrmAdapter, so EtlifyModule can provide a token for each. */
export const requestedCrmAdapterNames = new Set<string>();

export function getCrmAdapterToken(crmName: string): string {
  return `${CRM_ADAPTER_TOKEN_PREFIX}${crmName}`;
}

/** Injects the adapter instance of the named CRM, e.g. to call it directly. */
export function InjectCrmAdapter(
  crmName: string,
): ParameterDecorator & PropertyDecorator {
  requestedCrmAdapterNames.add(crmName);
  return Inject(getCrmAdapterToken(crmName));
}
