import { EtlifyConfigurationError } from './errors/etlify-configuration.error';

/**
 * nestjs-etlify ships a CommonJS build and an ES module build. Nest tells modules and providers
 * apart by class identity, and the entity registry is module state, so one process must never run
 * both copies: `require('nestjs-etlify')` in one file and `import` in another would give two
 * EtlifyModule classes that do not know each other's providers or entities. Each entry claims its
 * format on load; the second format to load fails here, before it can be half-wired.
 */
export type EtlifyModuleFormat = 'commonjs' | 'module';

const CLAIM = Symbol.for('nestjs-etlify.module-format');

/** The format of this copy; scripts/build-esm.js sets it to 'module' in the ES module build. */
export const MODULE_FORMAT = 'commonjs' as EtlifyModuleFormat;

export function claimModuleFormat(
  format: EtlifyModuleFormat = MODULE_FORMAT,
): void {
  const registry = globalThis as { [CLAIM]?: EtlifyModuleFormat };
  const loaded = registry[CLAIM];
  if (loaded === undefined) {
    registry[CLAIM] = format;
    return;
  }
  if (loaded === format) return;
  throw new EtlifyConfigurationError(
    `nestjs-etlify was loaded twice in one process: first as ${describe(loaded)}, now as ${describe(format)}. ` +
      'Two copies would give two EtlifyModule classes that cannot share providers or entities. ' +
      'Load it one way everywhere: `import` from ES modules (files of a "type": "module" package, .mjs, ' +
      'or TypeScript compiled to ESM) or `require` from CommonJS, and do not mix `await import()` with `require()`.',
  );
}

function describe(format: EtlifyModuleFormat): string {
  return format === 'module' ? 'an ES module (import)' : 'CommonJS (require)';
}
