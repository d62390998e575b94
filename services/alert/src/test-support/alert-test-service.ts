import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { KauditError } from '@kaudit/errors';
import type { KafkaAdmin, KafkaClient, Producer } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, uniqueName } from '@kaudit/testkit';
import { buildAlert, type BuiltAlert } from '../build-alert.js';
import { loadAlertConfig } from '../config.js';
import { loadRuleSources } from '../rules/load-rules.js';

export interface AlertTestTopics {
  enriched: string;
  alerts: string;
  dlq: string;
  state: string;
}

export function alertTestTopics(): AlertTestTopics {
  return { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
}

/** Creates the input, alerts and DLQ topics (the service creates its state topic itself). */
export async function createAlertTestTopics(admin: KafkaAdmin, topics: AlertTestTopics, partitions = 2): Promise<void> {
  await admin.ensureTopics([
    { topic: topics.enriched, partitions },
    { topic: topics.alerts, partitions },
    { topic: topics.dlq, partitions: 1 },
  ]);
}

/**
 * The alert service as a real child process (so a test can SIGKILL it) on its own topics and
 * group, with the given rules file and optional notifiers file, debug logs and fast idle flushes.
 */
export async function alertTestService(o: { kafkaBrokers: string; group: string; topics: AlertTestTopics; rules: string; notifiers?: string }): Promise<ServiceProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kaudit-alert-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'rules.yaml'), o.rules);
  if (o.notifiers !== undefined) writeFileSync(join(dir, 'notifiers.yaml'), o.notifiers);
  return new ServiceProcess({
    service: 'alert',
    httpPort: await freePort(),
    logDir: join(dir, 'logs'),
    env: {
      KAFKA_BROKERS: o.kafkaBrokers,
      ALERT_GROUP_PREFIX: o.group,
      ALERT_ENRICHED_TOPIC: o.topics.enriched,
      ALERT_ALERTS_TOPIC: o.topics.alerts,
      ALERT_DLQ_TOPIC: o.topics.dlq,
      ALERT_STATE_TOPIC: o.topics.state,
      ALERT_FROM_BEGINNING: 'true',
      ALERT_RULES_DIR: join(dir, 'rules'),
      ...(o.notifiers === undefined ? {} : { ALERT_NOTIFIERS_FILE: join(dir, 'notifiers.yaml') }),
      ALERT_IDLE_GRACE_MS: '1000',
      ALERT_TICK_MS: '200',
      LOG_LEVEL: 'debug',
    },
  });
}

/**
 * The alert service built in-process exactly as main.ts builds it (buildAlert), on its own topics and
 * group, with the caller's producer (started by the caller), started; `stop()` stops it in reverse order.
 */
export async function startAlertInProcess(o: {
  kafka: KafkaClient;
  producer: Producer;
  kafkaBrokers: string;
  group: string;
  topics: AlertTestTopics;
  rules: string;
  registry: Registry;
  logger: Logger;
  env?: Record<string, string>;
}): Promise<{ built: BuiltAlert; stop: () => Promise<void> }> {
  const config = loadAlertConfig({
    KAFKA_BROKERS: o.kafkaBrokers,
    ALERT_GROUP_PREFIX: o.group,
    ALERT_ENRICHED_TOPIC: o.topics.enriched,
    ALERT_ALERTS_TOPIC: o.topics.alerts,
    ALERT_DLQ_TOPIC: o.topics.dlq,
    ALERT_STATE_TOPIC: o.topics.state,
    ALERT_FROM_BEGINNING: 'true',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    ...o.env,
  });
  const { rules, problems } = loadRuleSources([{ file: 'test.yaml', text: o.rules }]);
  if (problems.length > 0) throw new KauditError('CONFIG_INVALID', `test rules: ${JSON.stringify(problems)}`);
  const built = buildAlert(config, { logger: o.logger, registry: o.registry, env: {}, kafka: o.kafka, producer: o.producer, rules, notifiers: [] });
  const started: Component[] = [];
  for (const c of built.components) {
    await c.start();
    started.push(c);
  }
  await built.evaluator.waitForAssignment(60_000);
  return {
    built,
    stop: async () => {
      for (const c of started.reverse()) await c.stop();
    },
  };
}
