import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, DLQ_HEADERS, type KafkaClient, type Producer } from '@kaudit/kafka';
import { consumeAll, pagerdutyEventSchema, silentLogger, slackWebhookSchema, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildAlert, type BuiltAlert } from './build-alert.js';
import { loadAlertConfig, parseNotifiers } from './config.js';
import { loadRuleSources } from './rules/load-rules.js';
import { VendorReceiver } from './notifiers/test-helpers/vendor-receiver.js';
import { produceEnriched } from './test-support/enriched-producer.js';
import type { Component } from '@kaudit/runtime';

const RULES = `rules:
  - id: deploy-deleted
    name: Deployment deleted
    severity: high
    output: "{actor.displayName} deleted {objectRef.resource}/{objectRef.name}"
    match: { all: [{ field: verb, equals: delete }, { field: objectRef.resource, equals: deployments }] }
  - id: exec-into-pod
    name: Exec into pod
    severity: medium
    output: "{actor.displayName} exec'd into {objectRef.namespace}/{objectRef.name}"
    match: { field: operation, equals: exec }
    dedup: { window: 1m, by: [actor.id] }
`;

describe('alert service (real Kafka, real HTTP receivers)', () => {
  const logger = silentLogger('alert-int');
  const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
  const slack = new VendorReceiver({ schema: slackWebhookSchema });
  const pagerduty = new VendorReceiver({ schema: pagerdutyEventSchema, respond: (n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202 }) });
  const broken = new VendorReceiver({ respond: () => ({ status: 503 }) });
  let kafka: KafkaClient;
  let producer: Producer;
  const started: Component[] = [];
  let workers: BuiltAlert['workers'] = [];
  let evaluator: BuiltAlert['evaluator'];

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    const [slackUrl, pdUrl, brokenUrl] = await Promise.all([slack.start(), pagerduty.start(), broken.start()]);
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'alert-int', logger });
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([
      { topic: topics.enriched, partitions: 3 },
      { topic: topics.alerts, partitions: 2 },
      { topic: topics.dlq, partitions: 1 },
    ]);
    await admin.stop();
    producer = kafka.producer();
    await producer.start();
    const config = loadAlertConfig({
      KAFKA_BROKERS: kafkaBrokers,
      ALERT_GROUP_PREFIX: uniqueName('alert'),
      ALERT_ENRICHED_TOPIC: topics.enriched,
      ALERT_ALERTS_TOPIC: topics.alerts,
      ALERT_DLQ_TOPIC: topics.dlq,
      ALERT_STATE_TOPIC: topics.state,
      ALERT_FROM_BEGINNING: 'true',
      ALERT_IDLE_GRACE_MS: '1000',
      ALERT_TICK_MS: '200',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
    });
    const notifiers = parseNotifiers(
      {
        notifiers: [
          { name: 'slack-platform', type: 'slack', webhookUrl: '${SLACK_URL}' },
          { name: 'pd-oncall', type: 'pagerduty', routingKey: 'R0123456789abcdef0123456789abcde', eventsUrl: pdUrl, route: { minSeverity: 'high' } },
          { name: 'siem', type: 'webhook', url: brokenUrl, hmacSecret: 'k', retry: { maxAttempts: 3, initialBackoffMs: 3000, maxBackoffMs: 6000 } },
        ],
      },
      { SLACK_URL: slackUrl },
      'test',
    );
    const { rules, problems } = loadRuleSources([{ file: 'test.yaml', text: RULES }]);
    expect(problems).toEqual([]);
    const registry = new Registry();
    const built = buildAlert(config, { logger, registry, env: {}, kafka, rules, notifiers });
    for (const c of built.components) {
      await c.start();
      started.push(c);
    }
    evaluator = built.evaluator;
    workers = built.workers;
    await evaluator.waitForAssignment();
    await Promise.all(workers.map((w) => w.waitForAssignment()));
  });

  afterAll(async () => {
    for (const c of started.reverse()) await c.stop();
    await producer?.stop();
    await Promise.all([slack.stop(), pagerduty.stop(), broken.stop()]);
  });

  it('alerts reach Kafka and the routed notifiers; 1,000 execs in a minute are exactly two notifications (the first, one follow-up saying 999 more); a dead destination ends in the DLQ without holding the others', async () => {
    const now = Date.now() * 1000;
    const base = sampleAuditRecord();
    const deleted: AuditRecord = {
      ...base,
      auditID: uniqueName('del'),
      requestReceivedUs: now,
      verb: 'delete',
      operation: 'delete',
      objectRef: { ...base.objectRef, resource: 'deployments', name: 'nginx', namespace: 'web' },
    };
    // 1,000 execs by one person spread over the last minute (so the 1-minute dedup window is already due).
    const start = now - 70_000_000;
    const execs: AuditRecord[] = Array.from({ length: 1000 }, (_, i) => ({
      ...base,
      auditID: `${uniqueName('exec')}-${i}`,
      requestReceivedUs: start + i * 59_000,
      verb: 'create',
      operation: 'exec',
      objectRef: { ...base.objectRef, subresource: 'exec' },
    }));
    await produceEnriched(producer, topics.enriched, [...execs, deleted]);
    // Bytes that are not an AuditRecord: dead-lettered with the reason, never dropped or retried forever.
    await producer.send(topics.enriched, [{ key: 'prod-eu-1/x', value: Buffer.from('not avro'), headers: { 'kaudit-schema': 'nope' } }]);

    await slack.waitFor(3);
    // Slack got all three while the broken webhook is still in its backoff (9 s per alert): it holds nobody up.
    expect(broken.arrivals.length).toBeLessThan(6);
    const texts = slack.accepted.map((r) => (r.json as { text: string }).text);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringContaining('Alice Example deleted deployments/nginx'),
        expect.stringMatching(/^MEDIUM: Exec into pod — Alice Example exec'd into default\/web-0$/),
        expect.stringContaining("Follow-up — MEDIUM: Exec into pod — Alice Example exec'd into default/web-0 — and 999 more times in 1 minute"),
      ]),
    );
    expect(texts).toHaveLength(3);
    // PagerDuty routes high and above only; its first answer was a 429 with Retry-After, then it accepted.
    await pagerduty.waitFor(1);
    expect(pagerduty.arrivals).toHaveLength(2);
    expect((pagerduty.arrivals[1] ?? 0) - (pagerduty.arrivals[0] ?? 0)).toBeGreaterThanOrEqual(950);
    expect(pagerduty.accepted[0]?.json).toMatchObject({ event_action: 'trigger', payload: { severity: 'error' } });

    // Three alerts on the alerts topic, valid records with the counts; the follow-up carries the first's id.
    const alerts = (await consumeAll(kafka, topics.alerts, 3)).map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')));
    expect(alerts.map((a) => [a.ruleId, a.count, a.followUp ?? false]).sort()).toEqual([
      ['deploy-deleted', 1, false],
      ['exec-into-pod', 1, false],
      ['exec-into-pod', 1000, true],
    ]);
    expect(new Set(alerts.filter((a) => a.ruleId === 'exec-into-pod').map((a) => a.alertId)).size).toBe(1);

    // The broken webhook: 3 attempts per alert, then each alert is dead-lettered with the reason.
    const dlq = await consumeAll(kafka, topics.dlq, 4, 90_000);
    const undecodable = dlq.filter((d) => d.headers[DLQ_HEADERS.stage]?.toString() === 'decode-avro');
    expect(undecodable.map((d) => [d.value?.toString(), d.headers[DLQ_HEADERS.code]?.toString()])).toEqual([['not avro', 'INPUT_INVALID']]);
    const dead = dlq.filter((d) => d.headers[DLQ_HEADERS.stage]?.toString() !== 'decode-avro');
    expect(dead).toHaveLength(3);
    for (const d of dead) {
      expect(d.headers[DLQ_HEADERS.code]?.toString()).toBe('NOTIFIER_FAILED');
      expect(d.headers[DLQ_HEADERS.stage]?.toString()).toBe('deliver:siem');
      expect(alertRecordSchema.safeParse(JSON.parse(d.value?.toString() ?? '')).success).toBe(true);
    }
    expect(broken.arrivals).toHaveLength(9);
    expect(slack.accepted).toHaveLength(3);
  });
});
