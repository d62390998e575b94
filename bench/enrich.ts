/**
 * Enrich throughput next to a raw kafkajs consume→produce loop over the same records, in the same
 * run on the same broker (issue 16: goal ≥ 0.8× a fair baseline). The baseline does enrich's I/O with
 * enrich's concurrency and batching: as many partitions handled at once (ENRICH_PARTITIONS_CONCURRENTLY),
 * one producer shared by them with one send in flight (what libs/kafka allows an idempotent producer),
 * sends bounded like enrich's (900 KiB) and compressed with enrich's producer codec, commit after the send. Both read the same raw topic with their
 * own group and write to their own topic (the raw records are ingest's raw.v2 ones, several events each: the baseline
 * splits each by its framing and produces one record per event, as enrich does), fetching at most enrich's fetch byte limits
 * (ENRICH_FETCH_MAX_BYTES_PER_PARTITION / ENRICH_FETCH_MAX_BYTES); the raw records are compressed with the
 * codec ingest writes (KAFKA_COMPRESSION's default), since those limits count stored bytes; throughput is measured on the output topic from the first
 * record out to the last, so consumer-group join time counts for neither. CPU per event (this process:
 * the bench's own polling is the same in both) is reported next to the floor (JSON.parse, Avro encode
 * and decode of the same events), and so is the event loop's own CPU per event (the main thread): what bounds
 * the throughput when another core is free for the rest. Enrich runs twice, as shipped and with the other
 * ENRICH_THREADS setting (0 ↔ 1), so the default is chosen on figures of the same run.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, RAW_CODECS } from './raw-kafkajs.js';
import { Registry } from 'prom-client';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { DEFAULT_KAFKA_COMPRESSION, loadEventWindow } from '@kaudit/config';
import { createKafkaClient, decodeRawBatch, groupEnrichedRecords, type KafkaAdmin, type OutgoingRecord } from '@kaudit/kafka';
import { buildEnrich, loadEnrichConfig } from '@kaudit/enrich';
import { buildRawRecords } from '@kaudit/ingest';
import { Lifecycle } from '@kaudit/runtime';
import { consumeAll, consumeEnrichedEvents } from '@kaudit/testkit';
import type { BenchFigure, BenchRun } from './bench-types.js';
import { cpuFloor } from './stage-cpu.js';
import { threadCpu } from './thread-cpu.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

const FIXTURES = fileURLToPath(new URL('../services/enrich/src/fixtures/', import.meta.url));

/**
 * The enrich fixtures weighted like typical audit policies: about three quarters Metadata-level (no
 * bodies), the rest Request/RequestResponse with Secrets, pods, RBAC, ConfigMaps and tokens.
 */
function sampleEvents(): Record<string, unknown>[] {
  const events = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(`${FIXTURES}${f}`, 'utf8')) as Record<string, unknown>);
  const metadataOnly = events.filter((e) => e.level === 'Metadata');
  return [...events, ...Array.from({ length: 10 }, () => metadataOnly).flat()];
}

/**
 * Events per raw offset: partition → events in the records before each offset (index = offset). Enrich writes
 * enriched.v2, several events a record grouped per fetch, so records out no longer count events out; both loops
 * commit a raw record only after what they made of it was acknowledged, so the events before the committed offsets
 * are the events done — counted the same way for enrich and for the baseline.
 */
type EventsBefore = ReadonlyMap<number, readonly number[]>;

async function eventsDone(admin: KafkaAdmin, groupId: string, topic: string, before: EventsBefore): Promise<number> {
  let done = 0;
  for (const { partition, offset } of await admin.fetchCommittedOffsets(groupId, topic)) {
    const sums = before.get(partition);
    if (sums === undefined || offset === '-1') continue;
    done += sums[Math.min(Number(offset), sums.length - 1)] ?? 0;
  }
  return done;
}

/** Enrich's bound of one produce request (services/enrich/src/enrich-handler.ts). */
const MAX_SEND_BYTES = 900 * 1024;

interface Measured {
  eventsPerSecond: number;
  /** CPU of this process from the first record out to the last, per event: the steady state. */
  cpuUsPerEvent: number;
  /** The same from the start of the phase (start-up, consumer join and warm-up included). */
  cpuUsPerEventWhole: number;
  /**
   * CPU of the event loop alone (the main thread, /proc) per event, first record out to last: what bounds the
   * throughput when a core is free for the rest (enrich threads with ENRICH_THREADS > 0, libuv's pool, GC threads).
   */
  loopUsPerEvent: number;
  /** Peak RSS of this process while measuring, MiB (the bench's own memory included: compare the phases, not with a service alone). */
  rssPeakMiB: number;
}

/** The main thread's CPU so far, µs (/proc's 10 ms ticks). */
const loopMicros = (): number => threadCpu(process.pid, String(process.pid)) * 1e6;

/** Polls the events done (committed input); returns events/s between the first and the n-th, and CPU per event. */
async function measure(admin: KafkaAdmin, input: { groupId: string; topic: string; before: EventsBefore }, n: number, timeoutMs: number, cpuFrom: NodeJS.CpuUsage): Promise<Measured> {
  const deadline = Date.now() + timeoutMs;
  let first: { at: number; count: number; cpu: NodeJS.CpuUsage; loop: number } | undefined;
  const micros = (u: NodeJS.CpuUsage) => u.user + u.system;
  let rss = 0;
  for (;;) {
    rss = Math.max(rss, process.memoryUsage.rss());
    const count = await eventsDone(admin, input.groupId, input.topic, input.before);
    const at = performance.now();
    if (first === undefined && count > 0) first = { at, count, cpu: process.cpuUsage(), loop: loopMicros() };
    if (first !== undefined && count >= n) {
      const steady = count > first.count ? micros(process.cpuUsage(first.cpu)) / (count - first.count) : Number.NaN;
      const loop = count > first.count ? (loopMicros() - first.loop) / (count - first.count) : Number.NaN;
      return { eventsPerSecond: (count - first.count) / ((at - first.at) / 1000), cpuUsPerEvent: steady, cpuUsPerEventWhole: micros(process.cpuUsage(cpuFrom)) / count, loopUsPerEvent: loop, rssPeakMiB: rss / 2 ** 20 };
    }
    if (Date.now() > deadline) throw new Error(`only ${count}/${n} events of ${input.topic} done (committed by ${input.groupId}) in time`);
    await sleep(100);
  }
}

export const run: BenchRun = async (ctx) => {
  // 150,000 events: enrich now does 30,000 in well under a second, too short a window between the first commit seen and the last.
  const n = Math.max(2000, Math.round(150_000 * ctx.scale));
  const partitions = 3;
  const raw = uniqueName('bench_enrich_raw');
  const baselineOut = uniqueName('bench_enrich_baseline_out');
  const baselineOut2 = uniqueName('bench_enrich_baseline_out');
  const enrichOut = uniqueName('bench_enrich_out');
  const threadsOut = uniqueName('bench_enrich_threads_out');
  const dlq = uniqueName('bench_enrich_dlq');
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-enrich', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  const kafka = new Kafka({ clientId: 'bench-enrich-raw', brokers: [ctx.kafkaBrokers], logLevel: logLevel.NOTHING });
  try {
    await admin.ensureTopics([raw, baselineOut, baselineOut2, enrichOut, threadsOut, dlq].map((topic) => ({ topic, partitions })));

    // The same raw records for both, as ingest writes them (buildRawRecords: raw.v2, one user's events of a body in
    // as few records as fit, key = cluster/user, RAW_HEADERS): each 200 generated events are one cluster's body.
    const events = sampleEvents();
    const rawValues: Buffer[] = [];
    const window = loadEventWindow({ KAUDIT_RETENTION_DAYS: '3650' }, 'bench enrich');
    // Compressed as ingest writes them: enrich's fetch limits count stored bytes.
    const producer = client.producer({ compression: DEFAULT_KAFKA_COMPRESSION });
    await producer.start();
    let rawRecords = 0;
    for (let start = 0; start < n; start += 200) {
      const items: Record<string, unknown>[] = [];
      for (let i = start; i < Math.min(start + 200, n); i++) {
        const event: Record<string, unknown> = { ...(events[i % events.length] as Record<string, unknown>), auditID: `bench-${i}` };
        if (i < events.length) rawValues.push(Buffer.from(JSON.stringify(event)));
        items.push(event);
      }
      // A body is one cluster's, as the apiserver sends it: 24 clusters, round-robin.
      const cluster = `cluster-${(start / 200) % 24}`;
      const built = buildRawRecords(items, { cluster, receivedAt: new Date(), source: 'webhook', instance: 'bench', maxEventBytes: 256 * 1024, window });
      if (built.rejected.length > 0) throw new Error(`bench events refused: ${built.rejected[0]?.reason}`);
      const records = built.records;
      rawRecords += records.length;
      await producer.send(raw, records);
    }
    await producer.stop();
    // Read back once, before anything is measured: how many events each raw record holds, where it landed.
    const counted = new Map<number, number[]>();
    for (const r of await consumeAll(client, raw, rawRecords, 60_000)) {
      const decoded = decodeRawBatch(r.value ?? Buffer.alloc(0));
      if (!decoded.ok) throw new Error(`bench raw record ${r.offset}: ${decoded.reason}`);
      const perOffset = counted.get(r.partition) ?? [];
      counted.set(r.partition, perOffset);
      perOffset[Number(r.offset)] = decoded.events.length;
    }
    const before = new Map<number, number[]>();
    let rawEvents = 0;
    for (const [partition, perOffset] of counted) {
      const sums = [0];
      for (let o = 0; o < perOffset.length; o++) sums.push((sums[o] ?? 0) + (perOffset[o] ?? 0));
      before.set(partition, sums);
      rawEvents += sums[sums.length - 1] ?? 0;
    }
    if (rawEvents !== n) throw new Error(`the raw topic holds ${rawEvents} events of the ${n} produced`);

    // Enrich's settings, for the baseline to use the same.
    const config = loadEnrichConfig({
      KAFKA_BROKERS: ctx.kafkaBrokers,
      ENRICH_GROUP_ID: uniqueName('bench_enrich'),
      ENRICH_INPUT_TOPIC: raw,
      ENRICH_OUTPUT_TOPIC: enrichOut,
      ENRICH_DLQ_TOPIC: dlq,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
    });
    const concurrency = config.kafka.partitionsConcurrently;

    // Baseline: kafkajs eachBatch on `concurrency` partitions at once → the same bytes through one
    // idempotent acks=-1 producer, one send in flight, sends of at most 900 KiB compressed as enrich's → commit. Run once
    // before and once after enrich and averaged, so load drifting on a shared machine biases neither.
    const rawLoop = async (out: string): Promise<Measured> => {
      const cpuFrom = process.cpuUsage();
      const rawProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await rawProducer.connect();
      let queue: Promise<unknown> = Promise.resolve();
      type Messages = Parameters<typeof rawProducer.send>[0]['messages'];
      // Compressed with enrich's producer codec (KAFKA_COMPRESSION): the same bytes on the wire and at the broker.
      const compression = RAW_CODECS[config.kafka.compression];
      const sendAlone = (chunk: Messages) => {
        const sending = queue.then(() => rawProducer.send({ topic: out, acks: -1, compression, messages: chunk }));
        queue = sending.catch(() => undefined);
        return sending;
      };
      const baselineGroup = uniqueName('bench_enrich_baseline');
      const rawConsumer = kafka.consumer({ groupId: baselineGroup, maxBytesPerPartition: config.kafka.fetchMaxBytesPerPartition, maxBytes: config.kafka.fetchMaxBytes });
      await rawConsumer.connect();
      await rawConsumer.subscribe({ topics: [raw], fromBeginning: true });
      await rawConsumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: concurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          // Enrich's I/O: each raw.v2 record read is split into its events (the framing only, views of the value),
          // and the batch's events are produced as enriched.v2 records, grouped per key as enrich groups them (its
          // key is per actor, the raw key per user: the same grouping for this traffic), with the record's headers.
          const events: OutgoingRecord[] = [];
          for (const m of batch.messages) {
            const decoded = decodeRawBatch(m.value ?? Buffer.alloc(0));
            if (!decoded.ok) throw new Error(`bench raw record ${m.offset}: ${decoded.reason}`);
            for (const e of decoded.events) events.push({ key: m.key, value: e.value, headers: m.headers as Record<string, Buffer> });
          }
          let chunk: Messages = [];
          let bytes = 0;
          for (const r of groupEnrichedRecords(events)) {
            const size = r.value.length + (r.key?.length ?? 0) + 160;
            if (chunk.length > 0 && bytes + size > MAX_SEND_BYTES) {
              await sendAlone(chunk);
              chunk = [];
              bytes = 0;
            }
            chunk.push({ key: r.key, value: r.value, headers: r.headers });
            bytes += size;
          }
          if (chunk.length > 0) await sendAlone(chunk);
          const last = batch.messages[batch.messages.length - 1];
          if (!last) return;
          resolveOffset(last.offset);
          await rawConsumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
          await heartbeat();
        },
      });
      try {
        return await measure(admin, { groupId: baselineGroup, topic: raw, before }, n, 120_000, cpuFrom);
      } finally {
        await rawConsumer.disconnect();
        await rawProducer.disconnect();
      }
    };
    const baselineBefore = await rawLoop(baselineOut);

    // Enrich: the real service, built from its parts, on its own topics (and group): as configured by default, then
    // with one enrich thread (ENRICH_THREADS=1), for the default to be chosen on these figures.
    const enrichRun = async (threads: number, out: string): Promise<Measured> => {
      const cfg = { ...config, kafka: { ...config.kafka, groupId: uniqueName('bench_enrich'), outputTopic: out }, enrich: { ...config.enrich, threads } };
      const cpuFrom = process.cpuUsage();
      const service = new Lifecycle({ logger: ctx.logger, shutdownTimeoutMs: cfg.shutdownTimeoutMs }).add(...buildEnrich(cfg, { logger: ctx.logger, registry: new Registry(), kafka: client }).components);
      await service.start();
      try {
        return await measure(admin, { groupId: cfg.kafka.groupId, topic: raw, before }, n, 180_000, cpuFrom);
      } finally {
        await service.stop();
      }
    };
    const enriched = await enrichRun(config.enrich.threads, enrichOut);
    const otherThreads = config.enrich.threads === 0 ? 1 : 0;
    const enrichedOther = await enrichRun(otherThreads, threadsOut);
    const baselineAfter = await rawLoop(baselineOut2);
    const baseline = (baselineBefore.eventsPerSecond + baselineAfter.eventsPerSecond) / 2;
    const baselineCpu = (baselineBefore.cpuUsPerEvent + baselineAfter.cpuUsPerEvent) / 2;
    const baselineCpuWhole = (baselineBefore.cpuUsPerEventWhole + baselineAfter.cpuUsPerEventWhole) / 2;
    const baselineLoop = (baselineBefore.loopUsPerEvent + baselineAfter.loopUsPerEvent) / 2;

    // The floor, on the same events: their raw JSON, and the records enrich made of them.
    const codec = new AuditRecordCodec();
    const sample = await consumeEnrichedEvents(client, enrichOut, Math.min(n, 2000), 60_000);
    const records = sample.map((r) => codec.decode(r.value ?? Buffer.alloc(0), r.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()));
    const floor = cpuFloor(rawValues, records, codec);
    const floorUs = floor.jsonParseUs + floor.avroEncodeUs + floor.avroDecodeUs;
    ctx.logger.warn({ baselineBefore, enriched, enrichedOther, baselineAfter, floor }, 'enrich bench runs');
    const same = `${concurrency} partitions at once, one send in flight, sends ≤ 900 KiB compressed ${config.kafka.compression} as enrich's`;
    const figures: BenchFigure[] = [
      {
        name: `enrich throughput (${n} events, ${partitions} partitions; ENRICH_THREADS=${config.enrich.threads}, as shipped)`,
        value: enriched.eventsPerSecond,
        unit: 'events/s',
        baseline,
        baselineName: `raw kafkajs consume→produce, same records, ${same}, mean of a run before and after`,
        goal: '>= 0.8x',
      },
      {
        name: `enrich throughput with ENRICH_THREADS=${otherThreads} (the other setting; same run)`,
        value: enrichedOther.eventsPerSecond,
        unit: 'events/s',
        baseline,
        baselineName: 'the same baseline',
        goal: '>= 0.8x',
      },
      {
        name: `enrich CPU per event, steady state, ENRICH_THREADS=${otherThreads}`,
        value: enrichedOther.cpuUsPerEvent,
        unit: 'µs/event',
        baseline: baselineCpu,
        baselineName: 'raw kafkajs consume→produce loop, same records',
      },
      {
        name: `enrich event-loop CPU per event, steady state, ENRICH_THREADS=${otherThreads}`,
        value: enrichedOther.loopUsPerEvent,
        unit: 'µs/event',
        baseline: baselineLoop,
        baselineName: 'raw kafkajs consume→produce loop, same records',
      },
      {
        name: 'enrich CPU per event, steady state (this process, first record out to last)',
        value: enriched.cpuUsPerEvent,
        unit: 'µs/event',
        baseline: baselineCpu,
        baselineName: 'raw kafkajs consume→produce loop, same records',
      },
      {
        name: `enrich event-loop CPU per event, steady state (main thread; ENRICH_THREADS=${config.enrich.threads})`,
        value: enriched.loopUsPerEvent,
        unit: 'µs/event',
        baseline: baselineLoop,
        baselineName: 'raw kafkajs consume→produce loop, same records',
      },
      { name: `RSS peak of the bench process, enrich phase (ENRICH_THREADS=${config.enrich.threads})`, value: enriched.rssPeakMiB, unit: 'MiB' },
      { name: `RSS peak of the bench process, enrich phase (ENRICH_THREADS=${otherThreads})`, value: enrichedOther.rssPeakMiB, unit: 'MiB' },
      {
        name: 'enrich CPU per event, whole phase (start-up, group join and warm-up included)',
        value: enriched.cpuUsPerEventWhole,
        unit: 'µs/event',
        baseline: baselineCpuWhole,
        baselineName: 'raw kafkajs consume→produce loop, same records',
      },
      {
        name: 'floor: JSON.parse + Avro encode + Avro decode of the same events',
        value: floorUs,
        unit: 'µs/event',
      },
      { name: 'floor: JSON.parse of the raw events', value: floor.jsonParseUs, unit: 'µs/event' },
      { name: `raw.v2 records read by both (${rawRecords.toLocaleString('en-US')} records of ${n.toLocaleString('en-US')} events, as ingest makes them of 200-event bodies, one cluster each)`, value: n / rawRecords, unit: 'events/record' },
      { name: 'floor: Avro encode of the enriched records', value: floor.avroEncodeUs, unit: 'µs/event' },
      { name: 'floor: Avro decode of the enriched records', value: floor.avroDecodeUs, unit: 'µs/event' },
    ];
    return figures;
  } finally {
    await admin.deleteTopics([raw, baselineOut, baselineOut2, enrichOut, threadsOut, dlq]).catch(() => undefined);
    await admin.stop();
  }
};
