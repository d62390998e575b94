/**
 * A consumer that lost its partition in a rebalance must not act on it any more (issue 12 §2, "two owners").
 * kafkajs' own isStale() only reflects seeks, and a handler retrying with backoff (ClickHouse down) used to
 * swallow the heartbeat's REBALANCE_IN_PROGRESS: the old owner went on retrying, the coordinator handed the
 * partition to the new member after the rebalance timeout, and once the old owner's "ClickHouse" came back it
 * inserted what the new owner had already inserted. Here the effect is recorded in memory, guarded as BatchSink
 * guards its insert (ctx.isRunning() just before it).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { createKafkaClient } from './kafkajs-adapter.js';
import type { BatchConsumer, BatchContext, KafkaAdmin, KafkaClient, RecordBatch } from './types.js';

const logger = silentLogger('kafka-fencing-test');
let client: KafkaClient;
let admin: KafkaAdmin;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'kafka-fencing-test', logger });
  admin = client.admin();
  await admin.start();
});
afterAll(async () => {
  await admin.stop();
});

describe('a consumer whose partition moved to another member while it was retrying a batch', () => {
  it('stops retrying and never acts on that batch again; each record is acted on once', async () => {
    const topic = uniqueName('fence');
    const groupId = uniqueName('group');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = client.producer();
    await producer.start();
    await producer.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })));
    await producer.stop();

    const effects: { who: string; offset: string }[] = [];
    let oldOwnerDown = true; // the first member's "ClickHouse" is unreachable until we say so
    let oldOwnerAttempts = 0;
    const handler = (who: string) => async (batch: RecordBatch, ctx: BatchContext) => {
      if (who === 'first') oldOwnerAttempts++;
      if (who === 'first' && oldOwnerDown) throw new Error('ClickHouse unreachable (test)');
      if (!ctx.isRunning()) throw new Error('partition revoked: not acting');
      effects.push(...batch.records.map((r) => ({ who, offset: r.offset })));
    };
    const consumers: BatchConsumer[] = [];
    const start = async (who: string) => {
      const consumer = client.consumer({ groupId, topics: [topic], fromBeginning: true, sessionTimeoutMs: 6000, retryInitialMs: 200, retryMaxMs: 1000 });
      consumers.push(consumer);
      await consumer.start(handler(who));
      await consumer.waitForAssignment(120_000);
    };
    try {
      await start('first');
      while (oldOwnerAttempts < 2) await sleep(100); // it holds the batch and is retrying it
      // A second member joins: the group rebalances while the first is inside its retry loop. This resolves once
      // the new generation is formed — at once when the first member gives the partition up, only after the
      // rebalance timeout when it ignores the rebalance.
      await start('second');
      oldOwnerDown = false; // the old owner's ClickHouse is back
      const deadline = Date.now() + 60_000;
      while (new Set(effects.map((e) => e.offset)).size < 10 && Date.now() < deadline) await sleep(200);
      await sleep(4000); // a zombie's late effect would show up here
    } finally {
      for (const c of consumers.reverse()) await c.stop().catch(() => undefined);
    }
    const perOffset = new Map<string, string[]>();
    for (const e of effects) perOffset.set(e.offset, [...(perOffset.get(e.offset) ?? []), e.who]);
    const twice = [...perOffset].filter(([, who]) => who.length > 1);
    expect(twice).toEqual([]);
    expect([...perOffset.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });
});
