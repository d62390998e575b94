/**
 * Ingest throughput (issue 3): 400-event EventList batches of ~1.6 KB events POSTed by concurrent
 * clients to the real ingest service (a child process, as deployed), acknowledged only after Kafka
 * has every event; next to raw kafkajs producing the same records (idempotent, acks=-1) to the same
 * broker in the same run. The baseline is fair (issue 16): ingest's I/O with ingest's concurrency and
 * batching — the same clients' batches coalesced into sends of at most 900 KiB, one send in flight
 * (what libs/kafka allows an idempotent producer since the sequence-number fix). Also runs ingest once
 * with send coalescing off and once parsing on the event loop (INGEST_PARSE_THREADS=0), to show what
 * each buys, and reports ingest's CPU per event (the child's /proc counters) next to the floor
 * (JSON.parse of the same events; ingest does no Avro).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel } from './raw-kafkajs.js';
import { loadIngestConfig, rawRecordKey, sampleAuditEvent, sampleEventList } from '@kaudit/ingest';
import { AuditRecordCodec } from '@kaudit/audit-schema';
import { loadKafkaCompression } from '@kaudit/config';
import { createKafkaClient, RAW_HEADERS, type KafkaAdmin, type KafkaCompression } from '@kaudit/kafka';
import { freePort, rssMiB } from '@kaudit/stack';
import { ServiceProcess } from '@kaudit/testkit';
import type { BenchFigure, BenchRun } from './bench-types.js';
import { cpuFloor, processCpuSeconds } from './stage-cpu.js';
import { cpuSplit, perEvent, threadCpu, threadGroups, type CpuSplit } from './thread-cpu.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const BATCH = 400;
const CLIENTS = 8;
const CLUSTERS = ['bench-a', 'bench-b', 'bench-c', 'bench-d', 'bench-e'];
const RAW_CODECS: Record<KafkaCompression, number> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD };

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function topicCount(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** Runs `worker` from `clients` concurrent loops until `ms` passed; returns completed units per second. */
async function drive(clients: number, ms: number, worker: (client: number, iteration: number) => Promise<number>): Promise<{ perSecond: number; total: number }> {
  const end = performance.now() + ms;
  const began = performance.now();
  let total = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < end; i++) {
        // Not `total += await …`: that reads `total` before the await and loses the other clients' counts.
        const done = await worker(client, i);
        total += done;
      }
    }),
  );
  return { perSecond: total / ((performance.now() - began) / 1000), total };
}

interface IngestPhase {
  eventsPerSecond: number;
  /** CPU of the ingest process (all threads) during the measured phase, per acknowledged event. */
  cpuUsPerEvent: number;
  /** The same by thread: event loop, check workers, tsx's loaders (a checkout only), the rest (GC, compiler, libuv's pool). */
  threads: CpuSplit;
  p50: number;
  p99: number;
  rssPeak: number;
  non200: number;
}

async function runIngest(opts: { brokers: string; bodies: Buffer[]; tokens: string[]; clustersFile: string; ms: number; env?: Record<string, string>; dir: string; admin: KafkaAdmin }): Promise<IngestPhase> {
  const rawTopic = uniqueName('bench_ingest_raw');
  const dlqTopic = uniqueName('bench_ingest_dlq');
  await opts.admin.ensureTopics([
    { topic: rawTopic, partitions: 6 },
    { topic: dlqTopic, partitions: 1 },
  ]);
  const port = await freePort();
  const service = new ServiceProcess({
    service: 'ingest',
    httpPort: port,
    logDir: opts.dir,
    env: {
      KAFKA_BROKERS: opts.brokers,
      CLUSTERS_FILE: opts.clustersFile,
      INGEST_RAW_TOPIC: rawTopic,
      INGEST_DLQ_TOPIC: dlqTopic,
      LOG_LEVEL: 'warn',
      // sampleAuditEvent's times are fixed (2026-11-22): keep them inside the accepted window for years.
      KAUDIT_RETENTION_DAYS: '3650',
      ...opts.env,
    },
  });
  await service.start();
  // The service's own default unless the phase sets it: the same config loader tells how many check workers it runs.
  const parseThreads = loadIngestConfig({ KAFKA_BROKERS: opts.brokers, CLUSTERS_FILE: opts.clustersFile, ...opts.env }).parseThreads;
  const groups = service.pid === undefined ? { workers: [], loaders: [] } : threadGroups(service.pid, parseThreads);
  let rssPeak = 0;
  const sampler = setInterval(() => {
    if (service.pid !== undefined) rssPeak = Math.max(rssPeak, rssMiB(service.pid) ?? 0);
  }, 250);
  const latencies: number[] = [];
  let non200 = 0;
  // node:http with keep-alive, like an apiserver's webhook client; fetch (undici) spent more CPU
  // than the service itself on this 2-core box, which would have measured the client.
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    const postOnce = (path: string, token: string, body: Buffer) =>
      new Promise<{ status: number; accepted: number }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(body.length) } },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const json = JSON.parse(Buffer.concat(parts).toString('utf8')) as { accepted?: number };
              resolve({ status: res.statusCode ?? 0, accepted: json.accepted ?? 0 });
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const post = async (client: number, i: number): Promise<number> => {
      const c = client % CLUSTERS.length;
      const body = opts.bodies[(client * 7 + i) % opts.bodies.length] as Buffer;
      const began = performance.now();
      const res = await postOnce(`/v1/clusters/${CLUSTERS[c]}/audit`, opts.tokens[c] as string, body);
      latencies.push(performance.now() - began);
      if (res.status !== 200) {
        non200++;
        return 0;
      }
      return res.accepted;
    };
    // Warm-up: connections, JIT, producer metadata.
    await drive(CLIENTS, 1000, post);
    latencies.length = 0;
    const before = await topicCount(opts.admin, rawTopic);
    const began = performance.now();
    const cpuBefore = service.pid === undefined ? undefined : processCpuSeconds(service.pid);
    const splitBefore = service.pid === undefined ? undefined : cpuSplit(service.pid, groups);
    const result = await drive(CLIENTS, opts.ms, post);
    const cpuAfter = service.pid === undefined ? undefined : processCpuSeconds(service.pid);
    const splitAfter = service.pid === undefined ? undefined : cpuSplit(service.pid, groups);
    // A thread taken for a worker that never ran a check would make the split wrong, not just noisy.
    if (service.pid !== undefined && groups.workers.filter((tid) => threadCpu(service.pid as number, tid) > 0).length !== parseThreads) {
      process.stderr.write(`  ingest: not every one of the ${parseThreads} threads taken for check workers used CPU; the per-thread split is unreliable\n`);
    }
    const seconds = (performance.now() - began) / 1000;
    // Acknowledged means on the topic: cross-check the figure against the broker's own count.
    const landed = (await topicCount(opts.admin, rawTopic)) - before;
    if (landed < result.total) throw new Error(`ingest acknowledged ${result.total} events but only ${landed} are on ${rawTopic}`);
    latencies.sort((a, b) => a - b);
    const cpuUsPerEvent = cpuBefore === undefined || cpuAfter === undefined || result.total === 0 ? Number.NaN : ((cpuAfter - cpuBefore) * 1e6) / result.total;
    const none: CpuSplit = { main: Number.NaN, workers: Number.NaN, loaders: Number.NaN, other: Number.NaN };
    const threads = splitBefore === undefined || splitAfter === undefined || result.total === 0 ? none : perEvent(splitBefore, splitAfter, result.total);
    return { eventsPerSecond: result.total / seconds, cpuUsPerEvent, threads, p50: percentile(latencies, 50), p99: percentile(latencies, 99), rssPeak, non200 };
  } finally {
    clearInterval(sampler);
    agent.destroy();
    await service.stop();
    await opts.admin.deleteTopics([rawTopic, dlqTopic]).catch(() => undefined);
  }
}

export const run: BenchRun = async (ctx) => {
  const phaseMs = Math.max(2000, Math.round(8000 * ctx.scale));
  const dir = mkdtempSync(join(tmpdir(), 'kaudit-bench-ingest-'));
  const tokens = CLUSTERS.map(() => randomBytes(24).toString('base64url'));
  const clustersFile = join(dir, 'clusters.yaml');
  writeFileSync(clustersFile, `clusters:\n${CLUSTERS.map((c, i) => `  ${c}:\n    tokens:\n      - sha256: ${createHash('sha256').update(tokens[i] as string).digest('hex')}\n`).join('')}`);
  // 16 distinct batches reused round-robin: ingest does not deduplicate, so reuse does not flatter it.
  const batches = Array.from({ length: 16 }, (_, b) => Array.from({ length: BATCH }, (_, i) => sampleAuditEvent(b * BATCH + i)));
  const bodies = batches.map((events) => Buffer.from(JSON.stringify(sampleEventList(events))));
  const eventBytes = Math.round(bodies[0]!.length / BATCH);

  const compression = loadKafkaCompression({});
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-ingest', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  try {
    // Baseline: raw kafkajs, the same records (one per event, key = cluster/user, raw headers), from
    // the same number of clients, coalesced as ingest's BatchingPublisher does: what queued while a
    // send was in flight goes out together in the next one, up to 900 KiB, one send at a time, compressed
    // with the codec the service uses (KAFKA_COMPRESSION's default): compressing is part of the same I/O.
    const baselineTopic = uniqueName('bench_ingest_baseline');
    await admin.ensureTopics([{ topic: baselineTopic, partitions: 6 }]);
    const kafka = new Kafka({ clientId: 'bench-ingest-raw', brokers: [ctx.kafkaBrokers], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    type Message = { key: string; value: Buffer; headers: Record<string, string> };
    const messagesOf = batches.map((events, b) =>
      events.map((e): Message => {
        const cluster = CLUSTERS[b % CLUSTERS.length] as string;
        const user = String((e.user as { username?: string } | undefined)?.username ?? '');
        return { key: rawRecordKey(cluster, user), value: Buffer.from(JSON.stringify(e)), headers: { [RAW_HEADERS.cluster]: cluster, [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'bench' } };
      }),
    );
    const messageBytes = (m: Message) => m.value.length + m.key.length + 64 + Object.entries(m.headers).reduce((n, [k, v]) => n + k.length + v.length + 8, 0);
    const queued: { messages: Message[]; bytes: number; done: (err?: unknown) => void }[] = [];
    let inFlight = false;
    const pump = (): void => {
      if (inFlight || queued.length === 0) return;
      const taken: typeof queued = [];
      let bytes = 0;
      while (queued.length > 0 && (taken.length === 0 || bytes + (queued[0]?.bytes ?? 0) <= 900 * 1024)) {
        const next = queued.shift() as (typeof queued)[number];
        taken.push(next);
        bytes += next.bytes;
      }
      inFlight = true;
      producer
        .send({ topic: baselineTopic, acks: -1, compression: RAW_CODECS[compression], messages: taken.flatMap((t) => t.messages) })
        .then(
          () => taken.forEach((t) => t.done()),
          (err: unknown) => taken.forEach((t) => t.done(err)),
        )
        .finally(() => {
          inFlight = false;
          pump();
        });
    };
    const sizes = messagesOf.map((ms) => ms.reduce((n, m) => n + messageBytes(m), 0));
    let baseline: number;
    let baselineCpuUs: number;
    let baselineLoopUs = Number.NaN;
    const baselineLatencies: number[] = [];
    try {
      const send = async (c: number, i: number) => {
        const began = performance.now();
        const k = (c * 7 + i) % messagesOf.length;
        await new Promise<void>((resolve, reject) => {
          queued.push({ messages: messagesOf[k] ?? [], bytes: sizes[k] ?? 0, done: (err) => (err === undefined ? resolve() : reject(err as Error)) });
          pump();
        });
        baselineLatencies.push(performance.now() - began);
        return BATCH;
      };
      await drive(CLIENTS, 1000, send);
      baselineLatencies.length = 0;
      const cpuFrom = process.cpuUsage();
      const loopFrom = threadCpu(process.pid, String(process.pid));
      const measured = await drive(CLIENTS, phaseMs, send);
      const cpu = process.cpuUsage(cpuFrom);
      baselineLoopUs = ((threadCpu(process.pid, String(process.pid)) - loopFrom) * 1e6) / measured.total;
      baseline = measured.perSecond;
      baselineCpuUs = (cpu.user + cpu.system) / measured.total;
      baselineLatencies.sort((a, b) => a - b);
    } finally {
      await producer.disconnect();
      await admin.deleteTopics([baselineTopic]).catch(() => undefined);
    }
    const floor = cpuFloor(messagesOf.flat().slice(0, 2000).map((m) => m.value), [], new AuditRecordCodec());

    const common = { brokers: ctx.kafkaBrokers, bodies, tokens, clustersFile, ms: phaseMs, dir, admin };
    const ingest = await runIngest(common);
    const uncoalesced = await runIngest({ ...common, env: { INGEST_PUBLISH_COALESCE: 'false' } });
    const onLoop = await runIngest({ ...common, env: { INGEST_PARSE_THREADS: '0' } });
    const figures: BenchFigure[] = [
      {
        name: `ingest acknowledged events/s (${CLIENTS} clients, ${BATCH}-event batches, ~${eventBytes} B/event)`,
        value: ingest.eventsPerSecond,
        unit: 'events/s',
        baseline,
        baselineName: `raw kafkajs idempotent acks=-1 ${compression}, same records, coalesced ≤ 900 KiB, one send in flight`,
        goal: '>= 0.8x and >= 20,000 events/s',
      },
      {
        name: 'ingest CPU per event (the service process, all threads)',
        value: ingest.cpuUsPerEvent,
        unit: 'µs/event',
        baseline: baselineCpuUs,
        baselineName: `raw kafkajs producer of the same records, ${compression} (bench process)`,
      },
      {
        name: 'ingest CPU per event: event loop',
        value: ingest.threads.main,
        unit: 'µs/event',
        baseline: baselineLoopUs,
        baselineName: 'raw kafkajs producer: the bench process\'s event loop',
      },
      { name: 'ingest CPU per event: check workers (JSON.parse, validation)', value: ingest.threads.workers, unit: 'µs/event' },
      { name: 'ingest CPU per event: other threads (V8 GC and compiler, libuv pool: zstd)', value: ingest.threads.other, unit: 'µs/event', baseline: baselineCpuUs - baselineLoopUs, baselineName: 'raw kafkajs producer: the bench process\'s other threads' },
      { name: 'ingest CPU per event: tsx loader threads (a checkout only, not the image)', value: ingest.threads.loaders, unit: 'µs/event' },
      { name: 'floor: JSON.parse of the same events', value: floor.jsonParseUs, unit: 'µs/event' },
      { name: 'ingest request latency p50 (400-event batch)', value: ingest.p50, unit: 'ms', baseline: percentile(baselineLatencies, 50), baselineName: 'raw kafkajs: the 400 records acknowledged (coalesced)' },
      { name: 'ingest request latency p99 (400-event batch)', value: ingest.p99, unit: 'ms', baseline: percentile(baselineLatencies, 99), baselineName: 'raw kafkajs: the 400 records acknowledged (coalesced)', goal: 'p99 < 1000 ms' },
      { name: 'ingest RSS peak', value: ingest.rssPeak, unit: 'MiB' },
      { name: 'ingest non-200 answers during the run', value: ingest.non200, unit: 'requests', goal: '0' },
      {
        name: 'ingest without send coalescing (for comparison)',
        value: uncoalesced.eventsPerSecond,
        unit: 'events/s',
        baseline,
        baselineName: `raw kafkajs idempotent acks=-1 ${compression}, same records, coalesced ≤ 900 KiB, one send in flight`,
      },
      { name: 'ingest without coalescing, latency p99', value: uncoalesced.p99, unit: 'ms' },
      {
        name: 'ingest parsing on the event loop, no worker thread (for comparison)',
        value: onLoop.eventsPerSecond,
        unit: 'events/s',
        baseline,
        baselineName: `raw kafkajs idempotent acks=-1 ${compression}, same records, coalesced ≤ 900 KiB, one send in flight`,
      },
      { name: 'ingest parsing on the event loop, latency p99', value: onLoop.p99, unit: 'ms' },
      { name: 'ingest parsing on the event loop, CPU per event', value: onLoop.cpuUsPerEvent, unit: 'µs/event' },
    ];
    return figures;
  } finally {
    await admin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
