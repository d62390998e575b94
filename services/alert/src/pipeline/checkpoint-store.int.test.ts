import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaClient, type OutgoingRecord, type Producer } from '@kaudit/kafka';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { CheckpointStore } from './checkpoint-store.js';

/** The real producer, noting each produce request Kafka acknowledged (topic and records). */
function recordingProducer(producer: Producer, sends: { topic: string; records: readonly OutgoingRecord[] }[]): Producer {
  return {
    start: () => producer.start(),
    stop: () => producer.stop(),
    async send(topic, records) {
      const acks = await producer.send(topic, records);
      sends.push({ topic, records });
      return acks;
    },
  };
}

const text = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

describe('CheckpointStore writes (real Kafka)', () => {
  const logger = silentLogger('checkpoint-store');
  const topic = uniqueName('alert_state');
  const sends: { topic: string; records: readonly OutgoingRecord[] }[] = [];
  let kafka: KafkaClient;
  let producer: Producer;
  const stores: CheckpointStore[] = [];
  const store = async (): Promise<CheckpointStore> => {
    const s = new CheckpointStore({ kafka, producer: recordingProducer(producer, sends), topic, groupPrefix: uniqueName('alert'), logger });
    await s.start();
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'checkpoint-store', logger });
    producer = kafka.producer();
    await producer.start();
  });

  afterAll(async () => {
    for (const s of stores.reverse()) await s.stop();
    await producer?.stop();
  });

  it('writes made together go out in one produce request, each in order, and read back as written', { timeout: 120_000 }, async () => {
    const writer = await store();
    const before = sends.length;
    // As the evaluator checkpoints a round's partitions: several callers at once, one key written twice.
    await Promise.all([
      writer.putMany([{ key: 'eval:p0', value: Buffer.from('a0') }, { key: 'eval:p0/d/1/0', value: Buffer.from('a1') }]),
      writer.putMany([{ key: 'eval:p1', value: Buffer.from('b0') }]),
      writer.put('eval:p0', Buffer.from('a2')),
      writer.remove(['gone']),
    ]);
    const made = sends.slice(before);
    expect(made.map((s) => s.records.map((r) => r.key))).toEqual([['eval:p0', 'eval:p0/d/1/0', 'eval:p1', 'eval:p0', 'gone']]);
    // The writer's own view: the later write of a key wins.
    expect([text(writer.get('eval:p0')), text(writer.get('eval:p0/d/1/0')), text(writer.get('eval:p1')), writer.get('gone')]).toEqual(['a2', 'a1', 'b0', undefined]);
    // And what another process reads from the topic.
    const reader = await store();
    expect([text(reader.get('eval:p0')), text(reader.get('eval:p0/d/1/0')), text(reader.get('eval:p1')), reader.get('gone')]).toEqual(['a2', 'a1', 'b0', undefined]);
  });

  it('a write that would take a request past 1 MiB goes in the next one, and the last write of a key still wins', { timeout: 120_000 }, async () => {
    const writer = await store();
    await writer.put('k', Buffer.from('first'));
    const before = sends.length;
    const big = Buffer.alloc(700 * 1024, 1);
    await Promise.all([writer.put('big-1', big), writer.put('big-2', big), writer.put('k', Buffer.from('second'))]);
    const made = sends.slice(before).map((s) => s.records.map((r) => r.key));
    expect(made).toEqual([['big-1'], ['big-2', 'k']]);
    const reader = await store();
    expect([text(reader.get('k')), reader.get('big-2')?.length]).toEqual(['second', big.length]);
  });
});
