import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { silentLogger, slackWebhookSchema, testEndpoints, uniqueName } from '@kaudit/testkit';
import { AlertMetrics } from '../alert-metrics.js';
import { CheckpointStore } from '../pipeline/checkpoint-store.js';
import { sampleAlert } from '../notifiers/test-helpers/sample-alert.js';
import { VendorReceiver } from '../notifiers/test-helpers/vendor-receiver.js';
import type { DestinationWorker } from './destination-worker.js';
import { caughtUp } from '../test-support/caught-up.js';
import { deliveryOutcome, slackDestinationWorker } from '../test-support/slack-destination-worker.js';

const HOUR_MS = 3_600_000;


describe('an alert older than ALERT_MAX_AGE_MS after an outage (real Kafka, real HTTP receiver)', () => {
  const logger = silentLogger('late-alerts');
  const topics = { alerts: uniqueName('alerts'), backlog: uniqueName('backlog'), dlq: uniqueName('dlq'), state: uniqueName('state') };
  const groupPrefix = uniqueName('late');
  const slack = new VendorReceiver({ schema: slackWebhookSchema });
  const registry = new Registry();
  const metrics = new AlertMetrics(registry);
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let slackUrl: string;
  const running: { stop(): Promise<void> }[] = [];

  async function startWorker(name = 'slack', alertsTopic = topics.alerts): Promise<DestinationWorker> {
    const store = new CheckpointStore({ kafka, producer, topic: topics.state, groupPrefix, logger });
    await store.start();
    running.push(store);
    const worker = slackDestinationWorker({ kafka, producer, store, logger, registry, metrics, topics: { alerts: alertsTopic, dlq: topics.dlq }, groupPrefix, name, slackUrl, perSecond: 50, burst: 10, maxAgeMs: HOUR_MS });
    await worker.start();
    running.push(worker);
    await worker.waitForAssignment(60_000);
    return worker;
  }

  async function stopAll(): Promise<void> {
    for (const c of running.splice(0).reverse()) await c.stop();
  }

  async function produceAlerts(alerts: AlertRecord[], topic = topics.alerts): Promise<void> {
    await producer.send(topic, alerts.map((a) => ({ key: a.alertId, value: JSON.stringify(a) })));
  }

  const outcome = (name: string) => deliveryOutcome(registry, name);

  beforeAll(async () => {
    slackUrl = await slack.start();
    kafka = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'late-alerts', logger });
    admin = kafka.admin();
    await admin.start();
    // One partition: "this destination has delivered here before" is then one fact for every alert.
    await admin.ensureTopics([
      { topic: topics.alerts, partitions: 1 },
      { topic: topics.backlog, partitions: 1 },
      { topic: topics.dlq, partitions: 1 },
    ]);
    producer = kafka.producer();
    await producer.start();
  });

  afterAll(async () => {
    await stopAll();
    await producer?.stop();
    await admin?.stop();
    await slack.stop();
  });

  it('is delivered, marked late and by how much, instead of being skipped', async () => {
    const nowUs = Date.now() * 1000;
    // First life of the destination: a current alert is delivered normally.
    await produceAlerts([sampleAlert({ alertId: uniqueName('on-time'), summary: 'on time', createdUs: nowUs })]);
    await startWorker();
    await slack.waitFor(1);
    await caughtUp(admin, `${groupPrefix}-deliver-slack`, topics.alerts);
    await stopAll();

    // The destination worker is down for two hours; an alert created at the start of it waits.
    await produceAlerts([sampleAlert({ alertId: uniqueName('late'), summary: 'Alice Example deleted deployments/nginx in web', createdUs: nowUs - 2 * HOUR_MS * 1000 })]);
    await startWorker();
    await caughtUp(admin, `${groupPrefix}-deliver-slack`, topics.alerts);
    expect(slack.accepted).toHaveLength(2);
    const late = slack.accepted[1]?.json as { text: string; blocks: unknown[] };
    expect(late.text).toMatch(/^LATE by 2h \d+m — /);
    expect(late.text).toContain('Alice Example deleted deployments/nginx in web');
    expect(JSON.stringify(late.blocks)).toContain('*Delivered late*');
    expect(await outcome('delivered_late')).toBe(1);
    expect(await outcome('stale_skipped')).toBe(0);
  });

  it('a destination added later does not page for alerts from before it existed: those are counted and logged, not sent', async () => {
    const nowUs = Date.now() * 1000;
    await produceAlerts(
      [
        sampleAlert({ alertId: uniqueName('last-week'), summary: 'from last week', createdUs: nowUs - 7 * 24 * HOUR_MS * 1000 }),
        sampleAlert({ alertId: uniqueName('recent'), summary: 'recent', createdUs: nowUs - 60_000_000 }),
      ],
      topics.backlog,
    );
    const before = slack.accepted.length;
    await startWorker('slack-added', topics.backlog);
    await caughtUp(admin, `${groupPrefix}-deliver-slack-added`, topics.backlog);
    const texts = slack.accepted.slice(before).map((r) => (r.json as { text: string }).text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('recent');
    expect(await outcome('backlog_skipped')).toBe(1);
    await stopAll();
  });
});
