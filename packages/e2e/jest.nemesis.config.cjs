// The nemesis suite: a cluster in network namespaces under partitions, kills, pauses and
// clock skew (see docs/testing.md). Root only. Like the end-to-end suite it runs the built
// packages, one run at a time; on top of the pid checks, its global setup leases a subnet
// and its teardown proves that no namespace or link of the run is left.
const e2e = require('./jest.e2e.config.cjs');

module.exports = {
  ...e2e,
  displayName: 'nemesis',
  globalSetup: '<rootDir>/src/nemesis/global-setup.ts',
  globalTeardown: '<rootDir>/src/nemesis/global-teardown.ts',
  testMatch: ['<rootDir>/src/nemesis/**/*.nemesis.ts'],
  testTimeout: 180000,
};
