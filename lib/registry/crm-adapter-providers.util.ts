import type { DynamicModule, Provider } from '@nestjs/common';
import { getCrmAdapterToken } from '../decorators/inject-crm-adapter.decorator';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import { ETLIFY_MODULE_OPTIONS_TOKEN } from '../etlify.constants';
import type { CrmAdapter } from '../interfaces/crm-adapter.interface';
import type { EtlifyModuleOptions } from '../interfaces/etlify-options.interface';

/** The CRM names of `crms` as given (the options are validated at init, not here). */
export function crmNamesOf(crms: unknown): string[] {
  if (!Array.isArray(crms)) return [];
  return crms
    .map((crm: { name?: unknown } | null) => crm?.name)
    .filter((name): name is string => typeof name === 'string');
}

/**
 * The adapter the user passed for `name`, read from the raw options: validating them here would
 * move option errors from `app.init()` to module compilation.
 */
function adapterOf(options: EtlifyModuleOptions, name: string): CrmAdapter {
  const crms = Array.isArray(options?.crms) ? options.crms : [];
  const crm = crms.find((c) => c?.name === name);
  if (!crm) {
    throw new EtlifyConfigurationError(
      `EtlifyModule option crmNames lists "${name}", which is not among the CRMs of the options (${crmNamesOf(crms).join(', ') || 'none'}): list the names the forRootAsync factory returns`,
    );
  }
  return crm.adapter;
}

/** Providers for @InjectCrmAdapter(name): one per CRM this module registers. */
export function withAdapters(
  module: DynamicModule,
  names: string[],
): DynamicModule {
  const providers: Provider[] = [...new Set(names)].map((name) => ({
    provide: getCrmAdapterToken(name),
    useFactory: (options: EtlifyModuleOptions) => adapterOf(options, name),
    inject: [ETLIFY_MODULE_OPTIONS_TOKEN],
  }));
  return {
    ...module,
    providers: [...(module.providers ?? []), ...providers],
    exports: [
      ...(module.exports ?? []),
      ...providers.map((p) => (p as { provide: string }).provide),
    ],
  };
}
