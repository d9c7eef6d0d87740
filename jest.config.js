/** Two projects: fast unit specs beside the code, e2e specs against the real services. */
const base = {
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  moduleNameMapper: {
    '^nestjs-etlify$': '<rootDir>/lib/index.ts',
    '^nestjs-etlify/testing$': '<rootDir>/lib/testing/index.ts',
  },
};

module.exports = {
  projects: [
    { ...base, displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/lib/**/*.spec.ts', '<rootDir>/schematics/**/*.spec.ts'] },
    { ...base, displayName: 'e2e', rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
  testTimeout: 60000,
};
