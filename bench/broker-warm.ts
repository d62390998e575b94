/**
 * Warms a freshly started Kafka broker before a latency bench measures anything (issue 15). A broker the bench
 * has just started runs its request path interpreted while its JIT compiles it: in the alert bench's first
 * seconds of load its network and request handler threads took 0.4-0.6 cores (0.13 later) and its JIT threads
 * 0.2-0.5, on a 2-core machine that the services share. A real deployment's Kafka is long-running, so that cost
 * is the bench's, not kaudit's. The services' own warm-up is NOT this: they start after it, and their first
 * seconds stay inside the measured window.
 *
 * The traffic is unrelated to the bench's topics but goes through the same request types the pipeline uses:
 * idempotent acks=all produce requests (compressed as the services compress), a consumer group's fetches,
 * offset commits and heartbeats.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from './raw-kafkajs.js';

export interface BrokerWarmOptions {
  brokers: string;
  /** How long to keep the traffic going; 0 does nothing. */
  ms: number;
  /** A topic of its own, created by the caller (same partition count as the pipeline's busiest one). */
  topic: string;
  /** kafkajs' code of the services' compression codec (its codec must be registered, as createKafkaClient does). */
  compression: number;
  /** Record values to cycle through: realistic sizes. */
  values: readonly Buffer[];
  /** Records per second to produce, in sends of `batch` records. */
  rate: number;
  batch: number;
}

/** Runs the warm-up traffic; resolves with what it sent and consumed, once both stopped. */
export async function warmBroker(o: BrokerWarmOptions): Promise<{ ms: number; produced: number; consumed: number }> {
  if (o.ms <= 0 || o.values.length === 0) return { ms: 0, produced: 0, consumed: 0 };
  const kafka = new Kafka({ clientId: 'bench-broker-warm', brokers: [o.brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `${o.topic}-group`, maxWaitTimeInMs: 100 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [o.topic], fromBeginning: true });
  let consumed = 0;
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat }) => {
      for (const m of batch.messages) resolveOffset(m.offset);
      consumed += batch.messages.length;
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });
  const began = Date.now();
  let produced = 0;
  for (let n = 0; Date.now() - began < o.ms; n++) {
    const messages = Array.from({ length: o.batch }, (_, i) => ({ key: `warm-${(n * o.batch + i) % 997}`, value: o.values[(n * o.batch + i) % o.values.length] as Buffer }));
    await producer.send({ topic: o.topic, acks: -1, compression: o.compression, messages });
    produced += o.batch;
    const ahead = (produced / o.rate) * 1000 - (Date.now() - began);
    if (ahead > 0) await sleep(ahead);
  }
  const ms = Date.now() - began;
  // Let the group read what was sent (its fetches are part of the warm-up), but never wait long for it.
  const deadline = Date.now() + 5000;
  while (consumed < produced && Date.now() < deadline) await sleep(100);
  await consumer.disconnect();
  await producer.disconnect();
  return { ms, produced, consumed };
}
