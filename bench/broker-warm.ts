/**
 * Warms a freshly started Kafka broker before a latency bench measures anything (issue 15). A broker the bench
 * has just started runs its request path interpreted while its JIT compiles it: in the alert bench's first
 * seconds of load its network and request handler threads took 0.4-0.6 cores (0.13 later) and its JIT threads
 * 0.2-0.5, on a 2-core machine that the services share. A real deployment's Kafka is long-running, so that cost
 * is the bench's, not kaudit's. The services' own warm-up is NOT this: they start after it, and their first
 * seconds stay inside the measured window.
 *
 * The traffic is unrelated to the bench's topics but goes through the same request types the pipeline uses:
 * idempotent acks=all produce requests from one producer per service (compressed as the services compress, each
 * record with two headers as enriched records carry), a consumer group's fetches, offset commits and heartbeats.
 * In a loaded run, 20 s of one header-less producer left the broker's handlers at 0.52 cores in the load's first
 * 2 s (0.63 without any warm-up) and its JIT busy for 20 s more: the shape of the records matters to the JIT.
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
  /** Records per second to produce, in sends of `batch` records, shared by `producers` producers. */
  rate: number;
  batch: number;
  producers: number;
}

/** Runs the warm-up traffic; resolves with what it sent and consumed, once both stopped. */
export async function warmBroker(o: BrokerWarmOptions): Promise<{ ms: number; produced: number; consumed: number }> {
  if (o.ms <= 0 || o.values.length === 0) return { ms: 0, produced: 0, consumed: 0 };
  const kafka = new Kafka({ clientId: 'bench-broker-warm', brokers: [o.brokers], logLevel: logLevel.NOTHING });
  const producers = Array.from({ length: Math.max(1, o.producers) }, () => kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
  const consumer = kafka.consumer({ groupId: `${o.topic}-group`, maxWaitTimeInMs: 100 });
  for (const p of producers) await p.connect();
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
  let n = 0;
  const drive = async (producer: (typeof producers)[number]): Promise<void> => {
    while (Date.now() - began < o.ms) {
      const at = n++ * o.batch;
      const messages = Array.from({ length: o.batch }, (_, i) => ({
        key: `warm-${(at + i) % 997}`,
        value: o.values[(at + i) % o.values.length] as Buffer,
        headers: { 'schema-fingerprint': 'warm-up', 'ingested-at': String(Date.now()) },
      }));
      await producer.send({ topic: o.topic, acks: -1, compression: o.compression, messages });
      produced += o.batch;
      const ahead = (produced / o.rate) * 1000 - (Date.now() - began);
      if (ahead > 0) await sleep(ahead);
    }
  };
  await Promise.all(producers.map(drive));
  const ms = Date.now() - began;
  // Let the group read what was sent (its fetches are part of the warm-up), but never wait long for it.
  const deadline = Date.now() + 5000;
  while (consumed < produced && Date.now() < deadline) await sleep(100);
  await consumer.disconnect();
  for (const p of producers) await p.disconnect();
  return { ms, produced, consumed };
}
