import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { createKafkaClient } from './kafkajs-adapter.js';
import { DeadLetterWriter, DLQ_HEADERS } from './dead-letter-writer.js';
import type { KafkaAdmin, KafkaClient, RecordBatch } from './types.js';

const logger = silentLogger('kafka-test');
let client: KafkaClient;
let admin: KafkaAdmin;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'kafka-int-test', logger });
  admin = client.admin();
  await admin.start();
});
afterAll(async () => {
  await admin.stop();
});

describe('the real Kafka broker', () => {
  it('describes the cluster', async () => {
    const info = await admin.describeCluster();
    expect(info.clusterId).toMatch(/.+/);
    expect(info.brokers).toHaveLength(1);
  });

  it('reports a record the broker refuses for good (over max.message.bytes) as KAFKA_REJECTED, not as a retryable outage', async () => {
    const topic = uniqueName('small');
    await admin.ensureTopics([{ topic, partitions: 1, configs: { 'max.message.bytes': '1024' } }]);
    const producer = client.producer();
    await producer.start();
    try {
      const err: unknown = await producer.send(topic, [{ key: 'k', value: Buffer.alloc(8 * 1024, 120) }]).then(() => 'sent', (e: unknown) => e);
      expect(err).toMatchObject({ code: 'KAFKA_REJECTED', retryable: false });
      expect((err as Error).message).toContain(topic);
      expect((err as Error).message).toMatch(/larger than the max message size/);
      // The producer keeps serving what the topic does accept.
      expect(await producer.send(topic, [{ key: 'k', value: 'small' }])).toHaveLength(1);
    } finally {
      await producer.stop();
    }
  });

  it('reports a refusal kafkajs wraps in KafkaJSNonRetriableError (an invalid topic, as it wraps an ACL denial) as KAFKA_REJECTED', async () => {
    const producer = client.producer();
    await producer.start();
    try {
      const err: unknown = await producer.send('not a valid topic!', [{ key: 'k', value: 'x' }]).then(() => 'sent', (e: unknown) => e);
      expect(err).toMatchObject({ code: 'KAFKA_REJECTED', retryable: false, details: { kafkaError: 'INVALID_TOPIC_EXCEPTION' } });
      expect((err as Error).message).toMatch(/refused.*invalid topic/);
    } finally {
      await producer.stop();
    }
  });

  it('ensureTopics creates with partitions and configs, is idempotent, and grows partitions', async () => {
    const topic = uniqueName('ensure');
    await admin.ensureTopics([{ topic, partitions: 2, configs: { 'retention.ms': '3600000' } }]);
    await admin.ensureTopics([{ topic, partitions: 2, configs: { 'retention.ms': '3600000' } }]);
    expect((await admin.fetchTopicOffsets(topic)).length).toBe(2);
    await admin.ensureTopics([{ topic, partitions: 4 }]);
    expect((await admin.fetchTopicOffsets(topic)).length).toBe(4);
  });

  it('ensureTopics changes only the settings it names and keeps the others a topic has (e.g. setup\'s min.insync.replicas)', async () => {
    const topic = uniqueName('merge');
    await admin.ensureTopics([{ topic, partitions: 1, configs: { 'retention.ms': '3600000', 'min.insync.replicas': '1' } }]);
    // What a service does at start: its own specs, which do not mention min.insync.replicas.
    await admin.ensureTopics([{ topic, partitions: 1, configs: { 'retention.ms': '7200000' } }]);
    const { configs, partitions } = await admin.describeTopic(topic);
    expect(configs).toMatchObject({ 'retention.ms': '7200000', 'min.insync.replicas': '1' });
    expect(partitions.map((p) => p.replicas.length)).toEqual([1]);
  });

  it('produces 10k records idempotently, consumes them in a group, and resumes exactly after the committed offset', async () => {
    const topic = uniqueName('tenk');
    const groupId = uniqueName('group');
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    const producer = client.producer();
    await producer.start();
    const total = 10_000;
    for (let start = 0; start < total; start += 1000) {
      const records = Array.from({ length: 1000 }, (_, i) => ({ key: `k${(start + i) % 7}`, value: JSON.stringify({ n: start + i }), headers: { source: 'test' } }));
      const acks = await producer.send(topic, records);
      expect(acks.length).toBeGreaterThan(0);
    }
    const high = await admin.fetchTopicOffsets(topic);
    expect(high.reduce((sum, p) => sum + Number(p.high), 0)).toBe(total);

    // First consumer: stop after roughly half, having committed only whole handled batches.
    const seen = new Map<number, number>();
    const first = client.consumer({ groupId, topics: [topic], fromBeginning: true });
    let stopAt: () => void = () => undefined;
    const half = new Promise<void>((r) => (stopAt = r));
    await first.start(async (batch: RecordBatch) => {
      for (const r of batch.records) {
        const n = (JSON.parse(String(r.value)) as { n: number }).n;
        seen.set(n, (seen.get(n) ?? 0) + 1);
        expect(r.headers.source?.toString()).toBe('test');
      }
      if (seen.size >= total / 2) stopAt();
    });
    await half;
    await first.stop();
    const committed = await admin.fetchCommittedOffsets(groupId, topic);
    const committedTotal = committed.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(committedTotal).toBe(seen.size); // committed exactly what the handler finished
    expect(committedTotal).toBeLessThan(total);

    const groups = await admin.listGroups();
    expect(groups.map((g) => g.groupId)).toContain(groupId);
    const [described] = await admin.describeGroups([groupId]);
    expect(described?.groupId).toBe(groupId);
    expect(described?.state).toBe('Empty');

    // Restart: the group resumes right after the committed offsets: every record once overall.
    const second = client.consumer({ groupId, topics: [topic], fromBeginning: true });
    const resumedFirst: number[] = [];
    let done: () => void = () => undefined;
    const all = new Promise<void>((r) => (done = r));
    await second.start(async (batch) => {
      if (resumedFirst.length < 3) resumedFirst.push(Number(batch.firstOffset));
      for (const r of batch.records) {
        const n = (JSON.parse(String(r.value)) as { n: number }).n;
        seen.set(n, (seen.get(n) ?? 0) + 1);
      }
      if (seen.size >= total) done();
    });
    await all;
    const [active] = await admin.describeGroups([groupId]);
    expect(active?.state).toBe('Stable');
    expect(active?.members.length).toBe(1);
    await second.stop();
    await producer.stop();
    expect(seen.size).toBe(total);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    // -1 means nothing committed on that partition: the group starts it from the beginning (0).
    const committedOffsets = new Map(committed.map((c) => [c.partition, Math.max(0, Number(c.offset))]));
    expect(resumedFirst.length).toBeGreaterThan(0);
    for (const offset of resumedFirst) expect([...committedOffsets.values()]).toContain(offset);
  });

  it('retries a failing handler without committing, and never skips the batch', async () => {
    const topic = uniqueName('retry');
    const groupId = uniqueName('group');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer();
    await producer.start();
    await producer.send(topic, [{ key: null, value: 'a' }, { key: null, value: 'b' }]);
    await producer.stop();
    let attempts = 0;
    const handled: string[] = [];
    const consumer = client.consumer({ groupId, topics: [topic], retryInitialMs: 50, retryMaxMs: 100 });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((r) => (done = r));
    await consumer.start(async (batch) => {
      attempts++;
      if (attempts < 3) throw new Error('transient');
      handled.push(...batch.records.map((r) => String(r.value)));
      done();
    });
    await finished;
    await new Promise((r) => setTimeout(r, 200));
    await consumer.stop();
    expect(attempts).toBe(3);
    expect(handled).toEqual(['a', 'b']);
    const [committed] = await admin.fetchCommittedOffsets(groupId, topic);
    expect(committed?.offset).toBe('2');
  });

  it('dead-letters a record with its original bytes and the reason', async () => {
    const dlq = uniqueName('dlq');
    await admin.ensureTopics([{ topic: dlq, partitions: 1 }]);
    const producer = client.producer();
    await producer.start();
    const original = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x22]); // not UTF-8, not JSON: bytes must survive
    const writer = new DeadLetterWriter({ producer, service: 'ingest', topic: dlq, now: () => new Date('2026-01-02T03:04:05Z') });
    await writer.send(
      { value: original, key: 'cluster-a', headers: { cluster: 'cluster-a' }, topic: 'kaudit.audit.raw.v1', partition: 2, offset: '41' },
      { code: 'INPUT_INVALID', message: 'body is not valid JSON at byte 1', stage: 'parse-body' },
    );
    await producer.stop();
    const [record] = await consumeAll(client, dlq, 1);
    expect(record?.value?.equals(original)).toBe(true);
    expect(record?.key?.toString()).toBe('cluster-a');
    const h = (name: string) => record?.headers[name]?.toString();
    expect(h(DLQ_HEADERS.code)).toBe('INPUT_INVALID');
    expect(h(DLQ_HEADERS.reason)).toBe('body is not valid JSON at byte 1');
    expect(h(DLQ_HEADERS.service)).toBe('ingest');
    expect(h(DLQ_HEADERS.stage)).toBe('parse-body');
    expect(h(DLQ_HEADERS.at)).toBe('2026-01-02T03:04:05.000Z');
    expect(h(DLQ_HEADERS.topic)).toBe('kaudit.audit.raw.v1');
    expect(h(DLQ_HEADERS.partition)).toBe('2');
    expect(h(DLQ_HEADERS.offset)).toBe('41');
    expect(h('cluster')).toBe('cluster-a');
  });
});
