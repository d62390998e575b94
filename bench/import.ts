/**
 * `kaudit import` throughput (issue 15 §3): a generated apiserver log (libs/audit-generator, JSON lines with
 * request/response objects, ≥200,000 events) imported by importAuditStream — the function the CLI calls — on
 * the pipeline and producer the CLI builds (createIngestPipeline, KAFKA_COMPRESSION's default codec), against
 * the real broker. Events/s counts events Kafka acknowledged, cross-checked against the topic's own count.
 *
 * The parsing threads start before the producer connects, as in the CLI, so their loading overlaps it.
 *
 * Baseline, same run, same broker: raw kafkajs (idempotent, acks=-1, the same codec) sending the same records
 * pre-serialised (importAuditStream's own output, read back from the topic: key, value, headers), in sends of
 * the same size with the same concurrency as the adapter allows (one send in flight per producer). So the ratio
 * is what reading, parsing, validating and building the records costs on top of the I/O.
 *
 * Warm-up (connections, metadata, JIT, codec first use): a first, smaller import and a first baseline loop,
 * reported as figures of their own. For comparison, the same import with the other codecs (lz4, none) and with
 * the lines checked on the event loop (no worker thread), to show what each choice buys.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { auditTraffic } from '@kaudit/audit-generator';
import { loadEventWindow, loadKafkaCompression } from '@kaudit/config';
import { createIngestPipeline, defaultImportThreads, importAuditStream, ImportLineChecker, IMPORT_READ_BYTES, IMPORT_SEND_BYTES, type ImportSummary } from '@kaudit/ingest';
import { createKafkaClient, splitRawRecord, type KafkaAdmin, type KafkaClient, type KafkaCompression } from '@kaudit/kafka';
import { consumeAll } from '@kaudit/testkit';
import { CompressionTypes, Kafka, logLevel } from './raw-kafkajs.js';
import type { BenchFigure, BenchRun } from './bench-types.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const CLUSTER = 'bench-import';
/** The raw topic's partitions in DEFAULT_TOPIC_SPECS. */
const PARTITIONS = 6;
/** The CLI's --max-event-bytes default. */
const MAX_EVENT_BYTES = 262_144;

const RAW_CODECS: Record<KafkaCompression, number> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };

/** An apiserver log-backend file: one generated audit.k8s.io/v1 Event per line, the last hour's traffic. */
async function writeAuditLog(file: string, events: number, seed: number): Promise<number> {
  const out = createWriteStream(file);
  const traffic = auditTraffic({ seed, clusters: [CLUSTER], startMs: Date.now() - 3_600_000, stepMs: 1_800_000 / events });
  let bytes = 0;
  for (let i = 0; i < events; i++) {
    const line = `${JSON.stringify((traffic.next().value as { event: Record<string, unknown> }).event)}\n`;
    bytes += line.length;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  out.end();
  await finished(out);
  return bytes;
}

async function topicCount(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

interface ImportRun {
  summary: ImportSummary;
  seconds: number;
  cpuSeconds: number;
}

/** One `kaudit import` of `file`, wired as the CLI wires it, to topics of its own. */
async function importOnce(client: KafkaClient, admin: KafkaAdmin, file: string, compression: KafkaCompression, rawTopic: string, parseThreads?: number): Promise<ImportRun> {
  const dlqTopic = uniqueName('bench_import_dlq');
  await admin.ensureTopics([
    { topic: rawTopic, partitions: PARTITIONS },
    { topic: dlqTopic, partitions: 1 },
  ]);
  // As the CLI: the parsing threads load while the producer connects.
  const checker = new ImportLineChecker({ threads: parseThreads ?? defaultImportThreads() });
  checker.start();
  const producer = client.producer({ compression });
  await producer.start();
  try {
    const pipeline = createIngestPipeline({ producer, instance: 'bench/import', maxEventBytes: MAX_EVENT_BYTES, window: loadEventWindow({}, 'bench import'), rawTopic, dlqTopic, publishMaxBatchBytes: IMPORT_SEND_BYTES });
    let progress = 0;
    const cpu = process.cpuUsage();
    const began = performance.now();
    const summary = await importAuditStream({
      input: createReadStream(file, { highWaterMark: IMPORT_READ_BYTES }),
      format: 'auto',
      cluster: CLUSTER,
      pipeline,
      onProgress: () => progress++,
      checker,
    });
    const seconds = (performance.now() - began) / 1000;
    const used = process.cpuUsage(cpu);
    if (summary.failedRecords > 0 || summary.accepted !== summary.events) throw new Error(`import refused generated events: ${JSON.stringify(summary.failures.slice(0, 3))}`);
    if (progress === 0) throw new Error('import reported no progress');
    // Acknowledged means on the topic: the figure counts only what the broker has. Records, not events (raw.v2
    // holds many a record): at least one, at most one per event; measurePair counts the events it reads back.
    const landed = await topicCount(admin, rawTopic);
    if (landed === 0 || landed > summary.accepted) throw new Error(`import acknowledged ${summary.accepted} events but ${landed} records are on ${rawTopic}`);
    return { summary, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await producer.stop();
    await checker.stop();
    await admin.deleteTopics([dlqTopic]).catch(() => undefined);
  }
}

interface RawRecord {
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, Buffer>;
  partition: number;
  /** Audit events in it (raw.v2: several), so the baseline's rate is in events like the import's. */
  events: number;
}

/** Sends of at most IMPORT_SEND_BYTES (the import's own bound), records in the order they are on the topic. */
function rawSends(records: readonly RawRecord[]): RawRecord[][] {
  const sends: RawRecord[][] = [];
  let current: RawRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    let size = r.value.length + (r.key?.length ?? 0) + 64;
    for (const [name, value] of Object.entries(r.headers)) size += name.length + value.length + 8;
    if (current.length > 0 && bytes + size > IMPORT_SEND_BYTES) {
      sends.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) sends.push(current);
  return sends;
}

/** Raw kafkajs sending `sends` one at a time (one in flight, as the adapter does). */
async function rawLoop(brokers: string, admin: KafkaAdmin, compression: KafkaCompression, sends: readonly RawRecord[][]): Promise<{ events: number; seconds: number; cpuSeconds: number }> {
  const topic = uniqueName('bench_import_baseline');
  await admin.ensureTopics([{ topic, partitions: PARTITIONS }]);
  const kafka = new Kafka({ clientId: 'bench-import-raw', brokers: [brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const cpu = process.cpuUsage();
    const began = performance.now();
    let events = 0;
    let records = 0;
    for (const send of sends) {
      await producer.send({ topic, acks: -1, compression: RAW_CODECS[compression], messages: send.map((r) => ({ key: r.key, value: r.value, headers: r.headers, partition: r.partition })) });
      records += send.length;
      for (const r of send) events += r.events;
    }
    const seconds = (performance.now() - began) / 1000;
    const used = process.cpuUsage(cpu);
    const landed = await topicCount(admin, topic);
    if (landed !== records) throw new Error(`raw baseline acknowledged ${records} records but ${landed} are on ${topic}`);
    return { events, seconds, cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await producer.disconnect();
    await admin.deleteTopics([topic]).catch(() => undefined);
  }
}

export const run: BenchRun = async (ctx) => {
  const events = Math.max(20_000, Math.round(200_000 * ctx.scale));
  const warmEvents = Math.max(5_000, Math.round(events / 5));
  const compression = loadKafkaCompression({});
  const dir = mkdtempSync(join(tmpdir(), 'kaudit-bench-import-'));
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-import', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  const topics: string[] = [];
  try {
    const warmFile = join(dir, 'warm.log');
    const file = join(dir, 'audit.log');
    await writeAuditLog(warmFile, warmEvents, 7);
    const bytes = await writeAuditLog(file, events, 15);

    // The broker is a fresh JVM too: warm it (and this process) with a first import and its baseline before the
    // measured pair, and run each measured import right before its baseline, so neither runs on a colder broker.
    const readBack = async (topic: string) =>
      (await consumeAll(client, topic, await topicCount(admin, topic), 600_000)).map((r): RawRecord => {
        const split = splitRawRecord(r);
        if (!split.ok) throw new Error(`damaged raw record ${r.partition}/${r.offset} on ${topic}: ${split.reason}`);
        return { key: r.key, value: r.value ?? Buffer.alloc(0), headers: r.headers, partition: r.partition, events: split.events.length };
      });
    const measurePair = async (path: string) => {
      const topic = uniqueName('bench_import_raw');
      topics.push(topic);
      const imported = await importOnce(client, admin, path, compression, topic);
      // The baseline's records are exactly what the import put on the topic, in its order and partitions.
      const records = await readBack(topic);
      const landed = records.reduce((n, r) => n + r.events, 0);
      if (landed !== imported.summary.accepted) throw new Error(`import acknowledged ${imported.summary.accepted} events but ${landed} are on ${topic}`);
      const sends = rawSends(records);
      await admin.deleteTopics(topics.splice(0)).catch(() => undefined);
      return { imported, raw: await rawLoop(ctx.kafkaBrokers, admin, compression, sends) };
    };
    const { imported: warm, raw: rawWarm } = await measurePair(warmFile);
    const { imported: main, raw } = await measurePair(file);

    // Comparisons, each to a topic deleted at once (a 200,000-event import is ~200 MiB on the broker).
    const once = async (codec: KafkaCompression, parseThreads?: number) => {
      const topic = uniqueName('bench_import_cmp');
      topics.push(topic);
      try {
        return await importOnce(client, admin, file, codec, topic, parseThreads);
      } finally {
        await admin.deleteTopics(topics.splice(0)).catch(() => undefined);
      }
    };
    const otherCodecs = (['lz4', 'none', 'zstd'] as const).filter((c) => c !== compression);
    const byCodec: [KafkaCompression, ImportRun][] = [];
    for (const codec of otherCodecs) byCodec.push([codec, await once(codec)]);
    const onLoop = await once(compression, 0);

    const rate = (r: { summary: ImportSummary; seconds: number }) => r.summary.accepted / r.seconds;
    const baselineName = `raw kafkajs idempotent acks=-1 ${compression}, same records, sends ≤ ${Math.round(IMPORT_SEND_BYTES / 1024)} KiB, one in flight`;
    const figures: BenchFigure[] = [
      {
        name: `import acknowledged events/s (${events} events, ${Math.round(bytes / events)} B/event, JSON lines, ${compression})`,
        value: rate(main),
        unit: 'events/s',
        baseline: raw.events / raw.seconds,
        baselineName,
        goal: '>= 20,000 events/s',
      },
      { name: `import warm-up: first ${warmEvents} events of a fresh producer`, value: rate(warm), unit: 'events/s', baseline: rawWarm.events / rawWarm.seconds, baselineName },
      { name: 'import CPU per million events (this process, all threads)', value: (main.cpuSeconds / main.summary.accepted) * 1e6, unit: 'CPU-s', baseline: (raw.cpuSeconds / raw.events) * 1e6, baselineName },
      { name: 'import read rate', value: main.summary.bytes / 1024 / 1024 / main.seconds, unit: 'MiB/s' },
      ...byCodec.map(([codec, r]): BenchFigure => ({ name: `import with KAFKA_COMPRESSION=${codec} (for comparison)`, value: rate(r), unit: 'events/s', baseline: rate(main), baselineName: `import, ${compression}` })),
      { name: 'import checking lines on the event loop, no worker thread (for comparison)', value: rate(onLoop), unit: 'events/s', baseline: rate(main), baselineName: 'import, worker threads' },
      {
        name: 'import on the event loop: CPU per million events (for comparison)',
        value: (onLoop.cpuSeconds / onLoop.summary.accepted) * 1e6,
        unit: 'CPU-s',
        baseline: (main.cpuSeconds / main.summary.accepted) * 1e6,
        baselineName: 'import, worker threads',
      },
    ];
    return figures;
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
