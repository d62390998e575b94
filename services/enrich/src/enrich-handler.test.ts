import { setImmediate as nextTurn } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { decodeEnrichedBatch, DeadLetterWriter, DLQ_HEADERS, type IncomingRecord, type OutgoingRecord, type ProduceAck, type Producer, type RecordBatch } from '@kaudit/kafka';
import { createTelemetry } from '@kaudit/logging';
import { silentLogger } from '@kaudit/testkit';
import { chunkBySize, createEnrichHandler } from './enrich-handler.js';
import { EnrichMetrics } from './enrich-metrics.js';
import { Enricher } from './enricher.js';
import { DirectoryIndex } from './identity/directory.js';
import { IdentityResolver } from './identity/identity-resolver.js';
import { warmUpRawRecords } from './warm-up-raw-records.js';

describe('chunkBySize', () => {
  it('keeps order, respects the limit, and lets an oversize item travel alone', () => {
    expect(chunkBySize([3, 3, 3, 10, 1], (n) => n, 6)).toEqual([[3, 3], [3], [10], [1]]);
    expect(chunkBySize([], (n: number) => n, 6)).toEqual([]);
  });
});

const OUTPUT = 'enriched-test';
const DLQ = 'dlq-test';
const codec = new AuditRecordCodec();
const ctx = { heartbeat: async () => undefined, isRunning: () => true, generation: 1 };

/**
 * A Producer that records what each send carries and acknowledges it only when the test says so (`release`), or
 * fails it (`fail`): the handler must not resolve — the consumer would commit — before that.
 */
function heldProducer() {
  const sends: { topic: string; records: readonly OutgoingRecord[] }[] = [];
  const held: { resolve: () => void; reject: (err: Error) => void }[] = [];
  const producer: Producer = {
    start: async () => undefined,
    stop: async () => undefined,
    send: async (topic, records): Promise<ProduceAck[]> => {
      sends.push({ topic, records });
      await new Promise<void>((resolve, reject) => held.push({ resolve, reject }));
      return [{ topic, partition: 0, baseOffset: '0' }];
    },
  };
  /** Settles every send waiting now and every later one, until the test is done (a held send never settles by itself). */
  const settleAll = async (outcome: 'ack' | Error): Promise<void> => {
    for (let turns = 0; turns < 20; turns++) {
      for (const h of held.splice(0)) {
        if (outcome === 'ack') h.resolve();
        else h.reject(outcome);
      }
      await nextTurn();
    }
  };
  return { producer, sends, held, settleAll };
}

function testEnricher(): Enricher {
  const identity = new IdentityResolver({ directory: () => DirectoryIndex.empty(), remote: undefined, onResolved: () => undefined });
  return new Enricher({ identity, codec, options: { maxObjectBytes: 64 * 1024, clusterProviders: {} }, window: { retentionDays: 3650, maxFutureSkewMs: 3_600_000 } });
}

/** The enriched key (cluster/actor) a raw record gets. */
function enrichedKeyOf(raw: IncomingRecord): string {
  const outcome = testEnricher().enrich(raw);
  if (outcome instanceof Promise || !outcome.ok) throw new Error('expected a synchronously enriched record');
  return String(outcome.out.key);
}

function handlerWith(producer: Producer, gatherUpTo: number) {
  const registry = new Registry();
  const metrics = new EnrichMetrics(registry);
  const enricher = testEnricher();
  return createEnrichHandler({
    enricher,
    producer,
    deadLetters: new DeadLetterWriter({ producer, service: 'enrich', topic: DLQ }),
    outputTopic: OUTPUT,
    metrics,
    telemetry: createTelemetry(silentLogger('enrich-handler-test'), registry, 'enrich'),
    gatherUpTo,
  });
}

/** Three partitions' batches as one fetch hands them over; the 5th record of partition 1 is not an audit event. */
function oneFetch(): RecordBatch[] {
  const all = warmUpRawRecords({ count: 30, seed: 7 });
  return [0, 1, 2].map((partition) => {
    const records: IncomingRecord[] = all.slice(partition * 10, partition * 10 + 10).map((r, i) => ({ ...r, partition, offset: String(100 + i) }));
    if (partition === 1) records[4] = { ...(records[4] as IncomingRecord), value: Buffer.from('{"kind":"Event","verb":"get"}') };
    return { topic: 'raw', partition, records, firstOffset: '100', lastOffset: '109', highWatermark: '110' };
  });
}

/** Each produced enriched.v2 record's events, decoded: [key, auditID] in the record's order. */
const enrichedEvents = (records: readonly OutgoingRecord[]): [string, string][] =>
  records.flatMap((r) => {
    const split = decodeEnrichedBatch(r.value as Buffer);
    if (!split.ok) throw new Error(split.reason);
    return split.events.map((e): [string, string] => [String(r.key), codec.decode(e, r.headers?.[SCHEMA_FINGERPRINT_HEADER]?.toString()).auditID]);
  });
/** The auditIDs of each key, in order. */
const byKey = (events: readonly [string, string][]): Map<string, string[]> => {
  const m = new Map<string, string[]>();
  for (const [k, id] of events) m.set(k, [...(m.get(k) ?? []), id]);
  return m;
};
const rawIds = (records: readonly IncomingRecord[]): string[] => records.map((r) => (JSON.parse(r.value?.toString() ?? '{}') as { auditID?: string }).auditID ?? '');

describe('createEnrichHandler: the batches of one fetch are produced together', () => {
  it('gathers the batches handed over at once into one produce request, each batch in its order, and dead-letters the bad record alone', async () => {
    const { producer, sends, settleAll } = heldProducer();
    const handler = handlerWith(producer, 3);
    const batches = oneFetch();
    const handled = Promise.all(batches.map((b) => handler(b, ctx)));
    await settleAll('ack');
    await handled;

    const produced = sends.filter((s) => s.topic === OUTPUT);
    // One request for all three partitions (not one per partition, each a full acks=all round trip).
    expect(produced).toHaveLength(1);
    const expected = batches.flatMap((b) => rawIds(b.records.filter((_, i) => !(b.partition === 1 && i === 4))));
    const events = enrichedEvents(produced[0]?.records ?? []);
    // Every event once; each key's events in the batches' order (enriched.v2 groups a batch's events per key).
    expect(events.map(([, id]) => id).sort()).toEqual([...expected].sort());
    for (const ids of byKey(events).values()) expect(ids).toEqual(expected.filter((id) => ids.includes(id)));
    // One record per key of each batch: fewer records than events whenever a key repeats within a batch.
    const keysPerBatch = batches.map((b) => new Set(b.records.filter((_, i) => !(b.partition === 1 && i === 4)).map((r) => enrichedKeyOf(r))).size);
    expect(produced[0]?.records.length).toBe(keysPerBatch.reduce((a, n) => a + n, 0));
    expect(produced[0]?.records.length).toBeLessThan(expected.length);
    const dead = sends.filter((s) => s.topic === DLQ).flatMap((s) => s.records);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.value.toString()).toBe('{"kind":"Event","verb":"get"}');
    expect(dead[0]?.headers?.[DLQ_HEADERS.partition]?.toString()).toBe('1');
    expect(dead[0]?.headers?.[DLQ_HEADERS.offset]?.toString()).toBe('104');
  });

  it('resolves no batch of a block (so none is committed) before its produce and dead letters are acknowledged', async () => {
    const { producer, held, settleAll } = heldProducer();
    const handler = handlerWith(producer, 3);
    const settled: boolean[] = [false, false, false];
    const handled = Promise.all(oneFetch().map((b, i) => handler(b, ctx).then(() => void (settled[i] = true))));
    for (let turns = 0; turns < 20 && held.length === 0; turns++) await nextTurn();
    expect(held.length).toBeGreaterThan(0);
    await nextTurn();
    expect(settled).toEqual([false, false, false]);
    await settleAll('ack');
    await handled;
    expect(settled).toEqual([true, true, true]);
  });

  it('fails every batch of a block whose produce failed: none is committed, each is retried', async () => {
    const { producer, settleAll } = heldProducer();
    const handler = handlerWith(producer, 3);
    const outcomes = Promise.allSettled(oneFetch().map((b) => handler(b, ctx)));
    await settleAll(new Error('broker gone'));
    expect((await outcomes).map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});
