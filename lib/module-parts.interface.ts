import type { DynamicModule, Provider } from '@nestjs/common';
import type { EtlifyModuleExtras } from './etlify.module-definition';

/** What one feature (queue, capture, stale sweep, rate governors) adds to the dynamic module. */
export interface ModuleParts {
  imports?: NonNullable<DynamicModule['imports']>;
  providers?: Provider[];
  exports?: NonNullable<DynamicModule['exports']>;
}

export type ModulePartsBuilder = (extras: EtlifyModuleExtras) => ModuleParts;
