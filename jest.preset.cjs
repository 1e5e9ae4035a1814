// Shared by every package's jest.config.cjs. Specs run TypeScript through ts-jest in
// transpile-only mode (types are checked by the `typecheck` target), and workspace
// packages resolve to their sources through the `@kv/source` export condition, so a
// test never needs its dependencies built first.
module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: {
    customExportConditions: ['@kv/source', 'node', 'require', 'default'],
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  coverageDirectory: 'test-output/coverage',
  testTimeout: 20000,
};
