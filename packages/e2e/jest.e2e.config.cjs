// The end-to-end suite runs against built packages (no `@kv/source` condition), as users
// get them, and one file at a time: each starts real processes on free ports.
module.exports = {
  displayName: 'e2e',
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.e2e.ts'],
  testTimeout: 120000,
};
