import { setTimeout as sleep } from 'node:timers/promises';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { readEnv } from '@kaudit/config';
import { isKauditError } from '@kaudit/errors';
import { createKafkaClient } from '@kaudit/kafka';
import { createLogger, createTelemetry } from '@kaudit/logging';
import { HealthServer, Lifecycle, runUntilSignal } from '@kaudit/runtime';
import { AlertMetrics } from './alert-metrics.js';
import { buildAlertComponents } from './alert-service.js';
import { loadAlertConfig, loadNotifiers } from './config.js';
import { loadRulesDir } from './rules/load-rules.js';

// Composition root of the alert service: config → rules → logger → clients → lifecycle.
const env = readEnv();
let loaded;
try {
  const config = loadAlertConfig(env);
  loaded = { config, rules: loadRulesDir(config.rules.dir), notifiers: loadNotifiers(config.notifiersFile, env) };
} catch (err) {
  // Bad config or rules: say exactly what (file:line for rules) and exit non-zero, no stack trace.
  process.stderr.write(`alert: ${isKauditError(err) ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(1);
}
const { config, rules, notifiers } = loaded;
const logger = createLogger({ service: 'alert', level: config.logLevel });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const telemetry = createTelemetry(logger, registry, 'alert');
telemetry.emit({ event: 'rules_loaded', fields: { rules: rules.length, dir: config.rules.dir, notifiers: notifiers.map((n) => `${n.type}:${n.name}`) } });

const kafka = createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger });
// Alerts, window checkpoints and dead letters with the codec every producer uses (KAFKA_COMPRESSION).
const producer = kafka.producer({ compression: config.kafka.compression });
const { components } = buildAlertComponents({
  config,
  rules,
  notifiers,
  kafka,
  producer,
  logger,
  telemetry,
  metrics: new AlertMetrics(registry),
  fetch: globalThis.fetch,
  nowMs: Date.now,
  sleep: (ms) => sleep(ms),
});

const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
lifecycle.add({ name: 'producer', start: () => producer.start(), stop: () => producer.stop() });
for (const component of components) lifecycle.add(component);
// Health last: /readyz answers only once state is restored and every consumer runs.
lifecycle.add(new HealthServer({ host: config.http.host, port: config.http.port, registry, readiness: [] }));

await runUntilSignal(lifecycle, process, logger);
