import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type OutgoingRecord, type Producer } from '@kaudit/kafka';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { produceEnriched } from '../test-support/enriched-producer.js';
import { alertTestTopics, createAlertTestTopics, startAlertInProcess } from '../test-support/alert-test-service.js';
import { caughtUp } from '../test-support/caught-up.js';

/** Every record is its own alert (no dedup window): each must reach the alerts topic exactly once. */
const RULES = `rules:
  - { id: deletes, name: Deletes, severity: high, output: "{actor.displayName} deleted {objectRef.name}", match: { field: verb, equals: delete } }
`;
const PARTITIONS = 3;
const PEOPLE = 30;

/**
 * The real producer, except that its first send to `alertsTopic` is held until `release` and then fails without
 * writing anything (as a produce that timed out before reaching the broker): a crash-free way to look at what is
 * committed while alerts are not yet durable.
 */
function failingFirstAlertsSend(producer: Producer, alertsTopic: string, release: Promise<void>): { producer: Producer; held: Promise<readonly OutgoingRecord[]> } {
  let failed = false;
  let entered: (records: readonly OutgoingRecord[]) => void = () => undefined;
  const held = new Promise<readonly OutgoingRecord[]>((resolve) => {
    entered = resolve;
  });
  return {
    held,
    producer: {
      start: () => producer.start(),
      stop: () => producer.stop(),
      async send(topic, records) {
        if (topic === alertsTopic && !failed) {
          failed = true;
          entered(records);
          await release;
          throw new KauditError('KAFKA_UNAVAILABLE', 'injected: the alerts produce failed', { retryable: true });
        }
        return producer.send(topic, records);
      },
    },
  };
}

/**
 * The evaluator makes the batches of several partitions durable in one round (one produce of their alerts, one of
 * their checkpoints). Its guarantee stays per batch: no partition's offset is committed before its alerts are
 * acknowledged, and a failed round loses and repeats nothing — every batch in it is retried.
 */
describe('partitions evaluated together: alerts durable before any offset commits (real Kafka)', () => {
  const logger = silentLogger('durable-round');
  const topics = alertTestTopics();
  const group = uniqueName('alert');
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let stopService: (() => Promise<void>) | undefined;
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held: Promise<readonly OutgoingRecord[]>;
  const base = sampleAuditRecord();
  const deleted = (i: number): AuditRecord => ({
    ...base,
    auditID: `${group}-del-${i}`,
    verb: 'delete',
    operation: 'delete',
    objectRef: { ...base.objectRef, apiGroup: 'apps', resource: 'deployments', name: `web-${i}` },
    actor: { ...base.actor, id: `user:${i}`, displayName: `User ${i}` },
  });

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'durable-round', logger });
    admin = kafka.admin();
    await admin.start();
    await createAlertTestTopics(admin, topics, PARTITIONS);
    producer = kafka.producer();
    await producer.start();
    // Written before the service starts: its first fetch brings every partition's batch at once.
    await produceEnriched(producer, topics.enriched, Array.from({ length: PEOPLE }, (_, i) => deleted(i)));
    const failing = failingFirstAlertsSend(producer, topics.alerts, released);
    held = failing.held;
    const service = await startAlertInProcess({
      kafka,
      producer: failing.producer,
      kafkaBrokers,
      group,
      topics,
      rules: RULES,
      registry: new Registry(),
      logger,
      env: { ALERT_PARTITIONS_CONCURRENTLY: String(PARTITIONS) },
    });
    stopService = service.stop;
  }, 300_000);

  afterAll(async () => {
    release();
    await stopService?.();
    await producer?.stop();
    await admin?.stop();
  });

  it('holds every offset while the round’s alerts are unacknowledged, then delivers each alert exactly once', { timeout: 300_000 }, async () => {
    const perPartition = (await admin.fetchTopicOffsets(topics.enriched)).map((p) => Number(BigInt(p.high) - BigInt(p.low)));
    expect(perPartition.filter((n) => n > 0).length).toBeGreaterThan(1);
    const first = await held;
    // One produce carried the alerts of several partitions' batches (more than any one partition has records).
    expect(first.length).toBeGreaterThan(Math.max(...perPartition));
    // While it is unacknowledged, no partition has committed anything.
    const committed = await admin.fetchCommittedOffsets(group, topics.enriched);
    expect(committed.filter((c) => c.offset !== '-1')).toEqual([]);

    release();
    await caughtUp(admin, group, topics.enriched);
    // Everything on the alerts topic (a repeated alert would be there too), not just the first PEOPLE records.
    const written = (await admin.fetchTopicOffsets(topics.alerts)).reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
    expect(written).toBe(PEOPLE);
    const alerts = (await consumeAll(kafka, topics.alerts, written, 60_000)).map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')));
    const byAudit = new Map<string, number>();
    for (const a of alerts) for (const id of a.auditIDs) byAudit.set(id, (byAudit.get(id) ?? 0) + 1);
    expect([...byAudit.keys()].sort()).toEqual(Array.from({ length: PEOPLE }, (_, i) => `${group}-del-${i}`).sort());
    expect([...byAudit.values()].every((n) => n === 1)).toBe(true);
  });
});
