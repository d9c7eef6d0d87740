import { EtlifyConfigurationError } from './errors/etlify-configuration.error';
import { claimModuleFormat, MODULE_FORMAT } from './module-format.util';

const CLAIM = Symbol.for('nestjs-etlify.module-format');
const registry = globalThis as Record<symbol, unknown>;

describe('claimModuleFormat', () => {
  let before: unknown;
  beforeEach(() => {
    before = registry[CLAIM];
    delete registry[CLAIM];
  });
  afterEach(() => {
    registry[CLAIM] = before;
  });

  it('sources and the CommonJS build claim commonjs', () => {
    expect(MODULE_FORMAT).toBe('commonjs');
  });

  it('lets the same format load again (a second entry, or Jest re-evaluating modules)', () => {
    claimModuleFormat('commonjs');
    expect(() => claimModuleFormat('commonjs')).not.toThrow();
  });

  it.each([
    [
      'commonjs',
      'module',
      /first as CommonJS \(require\), now as an ES module/,
    ],
    ['module', 'commonjs', /first as an ES module \(import\), now as CommonJS/],
  ] as const)(
    'refuses %s then %s, naming both and the fix',
    (first, second, message) => {
      claimModuleFormat(first);
      expect(() => claimModuleFormat(second)).toThrow(EtlifyConfigurationError);
      expect(() => claimModuleFormat(second)).toThrow(message);
      expect(() => claimModuleFormat(second)).toThrow(
        /Load it one way everywhere/,
      );
    },
  );
});
