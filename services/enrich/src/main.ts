import { Registry, collectDefaultMetrics } from 'prom-client';
import { readEnv } from '@kaudit/config';
import { createKafkaClient } from '@kaudit/kafka';
import { createLogger } from '@kaudit/logging';
import { runUntilSignal } from '@kaudit/runtime';
import { loadEnrichConfig } from './config.js';
import { createEnrichService } from './enrich-service.js';

/** Composition root of the enrich service (`npm start` runs it with KAFKA_BROKERS, HTTP_HOST, HTTP_PORT). */
const config = loadEnrichConfig(readEnv());
const logger = createLogger({ service: 'enrich', level: config.logLevel });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const kafka = createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger });
const service = createEnrichService({ config, kafka, logger, registry });
logger.info({ event: 'enrich_configured', input: config.kafka.inputTopic, output: config.kafka.outputTopic, directoryFile: config.directory.file ?? null, httpDirectory: config.httpDirectory.urlTemplate ?? null }, 'enrich_configured');
await runUntilSignal(service.lifecycle, process, logger);
