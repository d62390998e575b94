import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type OutgoingRecord, type Producer } from '@kaudit/kafka';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { sampleAuditEvent } from '../fixtures/sample-audit-event.js';
import { BatchingPublisher } from './batching-publisher.js';

let client: KafkaClient;
let admin: KafkaAdmin;
let producer: Producer;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: uniqueName('publisher-test'), logger: silentLogger() });
  admin = client.admin();
  await admin.start();
  producer = client.producer();
  await producer.start();
});
afterAll(async () => {
  await producer?.stop();
  await admin?.stop();
});

const count = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
const records = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ key: 'one-cluster', value: Buffer.from(JSON.stringify(sampleAuditEvent(from + i))), headers: { cluster: 'one-cluster' } }));

describe('BatchingPublisher on a real broker', () => {
  it('publishes a body far over the broker message limit for one key (one partition), split across sends', async () => {
    const topic = uniqueName('publisher');
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    const publisher = new BatchingPublisher({ producer, topic });
    // ~5 MB for a single key: one partition batch this size would be refused (message.max.bytes 1 MiB).
    await publisher.publish(records(3000, 0));
    expect(await count(topic)).toBe(3000);
  });

  it('counts headers toward the send bound, shared header objects and per-record ones alike', async () => {
    const topic = uniqueName('publisher');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const publisher = new BatchingPublisher({ producer, topic });
    // Tiny values under big headers: ~3 MB that only fits the broker's 1 MiB batch limit if headers are counted.
    const shared = { cluster: 'one-cluster' };
    const big = (i: number) => ({ cluster: 'one-cluster', note: `${i}`.padEnd(10_000, 'h') });
    const mixed = Array.from({ length: 300 }, (_, i) => ({ key: 'one-cluster', value: Buffer.from(`{"n":${i}}`), headers: i < 20 ? shared : big(i) }));
    await publisher.publish(mixed);
    expect(await count(topic)).toBe(300);
  });

  it('keeps the order of concurrent publishes across the sends they share or straddle, each record once', async () => {
    const topic = uniqueName('publisher');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    // The real producer, noting which records Kafka acknowledged, so a publish can be held to "all of mine".
    const acknowledged = new Set<OutgoingRecord>();
    const noting: Producer = {
      start: () => producer.start(),
      stop: () => producer.stop(),
      send: async (t, rs) => {
        const acks = await producer.send(t, rs);
        for (const r of rs) acknowledged.add(r);
        return acks;
      },
    };
    // Small sends, so most publishes end in one send and go on in the next; one at a time, so a publish's first
    // send is answered before its next one starts.
    const publisher = new BatchingPublisher({ producer: noting, topic, maxBatchBytes: 64 * 1024, maxConcurrentSends: 1 });
    const sent: string[] = [];
    const early: string[] = [];
    const publishes = Array.from({ length: 30 }, (_, p) => {
      const batch = Array.from({ length: 1 + ((p * 7) % 40) }, (_, i) => ({ key: 'one-cluster', value: Buffer.from(`${p}:${i}:`.padEnd(2000 + ((p + i) % 5) * 300, 'v')), headers: { cluster: 'one-cluster' } }));
      sent.push(...batch.map((r) => r.value.toString()));
      return publisher.publish(batch).then(() => {
        if (!batch.every((r) => acknowledged.has(r))) early.push(`publish ${p}`);
      });
    });
    await Promise.all(publishes);
    // No publish resolved before every one of its records was acknowledged.
    expect(early).toEqual([]);
    const landed = (await consumeAll(client, topic, sent.length, 60_000)).sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
    expect(landed.map((r) => String(r.value))).toEqual(sent);
  });

  it('resolves every concurrent caller once its own records are acknowledged', async () => {
    const topic = uniqueName('publisher');
    await admin.ensureTopics([{ topic, partitions: 3 }]);
    const publisher = new BatchingPublisher({ producer, topic });
    let acked = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        publisher.publish(records(100, i * 100)).then(async () => {
          acked += 100;
          const ackedSoFar = acked;
          // Acknowledged means readable now: the topic holds at least what was acknowledged so far.
          expect(await count(topic)).toBeGreaterThanOrEqual(ackedSoFar);
        }),
      ),
    );
    expect(await count(topic)).toBe(2000);
  });
});
