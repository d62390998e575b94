import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeAll, silentLogger, testEndpoints, testKafkaDataDir, topicLogBytes, uniqueName } from '@kaudit/testkit';
import { createKafkaClient } from './kafkajs-adapter.js';
import type { KafkaAdmin, KafkaClient, KafkaCompression, OutgoingRecord } from './types.js';

const logger = silentLogger('kafka-compression-test');
let reader: KafkaClient;
let admin: KafkaAdmin;

beforeAll(async () => {
  // The reading client is created without any compression setting: consumers decode every codec.
  reader = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'compression-reader', logger });
  admin = reader.admin();
  await admin.start();
});
afterAll(async () => {
  await admin.stop();
});

/** Audit-like JSON (compressible, as real events are), a null key, headers, and one value over LZ4's 64 KiB block. */
function records(): OutgoingRecord[] {
  const out: OutgoingRecord[] = Array.from({ length: 400 }, (_, i) => ({
    key: i % 7 === 0 ? null : `cluster-${i % 3}`,
    value: JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: `7e1b4c2a-${i.toString(16).padStart(4, '0')}-4c3d-9e8f-${(i * 7919).toString(16).padStart(12, '0')}`,
      stage: 'ResponseComplete',
      requestURI: `/api/v1/namespaces/team-${i % 11}/pods/web-${i % 23}`,
      verb: ['get', 'list', 'watch', 'patch'][i % 4],
      user: { username: `user${i % 17}@example.com`, groups: ['system:authenticated'] },
      sourceIPs: [`10.0.${i % 250}.${(i * 3) % 250}`],
      objectRef: { resource: 'pods', namespace: `team-${i % 11}`, name: `web-${i % 23}`, apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 },
    }),
    headers: { 'kaudit-cluster': `cluster-${i % 3}`, 'kaudit-index': String(i) },
  }));
  out.push({ key: 'big', value: Buffer.from(JSON.stringify({ items: Array.from({ length: 4000 }, (_, i) => ({ name: `cm-${i}`, data: 'x'.repeat(60) })) })), headers: { 'kaudit-index': 'big' } });
  return out;
}

const asText = (v: string | Buffer | null | undefined) => (v === null || v === undefined ? null : v.toString());

describe.each<KafkaCompression>(['none', 'gzip', 'lz4', 'zstd'])('records produced with %s compression', (compression) => {
  it('come back equal through a consumer that was told nothing about the codec, and the broker stores them in that codec (smaller unless none)', async () => {
    const topic = uniqueName(`compression_${compression}`);
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const writer = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: uniqueName('compression-writer'), logger });
    const producer = writer.producer({ compression });
    await producer.start();
    const sent = records();
    try {
      // Several sends: the broker sees several compressed batches, the consumer fetches across them.
      for (let i = 0; i < sent.length; i += 100) await producer.send(topic, sent.slice(i, i + 100));
    } finally {
      await producer.stop();
    }
    const got = await consumeAll(reader, topic, sent.length, 60_000);
    expect(got.map((r) => ({ key: asText(r.key), value: asText(r.value), headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()])) }))).toEqual(
      sent.map((r) => ({ key: asText(r.key), value: asText(r.value), headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, v.toString()])) })),
    );
    const payload = sent.reduce((sum, r) => sum + Buffer.byteLength(r.value), 0);
    const stored = topicLogBytes(testKafkaDataDir(), topic);
    if (compression === 'none') expect(stored).toBeGreaterThan(payload);
    else expect(stored).toBeLessThan(payload / 3);
    await admin.deleteTopics([topic]);
  });
});
