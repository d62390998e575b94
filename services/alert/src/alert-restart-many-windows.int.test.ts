import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeAll, ServiceProcess, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { produceEnriched } from './test-support/enriched-producer.js';

const WINDOW_S = 90;
const RULES = `rules:
  - id: exec-into-pod
    name: Exec into pod
    severity: medium
    output: "{actor.displayName} exec'd into {objectRef.namespace}/{objectRef.name}"
    match: { field: operation, equals: exec }
    dedup: { window: ${WINDOW_S}s, by: [actor.id] }
`;
const PEOPLE = 5000;

/** Waits until the group has committed everything written to the topic (the service processed it all). */
async function caughtUp(admin: KafkaAdmin, group: string, topic: string): Promise<void> {
  for (;;) {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = new Map((await admin.fetchCommittedOffsets(group, topic)).map((c) => [c.partition, BigInt(c.offset)]));
    if (ends.every((e) => BigInt(e.high) === 0n || (committed.get(e.partition) ?? -1n) >= BigInt(e.high))) return;
    await sleep(200);
  }
}

async function topicSize(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(BigInt(p.high) - BigInt(p.low)), 0);
}

/**
 * Restart safety with the incremental checkpoints (issue 12 §3): thousands of open windows, written
 * as a base in pieces plus per-batch deltas, survive a SIGKILL mid-stream; every window closes once,
 * counting every event of both lives.
 */
describe('alert service killed with 5,000 open windows (SIGKILL, real Kafka)', () => {
  const logger = silentLogger('alert-restart-many');
  const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq'), state: uniqueName('state') };
  const group = uniqueName('alert');
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let service: ServiceProcess;

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-alert-many-'));
    mkdirSync(join(dir, 'rules'));
    writeFileSync(join(dir, 'rules', 'rules.yaml'), RULES);
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'alert-restart-many', logger });
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
  });

  it('closes each of 5,000 windows exactly once after the restart, counting the events of both lives', { timeout: 600_000 }, async () => {
    await service.start();
    const base = sampleAuditRecord();
    const t0 = Date.now() * 1000;
    const exec = (person: number, n: number): AuditRecord => ({
      ...base,
      auditID: `${group}-${person}-${n}`,
      requestReceivedUs: t0 + n * 1_000_000 + person,
      verb: 'create',
      operation: 'exec',
      cluster: 'prod-eu-1',
      actor: { ...base.actor, id: `user:${person}`, displayName: `User ${person}` },
      objectRef: { ...base.objectRef, subresource: 'exec' },
    });
    const people = Array.from({ length: PEOPLE }, (_, i) => i);

    // First life: two execs per person, in many batches; the windows stay open (90 s).
    for (const n of [0, 1]) await produceEnriched(producer, topics.enriched, people.map((p) => exec(p, n)));
    await caughtUp(admin, group, topics.enriched);
    await service.kill();
    expect(await topicSize(admin, topics.alerts)).toBe(0);

    // While it is down, a third exec per person.
    await produceEnriched(producer, topics.enriched, people.map((p) => exec(p, 2)));
    await service.start();
    await expect.poll(() => readFileSync(service.logFile, 'utf8'), { timeout: 60_000 }).toContain('"event":"window_state_restored"');

    // The windows close on the wall clock once their 90 s are over: one alert per person.
    await expect.poll(() => topicSize(admin, topics.alerts), { timeout: 300_000, interval: 1000 }).toBeGreaterThanOrEqual(PEOPLE);
    await caughtUp(admin, group, topics.enriched);
    await sleep(3000); // a duplicate would be produced by now
    expect(await topicSize(admin, topics.alerts)).toBe(PEOPLE);
    const alerts = (await consumeAll(kafka, topics.alerts, PEOPLE, 120_000)).map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')));
    expect(alerts).toHaveLength(PEOPLE);
    expect(new Set(alerts.map((a) => a.alertId)).size).toBe(PEOPLE);
    expect(new Set(alerts.map((a) => a.actor.id)).size).toBe(PEOPLE);
    const counts = new Map<number, number>();
    for (const a of alerts) counts.set(a.count, (counts.get(a.count) ?? 0) + 1);
    expect([...counts]).toEqual([[3, PEOPLE]]);
  });
});
