// Two projects: fast unit tests beside the code, and integration tests on the real test bed.
import { createDefaultEsmPreset } from 'ts-jest';

const esm = createDefaultEsmPreset({ tsconfig: 'tsconfig.json' });
const shared = {
  ...esm,
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testEnvironment: 'node',
  // The test beds' state (.cache/testbed/run) holds etcd's *.snap files, which jest would take for
  // obsolete snapshots and fail the run for.
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
};

export default {
  maxWorkers: 2,
  // Integration tests wait on a real cluster; their own waits carry tighter, more telling timeouts.
  testTimeout: 60000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: [
        '<rootDir>/operator/src/**/*.test.ts',
        '<rootDir>/serving-image/src/**/*.test.ts',
        '<rootDir>/test/unit/**/*.test.ts',
      ],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
