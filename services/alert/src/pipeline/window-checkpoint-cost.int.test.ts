import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { produceEnriched } from '../test-support/enriched-producer.js';
import { CheckpointStore } from './checkpoint-store.js';
import { alertTestTopics, createAlertTestTopics, startAlertInProcess } from '../test-support/alert-test-service.js';
import { caughtUp } from '../test-support/caught-up.js';

const RULES = `rules:
  - id: exec-into-pod
    name: Exec into pod
    severity: medium
    output: "{actor.displayName} exec'd into {objectRef.namespace}/{objectRef.name}"
    match: { field: operation, equals: exec }
    dedup: { window: 1h, by: [actor.id] }
`;
const OPEN = 100_000;


interface Written {
  topic: string;
  key: string;
  bytes: number;
}

/**
 * The real producer, noting every record Kafka acknowledged: what was written is measured where it
 * is written (reading the compacted state topic back would miss what compaction already removed).
 */
function recordingProducer(producer: Producer, written: Written[]): Producer {
  return {
    start: () => producer.start(),
    stop: () => producer.stop(),
    async send(topic, records) {
      const acks = await producer.send(topic, records);
      for (const r of records) written.push({ topic, key: String(r.key), bytes: Buffer.byteLength(r.value) });
      return acks;
    },
  };
}

/**
 * Issue 12 §3: the window checkpoint used to be the whole engine per batch (megabytes at 100k open
 * windows, for every batch) and each reload made a new consumer group. Measured through what lands
 * in the state topic and in the broker's group list — no timings.
 */
describe('window checkpoints at 100k open dedup windows (real Kafka)', () => {
  const logger = silentLogger('checkpoint-cost');
  const topics = alertTestTopics();
  const group = uniqueName('alert');
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let store: CheckpointStore;
  const written: Written[] = [];
  let stopService: (() => Promise<void>) | undefined;
  const base = sampleAuditRecord();
  const t0 = Date.now() * 1000;
  const exec = (actor: number, n: number): AuditRecord => ({
    ...base,
    auditID: `${group}-${actor}-${n}`,
    requestReceivedUs: t0 + actor + n * 1000,
    verb: 'create',
    operation: 'exec',
    actor: { ...base.actor, id: `user:${actor}`, displayName: `User ${actor}` },
    objectRef: { ...base.objectRef, subresource: 'exec' },
  });

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'checkpoint-cost', logger });
    admin = kafka.admin();
    await admin.start();
    await createAlertTestTopics(admin, topics, 1);
    producer = kafka.producer();
    await producer.start();
    const service = await startAlertInProcess({ kafka, producer: recordingProducer(producer, written), kafkaBrokers, group, topics, rules: RULES, registry: new Registry(), logger });
    stopService = service.stop;
    store = service.built.components.find((c): c is CheckpointStore => c instanceof CheckpointStore) as CheckpointStore;
  }, 300_000);

  afterAll(async () => {
    await stopService?.();
    await producer?.stop();
    await admin?.stop();
  });

  it('a batch touching a few windows writes a few kB, not the 100k open ones; reloads create no consumer group', { timeout: 900_000 }, async () => {
    // 100k people each exec once: 100k open one-hour windows, built up over at least 50 batches.
    for (let from = 0; from < OPEN; from += OPEN / 50) {
      await produceEnriched(producer, topics.enriched, Array.from({ length: OPEN / 50 }, (_, i) => exec(from + i, 0)));
      await caughtUp(admin, group, topics.enriched);
    }
    const checkpoints = (from: number, to: number): Written[] => written.slice(from, to).filter((w) => w.topic === topics.state && w.key.startsWith('eval:'));
    const bytes = (ws: Written[]) => ws.reduce((n, w) => n + w.bytes, 0);
    const afterBuild = written.length;

    // Then 20 batches, each touching 10 of those windows.
    const marks: number[] = [afterBuild];
    for (let b = 0; b < 20; b++) {
      await produceEnriched(producer, topics.enriched, Array.from({ length: 10 }, (_, i) => exec(b * 10 + i, 1)));
      await caughtUp(admin, group, topics.enriched);
      marks.push(written.length);
    }

    // Reloads (what a rebalance triggers) read only what is new, through the store's one reader.
    for (let i = 0; i < 5; i++) await store.reload();
    const groups = (await admin.listGroups()).filter((g) => g.groupId.startsWith(`${group}-state-`));
    expect.soft(groups).toHaveLength(1);

    // Each small batch: one checkpoint write of a few kB (at most one of the 20 may also carry a periodic base rewrite).
    const perBatch = marks.slice(1).map((end, i) => checkpoints(marks[i] as number, end));
    const small = perBatch.filter((ws) => ws.length === 1 && bytes(ws) < 16 * 1024);
    expect.soft(small.length).toBeGreaterThanOrEqual(19);

    // The live checkpoint (latest value per key, what compaction keeps) holds all 100k windows...
    const latest = new Map<string, Written>();
    for (const w of checkpoints(0, written.length)) latest.set(w.key, w);
    const live = bytes([...latest.values()]);
    expect(live).toBeGreaterThan(OPEN * 5);
    // ...and building them over 50+ batches wrote a small multiple of it (bases are rewritten only
    // when the deltas outweigh them), not a whole snapshot per batch; few heads (base switches).
    const build = checkpoints(0, afterBuild);
    const heads = build.filter((w) => w.key === `eval:${topics.enriched}:0`).length;
    expect.soft(bytes(build)).toBeLessThan(5 * live);
    expect.soft(heads).toBeLessThanOrEqual(20);
  });
});
