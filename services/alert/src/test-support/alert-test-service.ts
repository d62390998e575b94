import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaAdmin } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, uniqueName } from '@kaudit/testkit';

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
