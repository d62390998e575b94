import { Registry, collectDefaultMetrics } from 'prom-client';
import { readEnv } from '@kaudit/config';
import { createLogger } from '@kaudit/logging';
import { Lifecycle, runUntilSignal } from '@kaudit/runtime';
import { buildSink } from './build-sink.js';
import { loadSinkConfig } from './config.js';

// Composition root of the sink: env → config → logger/registry → buildSink → lifecycle.
const config = loadSinkConfig(readEnv());
const logger = createLogger({ service: 'sink', level: config.logLevel });
const registry = new Registry();
// Process metrics belong to the process, not to the service (tests and the bench build several in one).
collectDefaultMetrics({ register: registry });
const { components } = buildSink(config, { logger, registry });
const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
lifecycle.add(...components);
await runUntilSignal(lifecycle, process, logger);
