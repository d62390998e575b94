/**
 * Compression of the raw and enriched topics (issue 13): the same realistic records produced with
 * each codec kaudit offers (KAFKA_COMPRESSION), in the same run, on the same broker, with the same
 * sends and concurrency, each codec to a topic of its own. Per codec and topic:
 *  - bytes per event on the broker: its segment files after the run (the broker's own storage, record
 *    batch framing included), so only for a local broker;
 *  - producer CPU-seconds per million events: process.cpuUsage() (all threads, so zlib's and the
 *    native codecs' thread-pool work counts) around the produce loop; the records are built before it;
 *  - throughput of that loop.
 * Each as a ratio to `none`. The first WARM_SHARE of each loop (connect, metadata, JIT, first use of
 * the codec) is reported apart from the steady rest.
 *
 * Raw records are ingest's (buildRawRecords: JSON bytes, key = cluster/user, raw headers) for generated
 * traffic sent as webhook batches of one cluster each; enriched records are what the real enrich
 * service wrote for them (Avro, key = cluster/actor), read back once and replayed.
 */
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { auditTraffic } from '@kaudit/audit-generator';
import { loadEventWindow } from '@kaudit/config';
import { buildEnrich, loadEnrichConfig } from '@kaudit/enrich';
import { Lifecycle } from '@kaudit/runtime';
import { buildRawRecords } from '@kaudit/ingest';
import { createKafkaClient, decodeRawBatch, isRawBatch, type KafkaAdmin, type KafkaCompression, type OutgoingRecord } from '@kaudit/kafka';
import { consumeAll, consumeEnrichedEvents, topicLogBytes } from '@kaudit/testkit';
import type { BenchContext, BenchFigure, BenchRun } from './bench-types.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

const CODECS: readonly KafkaCompression[] = ['none', 'gzip', 'lz4', 'zstd'];
const CLUSTERS = ['prod-eu-1', 'prod-eu-2', 'prod-us-1', 'prod-us-2', 'prod-ap-1', 'stage-eu-1', 'stage-us-1', 'dev-1'];
/** kube-apiserver's default --audit-webhook-batch-max-size: one webhook request, one send. */
const BATCH = 400;
/** Sends outstanding at once, as ingest's BatchingPublisher keeps them (one on the wire, one being built). */
const CONCURRENCY = 2;
const PARTITIONS = 3;
const WARM_SHARE = 0.1;

interface Loop {
  events: number;
  seconds: number;
  cpuSeconds: number;
}

interface CodecResult {
  warm: Loop;
  steady: Loop;
  bytesPerEvent: number | undefined;
}

/**
 * Sends `chunks` with CONCURRENCY sends outstanding; CPU and wall time of the whole loop. With `firstAlone`
 * the first send goes out by itself: on a new topic kafkajs' idempotent producer can answer two concurrent
 * first sends, retried after a NOT_LEADER from a partition whose leader is still settling, with
 * OUT_OF_ORDER_SEQUENCE_NUMBER (seen here); one send first fetches the metadata, as a running service has it.
 */
async function produceLoop(send: (chunk: readonly OutgoingRecord[]) => Promise<unknown>, chunks: readonly (readonly OutgoingRecord[])[], firstAlone = false): Promise<Loop> {
  let next = 0;
  const cpu = process.cpuUsage();
  const began = performance.now();
  if (firstAlone && chunks.length > 0) await send(chunks[next++] as readonly OutgoingRecord[]);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < chunks.length; i = next++) await send(chunks[i] as readonly OutgoingRecord[]);
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  const used = process.cpuUsage(cpu);
  return { events: chunks.reduce((n, c) => n + c.length, 0), seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

async function measureCodec(ctx: BenchContext, admin: KafkaAdmin, kind: string, compression: KafkaCompression, chunks: readonly (readonly OutgoingRecord[])[]): Promise<CodecResult> {
  const topic = uniqueName(`bench_compression_${kind}_${compression}`);
  await admin.ensureTopics([{ topic, partitions: PARTITIONS }]);
  // A client of its own per codec: nothing (connections, metadata) is shared with the previous codec's run.
  const producer = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: `bench-compression-${compression}`, logger: ctx.logger }).producer({ compression, sendTimeoutMs: 60_000 });
  await producer.start();
  try {
    const warmChunks = Math.max(1, Math.round(chunks.length * WARM_SHARE));
    const send = (chunk: readonly OutgoingRecord[]) => producer.send(topic, chunk);
    const warm = await produceLoop(send, chunks.slice(0, warmChunks), true);
    const steady = await produceLoop(send, chunks.slice(warmChunks));
    const events = warm.events + steady.events;
    const landed = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    if (landed !== events) throw new Error(`${events} records acknowledged but ${landed} are on ${topic}`);
    return { warm, steady, bytesPerEvent: ctx.kafkaDataDir === undefined ? undefined : topicLogBytes(ctx.kafkaDataDir, topic) / events };
  } finally {
    await producer.stop();
    // The bytes were read above; the topic itself is not needed any more.
    await admin.deleteTopics([topic]).catch(() => undefined);
  }
}

/** Raw records as ingest builds them, grouped like webhook requests: up to BATCH events of one cluster. */
function rawChunks(n: number): OutgoingRecord[][] {
  const now = Date.now();
  const window = loadEventWindow({}, 'bench');
  const traffic = auditTraffic({ seed: 13, clusters: CLUSTERS, startMs: now - 3_600_000, stepMs: 3_000_000 / n });
  const pending = new Map<string, Record<string, unknown>[]>(CLUSTERS.map((c) => [c, []]));
  const chunks: OutgoingRecord[][] = [];
  const flush = (cluster: string) => {
    const items = pending.get(cluster) ?? [];
    if (items.length === 0) return;
    const built = buildRawRecords(items, { cluster, receivedAt: new Date(now), source: 'webhook', instance: 'bench/compression', maxEventBytes: 1_048_576, window });
    if (built.rejected.length > 0) throw new Error(`generated events were refused: ${built.rejected[0]?.reason}`);
    chunks.push(built.records);
    pending.set(cluster, []);
  };
  for (let i = 0; i < n; i++) {
    const { cluster, event } = traffic.next().value as { cluster: string; event: Record<string, unknown> };
    const items = pending.get(cluster) ?? [];
    items.push(event);
    pending.set(cluster, items);
    if (items.length >= BATCH) flush(cluster);
  }
  for (const c of CLUSTERS) flush(c);
  return chunks;
}

/** What the real enrich service writes for those raw records, read back once (uncompressed). */
async function enrichedChunks(ctx: BenchContext, admin: KafkaAdmin, raw: readonly (readonly OutgoingRecord[])[]): Promise<OutgoingRecord[][]> {
  const topics = { raw: uniqueName('bench_compression_src_raw'), enriched: uniqueName('bench_compression_src_enriched'), dlq: uniqueName('bench_compression_src_dlq') };
  await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: PARTITIONS })));
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-compression-enrich', logger: ctx.logger });
  try {
    const producer = client.producer();
    await producer.start();
    for (const chunk of raw) await producer.send(topics.raw, chunk);
    await producer.stop();
    // Events, not records: a raw.v2 record holds several, and enrich writes them grouped per key (enriched.v2).
    let n = 0;
    for (const chunk of raw) {
      for (const r of chunk) {
        const decoded = r.value instanceof Buffer && isRawBatch(r.value) ? decodeRawBatch(r.value) : undefined;
        n += decoded?.ok === true ? decoded.events.length : 1;
      }
    }
    const config = loadEnrichConfig({ KAFKA_BROKERS: ctx.kafkaBrokers, ENRICH_GROUP_ID: uniqueName('bench_compression'), ENRICH_INPUT_TOPIC: topics.raw, ENRICH_OUTPUT_TOPIC: topics.enriched, ENRICH_DLQ_TOPIC: topics.dlq, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0' });
    const service = new Lifecycle({ logger: ctx.logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...buildEnrich(config, { logger: ctx.logger, registry: new Registry(), kafka: client }).components);
    await service.start();
    let records: Awaited<ReturnType<typeof consumeAll>>;
    try {
      const events = await consumeEnrichedEvents(client, topics.enriched, n, 600_000);
      if (events.length !== n) throw new Error(`enrich wrote ${events.length} of ${n} events`);
      const written = (await admin.fetchTopicOffsets(topics.enriched)).reduce((sum, p) => sum + Number(p.high), 0);
      records = await consumeAll(client, topics.enriched, written, 600_000);
    } finally {
      await service.stop();
    }
    // Replayed in the order enrich wrote them per partition, in sends of BATCH, as its handler sends a fetched batch.
    const out = records.map((r): OutgoingRecord => ({ key: r.key, value: r.value ?? Buffer.alloc(0), headers: r.headers }));
    return Array.from({ length: Math.ceil(out.length / BATCH) }, (_, i) => out.slice(i * BATCH, (i + 1) * BATCH));
  } finally {
    await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
  }
}

const perMillion = (l: Loop) => (l.cpuSeconds / l.events) * 1e6;
const rate = (l: Loop) => l.events / l.seconds;

function figures(kind: string, n: number, results: Map<KafkaCompression, CodecResult>): BenchFigure[] {
  const none = results.get('none') as CodecResult;
  const out: BenchFigure[] = [];
  const vs = (baseline: number, codec: KafkaCompression) => (codec === 'none' ? {} : { baseline, baselineName: 'none, same run' });
  for (const [codec, r] of results) {
    if (r.bytesPerEvent !== undefined && none.bytesPerEvent !== undefined) {
      out.push({ name: `${kind} (${n} events): bytes per event on the broker, ${codec}`, value: r.bytesPerEvent, unit: 'B', ...vs(none.bytesPerEvent, codec) });
    }
    out.push({ name: `${kind}: producer CPU per million events, steady, ${codec}`, value: perMillion(r.steady), unit: 'CPU-s', ...vs(perMillion(none.steady), codec) });
    out.push({ name: `${kind}: producer CPU per million events, warm-up, ${codec}`, value: perMillion(r.warm), unit: 'CPU-s', ...vs(perMillion(none.warm), codec) });
    out.push({ name: `${kind}: produce throughput, steady, ${codec}`, value: rate(r.steady), unit: 'events/s', ...vs(rate(none.steady), codec) });
    out.push({ name: `${kind}: produce throughput, warm-up, ${codec}`, value: rate(r.warm), unit: 'events/s', ...vs(rate(none.warm), codec) });
  }
  return out;
}

export const run: BenchRun = async (ctx) => {
  const n = Math.max(4000, Math.round(40_000 * ctx.scale));
  if (ctx.kafkaDataDir === undefined) ctx.logger.warn({ event: 'bench_compression_no_bytes' }, 'external Kafka: bytes per event on the broker need its segment files, so they are left out');
  const admin = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-compression-admin', logger: ctx.logger }).admin();
  await admin.start();
  try {
    const raw = rawChunks(n);
    const enriched = await enrichedChunks(ctx, admin, raw);
    const out: BenchFigure[] = [];
    for (const [kind, chunks] of [
      ['raw topic', raw],
      ['enriched topic', enriched],
    ] as const) {
      const results = new Map<KafkaCompression, CodecResult>();
      for (const codec of CODECS) results.set(codec, await measureCodec(ctx, admin, kind.split(' ')[0] as string, codec, chunks));
      out.push(...figures(kind, n, results));
    }
    return out;
  } finally {
    await admin.stop();
  }
};
