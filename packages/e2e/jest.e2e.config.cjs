// The end-to-end suite runs against built packages (no `@kv/source` condition), as users
// get them, and one file at a time: each starts real processes on free ports. Every
// process is stopped after the test (or file) that started it, and the global teardown
// proves that none survived the run.
module.exports = {
  displayName: 'e2e',
  testEnvironment: '<rootDir>/src/harness/environment.ts',
  globalSetup: '<rootDir>/src/harness/global-setup.ts',
  globalTeardown: '<rootDir>/src/harness/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/src/harness/after-each.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.e2e.ts'],
  testTimeout: 120000,
};
