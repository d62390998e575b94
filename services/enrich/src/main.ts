import { Registry, collectDefaultMetrics } from 'prom-client';
import { readEnv } from '@kaudit/config';
import { createLogger } from '@kaudit/logging';
import { Lifecycle, runUntilSignal } from '@kaudit/runtime';
import { buildEnrich } from './build-enrich.js';
import { loadEnrichConfig } from './config.js';

/** Composition root of the enrich service (`npm start` runs it with KAFKA_BROKERS, HTTP_HOST, HTTP_PORT). */
const config = loadEnrichConfig(readEnv());
const logger = createLogger({ service: 'enrich', level: config.logLevel });
const registry = new Registry();
// Process metrics belong to the process, not to the service (tests and the bench build several in one).
collectDefaultMetrics({ register: registry });
const { components } = buildEnrich(config, { logger, registry });
const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
lifecycle.add(...components);
await runUntilSignal(lifecycle, process, logger);
