import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { consumeAll, type ServiceProcess, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { produceEnriched } from './test-support/enriched-producer.js';
import { alertTestService, alertTestTopics, createAlertTestTopics } from './test-support/alert-test-service.js';
import { caughtUp } from './test-support/caught-up.js';

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
  const topics = alertTestTopics();
  const group = uniqueName('alert');
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let service: ServiceProcess;

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'alert-restart-many', logger });
    admin = kafka.admin();
    await admin.start();
    await createAlertTestTopics(admin, topics);
    producer = kafka.producer();
    await producer.start();
    service = await alertTestService({ kafkaBrokers, group, topics, rules: RULES });
  });

  afterAll(async () => {
    await service?.stop();
    await producer?.stop();
    await admin?.stop();
  });

  it('closes each of 5,000 windows exactly once after the restart (one first, one follow-up), counting the events of both lives', { timeout: 600_000 }, async () => {
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
    // Each person's first exec alerted at once (leading edge); the repeats wait for the window's end.
    await expect.poll(() => topicSize(admin, topics.alerts)).toBe(PEOPLE);

    // While it is down, a third exec per person.
    await produceEnriched(producer, topics.enriched, people.map((p) => exec(p, 2)));
    await service.start();
    await expect.poll(() => readFileSync(service.logFile, 'utf8'), { timeout: 60_000 }).toContain('"event":"window_state_restored"');

    // The windows close on the wall clock once their 90 s are over: one follow-up per person.
    await expect.poll(() => topicSize(admin, topics.alerts), { timeout: 300_000, interval: 1000 }).toBeGreaterThanOrEqual(2 * PEOPLE);
    await caughtUp(admin, group, topics.enriched);
    await sleep(3000); // a duplicate would be produced by now
    expect(await topicSize(admin, topics.alerts)).toBe(2 * PEOPLE);
    const alerts = (await consumeAll(kafka, topics.alerts, 2 * PEOPLE, 120_000)).map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')));
    const firsts = alerts.filter((a) => !a.followUp);
    const followUps = alerts.filter((a) => a.followUp);
    expect(firsts.map((a) => a.count)).toEqual(Array.from({ length: PEOPLE }, () => 1));
    expect(new Set(firsts.map((a) => a.actor.id)).size).toBe(PEOPLE);
    // Every window's follow-up carries its first's id and counts the events of both lives.
    expect(new Set(followUps.map((a) => a.alertId))).toEqual(new Set(firsts.map((a) => a.alertId)));
    expect(followUps).toHaveLength(PEOPLE);
    const counts = new Map<number, number>();
    for (const a of followUps) counts.set(a.count, (counts.get(a.count) ?? 0) + 1);
    expect([...counts]).toEqual([[3, PEOPLE]]);
  });
});
