import { Registry, collectDefaultMetrics } from 'prom-client';
import { readEnv } from '@kaudit/config';
import { createLogger } from '@kaudit/logging';
import { Lifecycle, runUntilSignal } from '@kaudit/runtime';
import { buildIngest } from './build-ingest.js';
import { loadIngestConfig } from './config.js';

// Composition root: the only place that reads the environment; buildIngest wires the concrete clients.
const env = readEnv();
const bootLogger = createLogger({ service: 'ingest', level: env.LOG_LEVEL ?? 'info' });
try {
  const config = loadIngestConfig(env);
  const logger = createLogger({ service: 'ingest', level: config.logLevel });
  const registry = new Registry();
  // Process metrics belong to the process, not to the service (tests and the bench build several in one).
  collectDefaultMetrics({ register: registry });
  const { components } = buildIngest(config, { logger, registry, env });
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
  lifecycle.add(...components);
  await runUntilSignal(lifecycle, process, logger);
  logger.info({ event: 'ingest_stopped' }, 'ingest_stopped');
} catch (err) {
  bootLogger.error({ event: 'startup_failed', err }, 'startup_failed');
  process.exitCode = 1;
}
