import { Registry, collectDefaultMetrics } from 'prom-client';
import { readEnv } from '@kaudit/config';
import { createKafkaClient } from '@kaudit/kafka';
import { createLogger, createTelemetry } from '@kaudit/logging';
import { Lifecycle, runUntilSignal } from '@kaudit/runtime';
import { loadIngestConfig } from './config.js';
import { buildIngestService } from './ingest-service.js';

// Composition root: the only place that reads the environment and wires concrete clients.
const env = readEnv();
const bootLogger = createLogger({ service: 'ingest', level: env.LOG_LEVEL ?? 'info' });
try {
  const config = loadIngestConfig(env);
  const logger = createLogger({ service: 'ingest', level: config.logLevel });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const telemetry = createTelemetry(logger, registry, 'ingest');
  const kafka = createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger });
  const service = buildIngestService({ config, env, kafka, registry, telemetry });
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
  for (const component of service.components) lifecycle.add(component);
  await runUntilSignal(lifecycle, process, logger);
  logger.info({ event: 'ingest_stopped' }, 'ingest_stopped');
} catch (err) {
  bootLogger.error({ event: 'startup_failed', err }, 'startup_failed');
  process.exitCode = 1;
}
