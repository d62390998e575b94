import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (x.test.ts, no engines, fast) and `integration` (*.int.test.ts and test/e2e,
 * against the one real Kafka + ClickHouse started by libs/testkit/src/global-setup.ts).
 */
export default defineConfig({
  test: {
    // The machine has 2 cores and the engines need some: at most two test files at a time.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{libs,services,cli}/*/src/**/*.test.ts', 'cli/src/**/*.test.ts', 'deploy/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{libs,services}/*/src/**/*.int.test.ts', 'cli/src/**/*.int.test.ts', 'deploy/src/**/*.int.test.ts', 'test/**/*.test.ts'],
          exclude: ['**/node_modules/**'],
          globalSetup: ['libs/testkit/src/global-setup.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      },
    ],
  },
});
