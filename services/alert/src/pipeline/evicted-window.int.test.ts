import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { alertTestTopics, createAlertTestTopics, startAlertInProcess } from '../test-support/alert-test-service.js';
import { caughtUp } from '../test-support/caught-up.js';
import { produceEnriched } from '../test-support/enriched-producer.js';

const RULES = `rules:
  - id: exec-into-pod
    name: Exec into pod
    severity: medium
    output: "{actor.displayName} exec'd into {objectRef.namespace}/{objectRef.name}"
    match: { field: operation, equals: exec }
    dedup: { window: 1h, by: [actor.id] }
`;

describe('a dedup window pushed out by ALERT_MAX_GROUPS_PER_RULE (real Kafka)', () => {
  const logger = silentLogger('evicted-window');
  const topics = alertTestTopics();
  const group = uniqueName('alert');
  const registry = new Registry();
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let stopService: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'evicted-window', logger });
    admin = kafka.admin();
    await admin.start();
    await createAlertTestTopics(admin, topics, 1);
    producer = kafka.producer();
    await producer.start();
    stopService = (await startAlertInProcess({ kafka, producer, kafkaBrokers, group, topics, rules: RULES, registry, logger, env: { ALERT_MAX_GROUPS_PER_RULE: '2' } })).stop;
  });

  afterAll(async () => {
    await stopService?.();
    await producer?.stop();
    await admin?.stop();
  });

  it('goes out at once with its count instead of vanishing, and is counted and logged', async () => {
    const base = sampleAuditRecord();
    const t0 = Date.now() * 1000;
    const exec = (person: number, n: number): AuditRecord => ({
      ...base,
      auditID: `${group}-${person}-${n}`,
      requestReceivedUs: t0 + person * 1_000_000 + n,
      verb: 'create',
      operation: 'exec',
      actor: { ...base.actor, id: `user:${person}`, displayName: `User ${person}` },
      objectRef: { ...base.objectRef, subresource: 'exec' },
    });
    // Person 0 execs 4 times, then persons 1 and 2 open windows: the bound (2) pushes person 0's out.
    await produceEnriched(producer, topics.enriched, [exec(0, 0), exec(0, 1), exec(0, 2), exec(0, 3), exec(1, 0), exec(2, 0)]);
    await caughtUp(admin, group, topics.enriched);
    const alerts = (await consumeAll(kafka, topics.alerts, 4, 30_000)).map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')));
    // Each person's first exec alerted at once; person 0's pushed-out window sent its follow-up with all 4.
    expect(alerts.map((a) => [a.actor.id, a.count, a.followUp ?? false])).toEqual([
      ['user:0', 1, false],
      ['user:1', 1, false],
      ['user:0', 4, true],
      ['user:2', 1, false],
    ]);
    const metrics = await registry.getMetricsAsJSON();
    expect(metrics.find((m) => m.name === 'kaudit_alert_groups_evicted_total')?.values).toEqual([{ labels: { rule: 'exec-into-pod', kind: 'dedup' }, value: 1 }]);
    expect(metrics.find((m) => m.name === 'kaudit_events_total')?.values.filter((v) => v.labels.event === 'rule_group_evicted').map((v) => v.value)).toEqual([1]);
  });
});
