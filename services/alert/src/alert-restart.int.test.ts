import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, silentLogger, slackWebhookSchema, testEndpoints, uniqueName } from '@kaudit/testkit';
import { VendorReceiver } from './notifiers/test-helpers/vendor-receiver.js';
import { produceEnriched } from './test-support/enriched-producer.js';

const RULES = `rules:
  - id: secret-reads
    name: Secrets read
    severity: high
    output: "{actor.displayName} read secrets"
    match: { field: operation, equals: secret-read }
    dedup: { window: 30s, by: [actor.id] }
  - id: deploy-deleted
    name: Deployment deleted
    severity: high
    output: "{actor.displayName} deleted {objectRef.resource}/{objectRef.name}"
    match: { all: [{ field: verb, equals: delete }, { field: objectRef.resource, equals: deployments }] }
`;

/** Waits until the group has committed everything written to the topic (the service processed it all). */
async function caughtUp(admin: KafkaAdmin, group: string, topic: string): Promise<void> {
  for (;;) {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = new Map((await admin.fetchCommittedOffsets(group, topic)).map((c) => [c.partition, BigInt(c.offset)]));
    if (ends.every((e) => BigInt(e.high) === 0n || (committed.get(e.partition) ?? -1n) >= BigInt(e.high))) return;
    await sleep(200);
  }
}

describe('alert service killed mid-window (SIGKILL, real Kafka)', () => {
  const logger = silentLogger('alert-restart');
  const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
  const group = uniqueName('alert');
  const slack = new VendorReceiver({ schema: slackWebhookSchema });
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let service: ServiceProcess;

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    const slackUrl = await slack.start();
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-alert-'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'rules.yaml'), RULES);
    writeFileSync(join(dir, 'notifiers.yaml'), `notifiers:\n  - { name: slack, type: slack, webhookUrl: "${slackUrl}", rateLimit: { perSecond: 20, burst: 5 } }\n`);
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'alert-restart', logger });
    admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([
      { topic: topics.enriched, partitions: 2 },
      { topic: topics.alerts, partitions: 2 },
      { topic: topics.dlq, partitions: 1 },
    ]);
    producer = kafka.producer();
    await producer.start();
    service = new ServiceProcess({
      service: 'alert',
      httpPort: await freePort(),
      logDir: join(dir, 'logs'),
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        ALERT_GROUP_PREFIX: group,
        ALERT_ENRICHED_TOPIC: topics.enriched,
        ALERT_ALERTS_TOPIC: topics.alerts,
        ALERT_DLQ_TOPIC: topics.dlq,
        ALERT_STATE_TOPIC: topics.state,
        ALERT_FROM_BEGINNING: 'true',
        ALERT_RULES_DIR: join(dir, 'rules'),
        ALERT_NOTIFIERS_FILE: join(dir, 'notifiers.yaml'),
        ALERT_IDLE_GRACE_MS: '1000',
        ALERT_TICK_MS: '200',
        LOG_LEVEL: 'debug',
      },
    });
  });

  afterAll(async () => {
    await service?.stop();
    await producer?.stop();
    await admin?.stop();
    await slack.stop();
  });

  it('resumes the open window from its checkpoint and sends every notification exactly once', async () => {
    await service.start();
    const base = sampleAuditRecord();
    const t0 = Date.now() * 1000;
    const read = (i: number): AuditRecord => ({
      ...base,
      auditID: `${group}-read-${i}`,
      requestReceivedUs: t0 + i * 10_000,
      verb: 'get',
      operation: 'secret-read',
      objectRef: { ...base.objectRef, resource: 'secrets', name: `s-${i}` },
    });
    const deleted: AuditRecord = { ...base, auditID: `${group}-del`, requestReceivedUs: t0, verb: 'delete', operation: 'delete', objectRef: { ...base.objectRef, resource: 'deployments', name: 'nginx' } };

    // Before the crash: an immediate alert (delivered) and 300 reads inside an open 30 s window.
    await produceEnriched(producer, topics.enriched, [deleted, ...Array.from({ length: 300 }, (_, i) => read(i))]);
    await slack.waitFor(1);
    await caughtUp(admin, group, topics.enriched);
    await caughtUp(admin, `${group}-deliver-slack`, topics.alerts);
    await service.kill();

    // While it is down, 200 more reads of the same window arrive.
    await produceEnriched(producer, topics.enriched, Array.from({ length: 200 }, (_, i) => read(300 + i)));
    await service.start();
    // The restarted process did not start the window afresh: it restored it from the checkpoint.
    await expect.poll(() => readFileSync(service.logFile, 'utf8'), { timeout: 60_000 }).toContain('"event":"window_state_restored"');

    // The window closes 30 s after its first event: one notification counting all 500.
    await slack.waitFor(2);
    await caughtUp(admin, group, topics.enriched);
    await caughtUp(admin, `${group}-deliver-slack`, topics.alerts);
    const texts = slack.accepted.map((r) => (r.json as { text: string }).text);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('Alice Example deleted deployments/nginx');
    expect(texts[1]).toContain('Alice Example read secrets — 500 times in 30 seconds');
    expect(slack.rejected).toEqual([]);
  });
});
