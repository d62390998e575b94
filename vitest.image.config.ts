import { defineConfig } from 'vitest/config';

/**
 * `npm run image:check` only (not `npm test`): the real `docker build` of the Dockerfile and checks of
 * the built image (deploy/src/built-image.image-check.ts). It needs a Docker engine and takes minutes
 * (a first run also makes the base image with debootstrap), so it is a command of its own; without an
 * engine it fails and says so — it never passes unchecked. Ingest in the image talks to the one real
 * Kafka the testkit's global setup starts.
 */
export default defineConfig({
  test: {
    include: ['deploy/src/**/*.image-check.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['libs/testkit/src/global-setup.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 1,
    minWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 3_600_000,
  },
});
