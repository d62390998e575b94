import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { createKafkaClient } from './kafkajs-adapter.js';
import type { KafkaAdmin, KafkaClient, KafkaCompression, OutgoingRecord } from './types.js';

const logger = silentLogger('kafka-codec-warm-up-test');
let client: KafkaClient;
let admin: KafkaAdmin;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'codec-warm-up', logger });
  admin = client.admin();
  await admin.start();
});
afterAll(async () => {
  await admin.stop();
});

const records = (n: number): OutgoingRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 0 ? null : `cluster-${i % 3}/user-${i % 7}`,
    value: JSON.stringify({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: `a-${i}`, verb: ['get', 'list', 'patch'][i % 3], requestURI: `/api/v1/namespaces/ns-${i % 4}/pods` }),
    headers: { 'kaudit-cluster': `cluster-${i % 3}` },
  }));

/**
 * Issue 15 §1: the services warm kafkajs' produce-request encoding (and fetch-response decoding) at start
 * with their own sample records. A warm-up must never reach a real topic: with the very topic name the
 * service produces to, and a client connected to a real broker, nothing may land there.
 */
describe('KafkaClient.warmUpCodecs sends nothing (real Kafka)', () => {
  it('encodes and decodes every record with each codec, and the topic it names stays empty', async () => {
    const topic = uniqueName('codec_warm_up');
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    for (const compression of ['none', 'gzip', 'lz4', 'zstd'] as KafkaCompression[]) {
      const done = await client.warmUpCodecs(records(600), { compression, topic });
      expect(done.records).toBe(600);
      expect(done.bytes).toBeGreaterThan(0);
    }
    // A producer of this client does reach the topic (so an empty topic below means "not sent", not "not readable").
    const producer = client.producer();
    await producer.start();
    await producer.send(topic, records(2));
    await producer.stop();
    const written = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    expect(written).toBe(2);
  }, 120_000);
});
