/**
 * Two projects: fast unit specs beside the code, e2e specs against the real services.
 *
 * ETLIFY_TYPEORM=1 runs everything against TypeORM 1.x (installed beside 0.3 as the `typeorm-1`
 * npm alias): every `typeorm` import, ours and @nestjs/typeorm's, then resolves to it.
 */
const typeorm1 = process.env.ETLIFY_TYPEORM === '1';
if (typeorm1) {
  // The processes tests start (workers, the CLI, the sample) inherit the switch.
  const hook = require('node:path').join(
    __dirname,
    'test/support/typeorm-1.hook.js',
  );
  if (!(process.env.NODE_OPTIONS ?? '').includes(hook))
    process.env.NODE_OPTIONS =
      `${process.env.NODE_OPTIONS ?? ''} --require ${hook}`.trim();
}

const base = {
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Node, plus: an unhandled promise rejection anywhere in a suite fails it.
  testEnvironment: '<rootDir>/test/support/strict-node.environment.js',
  moduleNameMapper: {
    '^nestjs-etlify$': '<rootDir>/lib/index.ts',
    '^nestjs-etlify/testing$': '<rootDir>/lib/testing/index.ts',
    ...(typeorm1
      ? {
          '^typeorm$': '<rootDir>/node_modules/typeorm-1',
          '^typeorm/(.*)$': '<rootDir>/node_modules/typeorm-1/$1',
        }
      : {}),
  },
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/lib/**/*.spec.ts', '<rootDir>/schematics/**/*.spec.ts'] },
    { ...base, displayName: 'e2e', rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
  testTimeout: 60000,
};
