import { Registry, collectDefaultMetrics } from 'prom-client';
import { readEnv } from '@kaudit/config';
import { isKauditError } from '@kaudit/errors';
import { createLogger, type Logger } from '@kaudit/logging';
import { Lifecycle, runUntilSignal } from '@kaudit/runtime';
import { buildAlert } from './build-alert.js';
import { loadAlertConfig } from './config.js';

// Composition root of the alert service: env → config → logger/registry → buildAlert (rules, clients) → lifecycle.
const env = readEnv();
let built: { logger: Logger; lifecycle: Lifecycle };
try {
  const config = loadAlertConfig(env);
  const logger = createLogger({ service: 'alert', level: config.logLevel });
  const registry = new Registry();
  // Process metrics belong to the process, not to the service (tests and the bench build several in one).
  collectDefaultMetrics({ register: registry });
  const { components } = buildAlert(config, { logger, registry, env });
  built = { logger, lifecycle: new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...components) };
} catch (err) {
  // Bad config or rules: say exactly what (file:line for rules) and exit non-zero, no stack trace.
  process.stderr.write(`alert: ${isKauditError(err) ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(1);
}
await runUntilSignal(built.lifecycle, process, built.logger);
