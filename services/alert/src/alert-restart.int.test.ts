import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { type ServiceProcess, silentLogger, slackWebhookSchema, testEndpoints, uniqueName } from '@kaudit/testkit';
import { VendorReceiver } from './notifiers/test-helpers/vendor-receiver.js';
import { produceEnriched } from './test-support/enriched-producer.js';
import { alertTestService, alertTestTopics, createAlertTestTopics } from './test-support/alert-test-service.js';
import { caughtUp } from './test-support/caught-up.js';

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


describe('alert service killed mid-window (SIGKILL, real Kafka)', () => {
  const logger = silentLogger('alert-restart');
  const topics = alertTestTopics();
  const group = uniqueName('alert');
  const slack = new VendorReceiver({ schema: slackWebhookSchema });
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let service: ServiceProcess;

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    const slackUrl = await slack.start();
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'alert-restart', logger });
    admin = kafka.admin();
    await admin.start();
    await createAlertTestTopics(admin, topics);
    producer = kafka.producer();
    await producer.start();
    service = await alertTestService({
      kafkaBrokers,
      group,
      topics,
      rules: RULES,
      notifiers: `notifiers:\n  - { name: slack, type: slack, webhookUrl: "${slackUrl}", rateLimit: { perSecond: 20, burst: 5 } }\n`,
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

    // Before the crash: an immediate alert, the first read (both delivered at once) and 299 more
    // reads inside the open 30 s window.
    await produceEnriched(producer, topics.enriched, [deleted, ...Array.from({ length: 300 }, (_, i) => read(i))]);
    await slack.waitFor(2);
    await caughtUp(admin, group, topics.enriched);
    await caughtUp(admin, `${group}-deliver-slack`, topics.alerts);
    await service.kill();

    // While it is down, 200 more reads of the same window arrive.
    await produceEnriched(producer, topics.enriched, Array.from({ length: 200 }, (_, i) => read(300 + i)));
    await service.start();
    // The restarted process did not start the window afresh: it restored it from the checkpoint.
    await expect.poll(() => readFileSync(service.logFile, 'utf8'), { timeout: 60_000 }).toContain('"event":"window_state_restored"');

    // The window closes 30 s after its first event: one follow-up counting all 500.
    await slack.waitFor(3);
    await caughtUp(admin, group, topics.enriched);
    await caughtUp(admin, `${group}-deliver-slack`, topics.alerts);
    const texts = slack.accepted.map((r) => (r.json as { text: string }).text);
    expect(texts).toHaveLength(3);
    // The first two were sent before the crash, in either order (their ids hash to different alerts partitions).
    expect(texts.slice(0, 2)).toEqual(expect.arrayContaining([expect.stringContaining('Alice Example deleted deployments/nginx'), 'HIGH: Secrets read — Alice Example read secrets']));
    expect(texts[2]).toBe('Follow-up — HIGH: Secrets read — Alice Example read secrets — and 499 more times in 30 seconds');
    expect(slack.rejected).toEqual([]);
  });
});
