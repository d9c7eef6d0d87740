import { Inject } from '@nestjs/common';
import { CRM_ADAPTER_TOKEN_PREFIX } from '../etlify.constants';

/** Token under which EtlifyModule provides the adapter of one CRM (one per `crms[].name`). */
export function getCrmAdapterToken(crmName: string): string {
  return `${CRM_ADAPTER_TOKEN_PREFIX}${crmName}`;
}

/** Injects the adapter instance of the named CRM, e.g. to call it directly. */
export function InjectCrmAdapter(
  crmName: string,
): ParameterDecorator & PropertyDecorator {
  return Inject(getCrmAdapterToken(crmName));
}
