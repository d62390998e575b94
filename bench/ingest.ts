/**
 * Ingest throughput (issue 3): 400-event EventList batches of ~1.6 KB events POSTed by concurrent
 * clients to the real ingest service (a child process, as deployed), acknowledged only after Kafka
 * has every event; next to a raw baseline in the same run. The baseline is fair (issue 16): ingest's I/O with
 * ingest's concurrency and batching, in a process of its own as ingest is (bench/ingest-raw-server.ts) — node:http
 * taking the same bodies from the same clients (the same loop below drives both), raw kafkajs producing the records
 * ingest makes of them (idempotent, acks=-1) to the same broker, sends coalesced as BatchingPublisher does (what
 * queued while a send was in flight fills the next send record by record up to 900 KiB, a batch may end in one
 * send and go on in the next), one send in flight (what libs/kafka allows an idempotent producer since the
 * sequence-number fix), compressed with the service's codec. It parses, checks and frames nothing: that, and
 * fastify, auth, metrics and logging, is what ingest adds. (Until session 9 the baseline was a producer in the bench
 * process with no HTTP side at all: 8.3 µs per event against ingest's 36.4, its throughput limited by nothing
 * ingest has to do; it flattered the baseline.)
 *
 * Measured in the same conditions: the two alternate in rounds, baseline–ingest then ingest–baseline (ABBA,
 * so a machine that slows or speeds up during the run weighs on both alike), each measured window after
 * a second of the same load unmeasured, and before any of it the broker is warmed by the baseline's
 * load (a broker just started runs its first seconds cold: that penalised whichever came first). The
 * ratio is of the totals; the ratio of each round and each side's slowest and fastest second are shown
 * beside it, so a run's spread is visible rather than averaged away.
 *
 * Also runs ingest once with send coalescing off and once parsing the other way than this machine's default
 * (INGEST_PARSE_THREADS: on the event loop on two cores or fewer, else on worker threads), to show what each buys,
 * and reports ingest's CPU per event and the baseline's (each child's /proc counters, by thread) next to the floor
 * (JSON.parse of the same events; ingest does no Avro), and its
 * memory at its RSS peak split into what holds it (file-backed pages, the event loop's V8 heap, Buffers
 * outside it, and the rest: the parse threads' heaps, native allocations, code).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { loadIngestConfig } from '@kaudit/ingest';
import { AuditRecordCodec } from '@kaudit/audit-schema';
import { loadKafkaCompression } from '@kaudit/config';
import { createKafkaClient, type KafkaAdmin, type KafkaCompression } from '@kaudit/kafka';
import { freePort, rssMiB, serviceNodeArgs } from '@kaudit/stack';
import { ServiceProcess } from '@kaudit/testkit';
import { BATCH, benchBatches, BODY_HEADER, CLUSTERS, rawRecordsOf } from './ingest-bench-load.js';
import type { BenchFigure, BenchRun } from './bench-types.js';
import { webhookPoster } from './webhook-poster.js';
import { cpuFloor, processCpuSeconds } from './stage-cpu.js';
import { cpuSplit, perEvent, threadCpu, threadGroups, type CpuSplit } from './thread-cpu.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const CLIENTS = 8;
/** Measured windows of each side, alternating baseline–ingest, ingest–baseline, …; the phase's time is split among them. */
const ROUNDS = 2;
/** Unmeasured load before each measured window: the same for both sides. */
const WARM_MS = 1000;
/** Unmeasured baseline load before anything is measured: the broker's first seconds after its start are slow. */
const BROKER_WARM_MS = 3000;
const MIB = 1024 * 1024;
const REPO = fileURLToPath(new URL('../', import.meta.url));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function topicCount(admin: KafkaAdmin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

/** Units completed in a measured window, and in each of its whole seconds. */
interface Window {
  total: number;
  seconds: number;
  perSecond: number[];
}

/** Runs `worker` from `clients` concurrent loops until `ms` passed. */
async function drive(clients: number, ms: number, worker: (client: number, iteration: number) => Promise<number>): Promise<Window> {
  const began = performance.now();
  const end = began + ms;
  let total = 0;
  const buckets = new Array<number>(Math.max(1, Math.floor(ms / 1000))).fill(0);
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < end; i++) {
        // Not `total += await …`: that reads `total` before the await and loses the other clients' counts.
        const done = await worker(client, i);
        total += done;
        const second = Math.floor((performance.now() - began) / 1000);
        if (second < buckets.length) buckets[second] = (buckets[second] ?? 0) + done;
      }
    }),
  );
  return { total, seconds: (performance.now() - began) / 1000, perSecond: buckets };
}

/** Several windows as one: events over time, and every whole second of each. */
function joined(windows: readonly Window[]): Window {
  return { total: windows.reduce((n, w) => n + w.total, 0), seconds: windows.reduce((n, w) => n + w.seconds, 0), perSecond: windows.flatMap((w) => w.perSecond) };
}

const rate = (w: Window): number => (w.seconds > 0 ? w.total / w.seconds : 0);

/** /proc/<pid>/status memory lines, MiB. */
function processMemory(pid: number): { own: number; file: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { own: Math.round(kb('VmRSS') / 1024), file: Math.round(kb('RssFile') / 1024) };
  } catch {
    return undefined;
  }
}

/** The event loop's V8 heap (committed) and Buffers outside V8's heap, MiB, from ingest's /metrics (prom-client's defaults). */
async function heapOf(metricsPort: number): Promise<{ heap: number; external: number } | undefined> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const text = await res.text();
  const metric = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN) / MIB);
  return { heap: metric('nodejs_heap_size_total_bytes'), external: metric('nodejs_external_memory_bytes') };
}

/** Ingest's memory at its RSS peak, MiB. */
interface MemoryAtPeak {
  /** The service and its child processes (rssMiB), what the other benches report. */
  rss: number;
  /** The service's own process (a child, e.g. tsx's esbuild service in a checkout, would be the difference). */
  own: number;
  /** Where the peak was: start-up (the service's own warm-up included), or which measured window's warm-up or window. */
  when: string;
  /** File-backed pages: node's binary, shared libraries, native addons. */
  file: number;
  /** The event loop's V8 heap, committed. */
  heap: number;
  /** Buffers outside V8's heap (bodies in flight, Kafka encoding, compression). */
  external: number;
}

/** An ingest service (or the raw baseline's server) under load, kept running across the measured windows it is given. */
interface RunningIngest {
  /** Unmeasured load (the broker's warm-up). */
  warm(ms: number): Promise<void>;
  measure(ms: number): Promise<Window>;
  /** CPU per event by thread over every measured window so far; `clients`: the bench process's (the load generator's). */
  cpu(): { total: number; threads: CpuSplit; clients: number };
  latencies(): number[];
  memory(): MemoryAtPeak;
  non200(): number;
  stop(): Promise<void>;
}

/** A process answering the webhook: its pid, and how to stop it. */
interface ServerProcess {
  pid: number;
  stop(): Promise<void>;
}

/** The raw baseline's server (bench/ingest-raw-server.ts), started as ServiceProcess starts a service and ready when its /readyz is. */
async function startRawServer(opts: { port: number; brokers: string; topic: string; compression: KafkaCompression; dir: string }): Promise<ServerProcess> {
  const log = createWriteStream(join(opts.dir, 'ingest-raw-server.log'), { flags: 'a' });
  const child = spawn(process.execPath, serviceNodeArgs(join(REPO, 'bench', 'ingest-raw-server.ts')), {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', RAW_PORT: String(opts.port), KAFKA_BROKERS: opts.brokers, RAW_TOPIC: opts.topic, RAW_COMPRESSION: opts.compression },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the raw baseline's server exited with ${child.exitCode}; see ${join(opts.dir, 'ingest-raw-server.log')}`);
    const res = await fetch(`http://127.0.0.1:${opts.port}/readyz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    if (res?.ok) break;
    if (Date.now() > deadline) throw new Error('the raw baseline\'s server was not ready within 60 s');
    await sleep(200);
  }
  if (child.pid === undefined) throw new Error('the raw baseline\'s server did not start');
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      log.end();
    },
  };
}

async function startIngest(opts: { brokers: string; bodies: Buffer[]; recordsPerBody: number[]; tokens: string[]; clustersFile: string; env?: Record<string, string>; dir: string; admin: KafkaAdmin; raw?: { compression: KafkaCompression } }): Promise<RunningIngest> {
  const rawTopic = uniqueName(opts.raw ? 'bench_ingest_baseline' : 'bench_ingest_raw');
  const dlqTopic = uniqueName('bench_ingest_dlq');
  await opts.admin.ensureTopics([
    { topic: rawTopic, partitions: 6 },
    { topic: dlqTopic, partitions: 1 },
  ]);
  const port = await freePort();
  const metricsPort = await freePort();
  // BENCH_PROF_DIR=dir: each ingest run writes its event loop's V8 CPU profile there when it stops, as in the alert
  // bench (--cpu-prof is not allowed in NODE_OPTIONS; a preload starts the inspector's profiler instead).
  const prof: Record<string, string> = process.env.BENCH_PROF_DIR ? { PROF_OUT: process.env.BENCH_PROF_DIR, NODE_OPTIONS: `--import ${join(REPO, 'bench', 'cpu-profile-preload.mjs')}` } : {};
  const startService = async (): Promise<ServerProcess> => {
    const service = new ServiceProcess({
      service: 'ingest',
      httpPort: port,
      logDir: opts.dir,
      env: {
        KAFKA_BROKERS: opts.brokers,
        CLUSTERS_FILE: opts.clustersFile,
        INGEST_RAW_TOPIC: rawTopic,
        INGEST_DLQ_TOPIC: dlqTopic,
        INGEST_METRICS_PORT: String(metricsPort),
        LOG_LEVEL: 'warn',
        // sampleAuditEvent's times are fixed (2026-11-22): keep them inside the accepted window for years.
        KAUDIT_RETENTION_DAYS: '3650',
        ...prof,
        ...opts.env,
      },
    });
    await service.start();
    if (service.pid === undefined) throw new Error('ingest did not start');
    return { pid: service.pid, stop: async () => void (await service.stop()) };
  };
  const service = opts.raw ? await startRawServer({ port, brokers: opts.brokers, topic: rawTopic, compression: opts.raw.compression, dir: opts.dir }) : await startService();
  const pid = service.pid;
  // The service's own default unless the phase sets it: the same config loader tells how many check workers it runs.
  const parseThreads = opts.raw ? 0 : loadIngestConfig({ KAFKA_BROKERS: opts.brokers, CLUSTERS_FILE: opts.clustersFile, ...opts.env }).parseThreads;
  const groups = threadGroups(pid, parseThreads);
  const peak: MemoryAtPeak = { rss: 0, own: Number.NaN, when: 'start-up', file: Number.NaN, heap: Number.NaN, external: Number.NaN };
  let phase = 'start-up';
  const sampler = setInterval(() => {
    const rss = rssMiB(pid) ?? 0;
    if (rss <= peak.rss) return;
    peak.rss = rss;
    peak.when = phase;
    const own = processMemory(pid);
    peak.own = own?.own ?? Number.NaN;
    peak.file = own?.file ?? Number.NaN;
    // Read just after the peak (the scrape takes a moment): what the process held then, not an exact split.
    void heapOf(metricsPort).then((m) => {
      if (m !== undefined && peak.rss === rss) Object.assign(peak, m);
    });
  }, 250);
  const latencies: number[] = [];
  let non200 = 0;
  let measuring = false;
  let events = 0;
  let windows = 0;
  let cpuUsed = 0;
  let clientsUs = 0;
  let split: CpuSplit = { main: 0, workers: 0, loaders: 0, other: 0 };
  // node:http with keep-alive, like an apiserver's webhook client; fetch (undici) spent more CPU
  // than the service itself on this 2-core box, which would have measured the client.
  const poster = webhookPoster(port, CLIENTS);
  const postOnce = async (path: string, token: string, body: Buffer, k: number): Promise<{ status: number; accepted: number }> => {
    const res = await poster.post(path, { authorization: `Bearer ${token}`, [BODY_HEADER]: String(k) }, body);
    const json = JSON.parse(res.body.toString('utf8')) as { accepted?: number };
    return { status: res.status, accepted: json.accepted ?? 0 };
  };
  // Raw records the measured, acknowledged posts made (raw.v2: fewer than their events), for the broker's cross-check.
  let measuredRecords = 0;
  const post = async (client: number, i: number): Promise<number> => {
    const c = client % CLUSTERS.length;
    const k = (client * 7 + i) % opts.bodies.length;
    const body = opts.bodies[k] as Buffer;
    const began = performance.now();
    const res = await postOnce(`/v1/clusters/${CLUSTERS[c]}/audit`, opts.tokens[c] as string, body, k);
    if (measuring) latencies.push(performance.now() - began);
    if (res.status !== 200) {
      if (measuring) non200++;
      return 0;
    }
    if (measuring) measuredRecords += opts.recordsPerBody[k] as number;
    return res.accepted;
  };
  const add = (a: CpuSplit, b: CpuSplit, c: CpuSplit): CpuSplit => ({ main: a.main + c.main - b.main, workers: a.workers + c.workers - b.workers, loaders: a.loaders + c.loaders - b.loaders, other: a.other + c.other - b.other });
  return {
    async warm(ms) {
      await drive(CLIENTS, ms, post);
    },
    async measure(ms) {
      // Warm-up: connections, JIT, producer metadata — and, after a pause, the same ramp the baseline gets.
      windows++;
      phase = `warm-up ${windows}`;
      await drive(CLIENTS, WARM_MS, post);
      phase = `window ${windows}`;
      const before = await topicCount(opts.admin, rawTopic);
      const recordsBefore = measuredRecords;
      const cpuBefore = processCpuSeconds(pid) ?? Number.NaN;
      const splitBefore = cpuSplit(pid, groups);
      const clientsFrom = process.cpuUsage();
      measuring = true;
      const window = await drive(CLIENTS, ms, post);
      measuring = false;
      phase = `after window ${windows}`;
      const clients = process.cpuUsage(clientsFrom);
      clientsUs += clients.user + clients.system;
      cpuUsed += (processCpuSeconds(pid) ?? Number.NaN) - cpuBefore;
      split = add(split, splitBefore, cpuSplit(pid, groups));
      events += window.total;
      // Acknowledged means on the topic: cross-check the figure against the broker's own count.
      const landed = (await topicCount(opts.admin, rawTopic)) - before;
      const expected = measuredRecords - recordsBefore;
      if (landed < expected) throw new Error(`ingest acknowledged ${window.total} events, ${expected} raw records, but only ${landed} records are on ${rawTopic}`);
      return window;
    },
    cpu() {
      // A thread taken for a worker that never ran a check would make the split wrong, not just noisy.
      if (groups.workers.filter((tid) => threadCpu(pid, tid) > 0).length !== parseThreads) {
        process.stderr.write(`  ingest: not every one of the ${parseThreads} threads taken for check workers used CPU; the per-thread split is unreliable\n`);
      }
      const none: CpuSplit = { main: Number.NaN, workers: Number.NaN, loaders: Number.NaN, other: Number.NaN };
      return events === 0
        ? { total: Number.NaN, threads: none, clients: Number.NaN }
        : { total: (cpuUsed * 1e6) / events, threads: perEvent({ main: 0, workers: 0, loaders: 0, other: 0 }, split, events), clients: clientsUs / events };
    },
    latencies: () => [...latencies].sort((a, b) => a - b),
    memory: () => ({ ...peak }),
    non200: () => non200,
    async stop() {
      clearInterval(sampler);
      poster.close();
      await service.stop();
      await opts.admin.deleteTopics([rawTopic, dlqTopic]).catch(() => undefined);
    },
  };
}

const ratioText = (r: number): string => `${r.toFixed(2)}x`;

export const run: BenchRun = async (ctx) => {
  const phaseMs = Math.max(2000, Math.round(8000 * ctx.scale));
  const windowMs = Math.max(1000, Math.round(phaseMs / ROUNDS));
  const dir = mkdtempSync(join(tmpdir(), 'kaudit-bench-ingest-'));
  const tokens = CLUSTERS.map(() => randomBytes(24).toString('base64url'));
  const clustersFile = join(dir, 'clusters.yaml');
  writeFileSync(clustersFile, `clusters:\n${CLUSTERS.map((c, i) => `  ${c}:\n    tokens:\n      - sha256: ${createHash('sha256').update(tokens[i] as string).digest('hex')}\n`).join('')}`);
  const { batches, bodies } = benchBatches();
  // How many raw.v2 records ingest makes of each body (one user's events in as few as fit), for the landed check.
  const recordsPerBody = batches.map((events) => rawRecordsOf(events, CLUSTERS[0] as string).length);
  const eventBytes = Math.round(bodies[0]!.length / BATCH);

  const compression = loadKafkaCompression({});
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-ingest', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  try {
    const common = { brokers: ctx.kafkaBrokers, bodies, recordsPerBody, tokens, clustersFile, dir, admin };
    const baseWindows: Window[] = [];
    const ingestWindows: Window[] = [];
    let ingest: RunningIngest | undefined;
    let baseline: RunningIngest | undefined;
    let ingestCpu: ReturnType<RunningIngest['cpu']>;
    let baselineCpu: ReturnType<RunningIngest['cpu']>;
    let ingestLatencies: number[];
    let baselineLatencies: number[];
    let memory: MemoryAtPeak;
    let baselineMemory: MemoryAtPeak;
    let non200: number;
    try {
      baseline = await startIngest({ ...common, raw: { compression } });
      ingest = await startIngest(common);
      const [b, i] = [baseline, ingest];
      // The broker's warm-up, then ABBA: baseline, ingest | ingest, baseline | …
      await b.warm(BROKER_WARM_MS);
      for (let round = 0; round < ROUNDS; round++) {
        const sides = [() => b.measure(windowMs).then((w) => baseWindows.push(w)), () => i.measure(windowMs).then((w) => ingestWindows.push(w))];
        for (const side of round % 2 === 0 ? sides : sides.reverse()) await side();
      }
      ingestCpu = i.cpu();
      baselineCpu = b.cpu();
      ingestLatencies = i.latencies();
      baselineLatencies = b.latencies();
      memory = i.memory();
      baselineMemory = b.memory();
      non200 = i.non200();
      // A baseline that failed requests would make the ratio of nothing: refuse the run.
      // (The bench's directory goes when it ends: the server's log goes in the message.)
      if (b.non200() > 0) throw new Error(`the raw baseline answered ${b.non200()} measured requests with other than 200; its log ends: ${readFileSync(join(dir, 'ingest-raw-server.log'), 'utf8').slice(-1500)}`);
    } finally {
      await ingest?.stop();
      await baseline?.stop();
    }
    const floor = cpuFloor(batches.flat().slice(0, 2000).map((e) => Buffer.from(JSON.stringify(e))), [], new AuditRecordCodec());

    const once = async (env: Record<string, string>) => {
      const service = await startIngest({ ...common, env });
      try {
        const window = await service.measure(windowMs * ROUNDS);
        return { eventsPerSecond: rate(window), p99: percentile(service.latencies(), 99), cpuUsPerEvent: service.cpu().total };
      } finally {
        await service.stop();
      }
    };
    const uncoalesced = await once({ INGEST_PUBLISH_COALESCE: 'false' });
    // The other way of parsing than the default on this machine (on the event loop on two cores, else on threads).
    const defaultThreads = loadIngestConfig({ KAFKA_BROKERS: ctx.kafkaBrokers, CLUSTERS_FILE: clustersFile }).parseThreads;
    const otherThreads = defaultThreads === 0 ? 1 : 0;
    const otherParse = await once({ INGEST_PARSE_THREADS: String(otherThreads) });
    const parseName = (threads: number) => (threads === 0 ? 'parsing on the event loop (INGEST_PARSE_THREADS=0)' : `parsing on ${threads} worker thread${threads === 1 ? '' : 's'} (INGEST_PARSE_THREADS=${threads})`);

    const base = joined(baseWindows);
    const ing = joined(ingestWindows);
    const roundRatios = ingestWindows.map((w, i) => rate(w) / rate(baseWindows[i] as Window));
    const baselineName = `raw baseline process: node:http reads the same bodies, raw kafkajs idempotent acks=-1 ${compression} sends the same records, filled as BatchingPublisher fills ≤ 900 KiB sends, one in flight; ABBA rounds`;
    const slowest = (w: Window) => Math.min(...w.perSecond);
    const fastest = (w: Window) => Math.max(...w.perSecond);
    const rest = memory.rss - memory.file - memory.heap - memory.external;
    const figures: BenchFigure[] = [
      {
        name: `ingest acknowledged events/s (${CLIENTS} clients, ${BATCH}-event batches, ~${eventBytes} B/event; ${ROUNDS} windows of ${windowMs / 1000} s each, alternating with the baseline's; ${parseName(defaultThreads)}, the default here)`,
        value: rate(ing),
        unit: 'events/s',
        baseline: rate(base),
        baselineName,
        goal: '>= 0.8x and >= 20,000 events/s',
      },
      {
        name: 'ingest / raw baseline, the lower of the rounds (ABBA: each round\'s two windows back to back)',
        value: Math.min(...roundRatios),
        unit: `x (rounds: ${roundRatios.map(ratioText).join(', ')})`,
        goal: '>= 0.8x',
      },
      {
        name: 'ingest\'s slowest second of the measured windows',
        value: slowest(ing),
        unit: `events/s (fastest ${Math.round(fastest(ing)).toLocaleString('en-US')})`,
        baseline: slowest(base),
        baselineName: `the raw baseline's slowest second (fastest ${Math.round(fastest(base)).toLocaleString('en-US')})`,
      },
      {
        name: 'ingest CPU per event (the service process, all threads)',
        value: ingestCpu.total,
        unit: 'µs/event',
        baseline: baselineCpu.total,
        baselineName: `raw baseline process (node:http in, raw kafkajs ${compression} out), all threads`,
      },
      { name: 'ingest CPU per event: event loop', value: ingestCpu.threads.main, unit: 'µs/event', baseline: baselineCpu.threads.main, baselineName: 'raw baseline process: its event loop' },
      { name: 'ingest CPU per event: check workers (JSON.parse, validation)', value: ingestCpu.threads.workers, unit: 'µs/event' },
      { name: 'ingest CPU per event: other threads (V8 GC and compiler, libuv pool: zstd)', value: ingestCpu.threads.other, unit: 'µs/event', baseline: baselineCpu.threads.other, baselineName: 'raw baseline process: its other threads' },
      { name: 'ingest CPU per event: tsx loader threads (a checkout only, not the image)', value: ingestCpu.threads.loaders, unit: 'µs/event', baseline: baselineCpu.threads.loaders, baselineName: 'raw baseline process: its tsx loader threads' },
      // Not ingest's, but on the same two cores while ingest is measured: the same clients drive the baseline.
      { name: 'the bench\'s HTTP clients (load generator, this process) CPU per event during ingest\'s windows', value: ingestCpu.clients, unit: 'µs/event', baseline: baselineCpu.clients, baselineName: 'during the baseline\'s windows' },
      { name: 'floor: JSON.parse of the same events', value: floor.jsonParseUs, unit: 'µs/event' },
      { name: 'ingest request latency p50 (400-event batch)', value: percentile(ingestLatencies, 50), unit: 'ms', baseline: percentile(baselineLatencies, 50), baselineName: 'raw baseline: the same request answered' },
      { name: 'ingest request latency p99 (400-event batch)', value: percentile(ingestLatencies, 99), unit: 'ms', baseline: percentile(baselineLatencies, 99), baselineName: 'raw baseline: the same request answered', goal: 'p99 < 1000 ms' },
      { name: `ingest RSS peak (start, warm-up and every window; this one in ${memory.when})`, value: memory.rss, unit: `MiB (its own process ${memory.own})`, baseline: baselineMemory.rss, baselineName: 'raw baseline process (it holds every record it sends, built in advance)', goal: '< 300 MiB' },
      {
        name: 'ingest memory at its RSS peak: file-backed / event loop V8 heap (committed) / Buffers outside the heap / the rest (parse threads\' heaps, native, code)',
        value: rest,
        unit: `MiB the rest (file ${memory.file}, heap ${memory.heap}, external ${memory.external})`,
      },
      { name: 'ingest non-200 answers during the measured windows (the baseline\'s: none, or the run fails)', value: non200, unit: 'requests', goal: '0' },
      { name: 'ingest without send coalescing (for comparison)', value: uncoalesced.eventsPerSecond, unit: 'events/s', baseline: rate(base), baselineName },
      { name: 'ingest without coalescing, latency p99', value: uncoalesced.p99, unit: 'ms' },
      { name: `ingest ${parseName(otherThreads)} (for comparison)`, value: otherParse.eventsPerSecond, unit: 'events/s', baseline: rate(base), baselineName },
      { name: `ingest ${parseName(otherThreads)}, latency p99`, value: otherParse.p99, unit: 'ms' },
      { name: `ingest ${parseName(otherThreads)}, CPU per event`, value: otherParse.cpuUsPerEvent, unit: 'µs/event', baseline: ingestCpu.total, baselineName: `${parseName(defaultThreads)}, the default here` },
    ];
    return figures;
  } finally {
    await admin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
