/**
 * Ingest throughput (issue 3): 400-event EventList batches of ~1.6 KB events POSTed by concurrent
 * clients to the real ingest service (a child process, as deployed), acknowledged only after Kafka
 * has every event; next to raw kafkajs producing the same records (idempotent, acks=-1) to the same
 * broker in the same run. The baseline is fair (issue 16): ingest's I/O with ingest's concurrency and
 * batching — the same clients' batches coalesced as BatchingPublisher does (what queued while a send was in
 * flight fills the next send record by record up to 900 KiB, a batch may end in one send and go on in the
 * next), one send in flight (what libs/kafka allows an idempotent producer since the sequence-number fix),
 * compressed with the service's codec.
 *
 * Measured in the same conditions: the two alternate in rounds, baseline–ingest then ingest–baseline (ABBA,
 * so a machine that slows or speeds up during the run weighs on both alike), each measured window after
 * a second of the same load unmeasured, and before any of it the broker is warmed by the baseline's
 * producer (a broker just started runs its first seconds cold: that penalised whichever came first). The
 * ratio is of the totals; the ratio of each round and each side's slowest and fastest second are shown
 * beside it, so a run's spread is visible rather than averaged away.
 *
 * Also runs ingest once with send coalescing off and once parsing on the event loop
 * (INGEST_PARSE_THREADS=0), to show what each buys, and reports ingest's CPU per event (the child's /proc
 * counters, by thread) next to the floor (JSON.parse of the same events; ingest does no Avro), and its
 * memory at its RSS peak split into what holds it (file-backed pages, the event loop's V8 heap, Buffers
 * outside it, and the rest: the parse threads' heaps, native allocations, code).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel } from './raw-kafkajs.js';
import { buildRawRecords, loadIngestConfig, sampleAuditEvent, sampleEventList } from '@kaudit/ingest';
import { AuditRecordCodec } from '@kaudit/audit-schema';
import { loadEventWindow, loadKafkaCompression } from '@kaudit/config';
import { createKafkaClient, type KafkaAdmin, type KafkaCompression } from '@kaudit/kafka';
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
/** BatchingPublisher's default bound of one send (INGEST_PUBLISH_MAX_BATCH_BYTES). */
const MAX_SEND_BYTES = 900 * 1024;
/** Measured windows of each side, alternating baseline–ingest, ingest–baseline, …; the phase's time is split among them. */
const ROUNDS = 2;
/** Unmeasured load before each measured window: the same for both sides. */
const WARM_MS = 1000;
/** Unmeasured baseline load before anything is measured: the broker's first seconds after its start are slow. */
const BROKER_WARM_MS = 3000;
const MIB = 1024 * 1024;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * The raw.v2 records ingest publishes for one batch of one cluster: made by ingest's own builder (buildRawRecords:
 * one user's events of a body in as few records as the limits allow), so the baseline sends exactly those bytes.
 */
function rawRecordsOf(events: readonly Record<string, unknown>[], cluster: string): { key: string; value: Buffer; headers: Record<string, string> }[] {
  // sampleAuditEvent's times are fixed (2026-11-22): the window the ingest service is given (KAUDIT_RETENTION_DAYS).
  const window = loadEventWindow({ KAUDIT_RETENTION_DAYS: '3650' }, 'bench ingest');
  const built = buildRawRecords(events, { cluster, receivedAt: new Date(), source: 'webhook', instance: 'bench', maxEventBytes: 256 * 1024, window });
  if (built.rejected.length > 0) throw new Error(`bench events refused: ${built.rejected[0]?.reason}`);
  return built.records.map((r) => ({ key: String(r.key), value: r.value as Buffer, headers: r.headers as Record<string, string> }));
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

/** An ingest service under load, kept running across the measured windows it is given. */
interface RunningIngest {
  measure(ms: number): Promise<Window>;
  /** CPU per event by thread over every measured window so far; `clients`: the bench process's (the load generator's). */
  cpu(): { total: number; threads: CpuSplit; clients: number };
  latencies(): number[];
  memory(): MemoryAtPeak;
  non200(): number;
  stop(): Promise<void>;
}

async function startIngest(opts: { brokers: string; bodies: Buffer[]; recordsPerBody: number[]; tokens: string[]; clustersFile: string; env?: Record<string, string>; dir: string; admin: KafkaAdmin }): Promise<RunningIngest> {
  const rawTopic = uniqueName('bench_ingest_raw');
  const dlqTopic = uniqueName('bench_ingest_dlq');
  await opts.admin.ensureTopics([
    { topic: rawTopic, partitions: 6 },
    { topic: dlqTopic, partitions: 1 },
  ]);
  const port = await freePort();
  const metricsPort = await freePort();
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
      ...opts.env,
    },
  });
  await service.start();
  const pid = service.pid;
  if (pid === undefined) throw new Error('ingest did not start');
  // The service's own default unless the phase sets it: the same config loader tells how many check workers it runs.
  const parseThreads = loadIngestConfig({ KAFKA_BROKERS: opts.brokers, CLUSTERS_FILE: opts.clustersFile, ...opts.env }).parseThreads;
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
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
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
  // Raw records the measured, acknowledged posts made (raw.v2: fewer than their events), for the broker's cross-check.
  let measuredRecords = 0;
  const post = async (client: number, i: number): Promise<number> => {
    const c = client % CLUSTERS.length;
    const k = (client * 7 + i) % opts.bodies.length;
    const body = opts.bodies[k] as Buffer;
    const began = performance.now();
    const res = await postOnce(`/v1/clusters/${CLUSTERS[c]}/audit`, opts.tokens[c] as string, body);
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
      agent.destroy();
      await service.stop();
      await opts.admin.deleteTopics([rawTopic, dlqTopic]).catch(() => undefined);
    },
  };
}

/** Raw kafkajs producing the clients' records, batched as ingest's BatchingPublisher batches them. */
interface RawBaseline {
  /** Unmeasured load (the broker's warm-up). */
  warm(ms: number): Promise<void>;
  measure(ms: number): Promise<Window>;
  /** CPU of the bench process (all threads, and its event loop) per event, over every measured window. */
  cpu(): { total: number; loop: number };
  latencies(): number[];
  recordsPerSend(): number;
  stop(): Promise<void>;
}

async function startBaseline(opts: { brokers: string; batches: Record<string, unknown>[][]; compression: KafkaCompression; admin: KafkaAdmin }): Promise<RawBaseline> {
  const topic = uniqueName('bench_ingest_baseline');
  await opts.admin.ensureTopics([{ topic, partitions: 6 }]);
  const kafka = new Kafka({ clientId: 'bench-ingest-raw', brokers: [opts.brokers], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  type Message = { key: string; value: Buffer; headers: Record<string, string> };
  // The same records as ingest's (raw.v2: several events of one user a record, key = cluster/user, the raw headers).
  const messagesOf = opts.batches.map((events, b): Message[] => rawRecordsOf(events, CLUSTERS[b % CLUSTERS.length] as string));
  // Sized as BatchingPublisher sizes records (value, key, framing, headers).
  const sizeOf = (m: Message) => m.value.length + m.key.length + 64 + Object.entries(m.headers).reduce((n, [k, v]) => n + k.length + v.length + 8, 0);
  const sizes = messagesOf.map((ms) => ms.map(sizeOf));
  interface Pending {
    messages: Message[];
    sizes: number[];
    next: number;
    unsettled: number;
    failure: unknown;
    done: (err?: unknown) => void;
  }
  const queue: Pending[] = [];
  let inFlight = false;
  let sends = 0;
  let sent = 0;
  // BatchingPublisher's filling: what queued meanwhile goes out in the next send, record by record up to the
  // bound, so a batch may end in one send and go on in the next; it settles once all of its sends answered.
  const pump = (): void => {
    if (inFlight || queue.length === 0) return;
    const messages: Message[] = [];
    const carried: Pending[] = [];
    let bytes = 0;
    while (queue.length > 0) {
      const p = queue[0] as Pending;
      const from = p.next;
      for (; p.next < p.messages.length; p.next++) {
        const size = p.sizes[p.next] as number;
        if (messages.length > 0 && bytes + size > MAX_SEND_BYTES) break;
        messages.push(p.messages[p.next] as Message);
        bytes += size;
      }
      if (p.next > from) {
        carried.push(p);
        p.unsettled++;
      }
      if (p.next < p.messages.length) break;
      queue.shift();
    }
    inFlight = true;
    sends++;
    sent += messages.length;
    const settle = (err?: unknown) => {
      for (const p of carried) {
        p.unsettled--;
        if (err !== undefined && p.failure === undefined) p.failure = err;
        if (p.unsettled === 0 && p.next === p.messages.length) p.done(p.failure);
      }
    };
    producer
      .send({ topic, acks: -1, compression: RAW_CODECS[opts.compression], messages })
      .then(
        () => settle(),
        (err: unknown) => settle(err ?? new Error('send failed')),
      )
      .finally(() => {
        inFlight = false;
        pump();
      });
  };
  const latencies: number[] = [];
  let measuring = false;
  let events = 0;
  let cpuUs = 0;
  let loopS = 0;
  const measured = { sends: 0, sent: 0 };
  const send = async (c: number, i: number) => {
    const began = performance.now();
    const k = (c * 7 + i) % messagesOf.length;
    await new Promise<void>((resolve, reject) => {
      queue.push({ messages: messagesOf[k] ?? [], sizes: sizes[k] ?? [], next: 0, unsettled: 0, failure: undefined, done: (err) => (err === undefined ? resolve() : reject(err as Error)) });
      pump();
    });
    if (measuring) latencies.push(performance.now() - began);
    return BATCH;
  };
  return {
    async warm(ms) {
      await drive(CLIENTS, ms, send);
    },
    async measure(ms) {
      await drive(CLIENTS, WARM_MS, send);
      const cpuFrom = process.cpuUsage();
      const loopFrom = threadCpu(process.pid, String(process.pid));
      const sendsFrom = { sends, sent };
      measuring = true;
      const window = await drive(CLIENTS, ms, send);
      measuring = false;
      const cpu = process.cpuUsage(cpuFrom);
      cpuUs += cpu.user + cpu.system;
      loopS += threadCpu(process.pid, String(process.pid)) - loopFrom;
      events += window.total;
      measured.sends += sends - sendsFrom.sends;
      measured.sent += sent - sendsFrom.sent;
      return window;
    },
    cpu: () => ({ total: cpuUs / events, loop: (loopS * 1e6) / events }),
    latencies: () => [...latencies].sort((a, b) => a - b),
    recordsPerSend: () => measured.sent / measured.sends,
    async stop() {
      await producer.disconnect();
      await opts.admin.deleteTopics([topic]).catch(() => undefined);
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
  // 16 distinct batches reused round-robin: ingest does not deduplicate, so reuse does not flatter it.
  const batches = Array.from({ length: 16 }, (_, b) => Array.from({ length: BATCH }, (_, i) => sampleAuditEvent(b * BATCH + i)));
  const bodies = batches.map((events) => Buffer.from(JSON.stringify(sampleEventList(events))));
  // How many raw.v2 records ingest makes of each body (one user's events in as few as fit), for the landed check.
  const recordsPerBody = batches.map((events) => rawRecordsOf(events, CLUSTERS[0] as string).length);
  const eventBytes = Math.round(bodies[0]!.length / BATCH);

  const compression = loadKafkaCompression({});
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-ingest', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  try {
    const common = { brokers: ctx.kafkaBrokers, bodies, recordsPerBody, tokens, clustersFile, dir, admin };
    const baseline = await startBaseline({ brokers: ctx.kafkaBrokers, batches, compression, admin });
    const baseWindows: Window[] = [];
    const ingestWindows: Window[] = [];
    let ingest: RunningIngest | undefined;
    let ingestCpu: ReturnType<RunningIngest['cpu']>;
    let ingestLatencies: number[];
    let memory: MemoryAtPeak;
    let non200: number;
    try {
      ingest = await startIngest(common);
      const running = ingest;
      // The broker's warm-up, then ABBA: baseline, ingest | ingest, baseline | …
      await baseline.warm(BROKER_WARM_MS);
      for (let round = 0; round < ROUNDS; round++) {
        const sides = [() => baseline.measure(windowMs).then((w) => baseWindows.push(w)), () => running.measure(windowMs).then((w) => ingestWindows.push(w))];
        for (const side of round % 2 === 0 ? sides : sides.reverse()) await side();
      }
      ingestCpu = ingest.cpu();
      ingestLatencies = ingest.latencies();
      memory = ingest.memory();
      non200 = ingest.non200();
    } finally {
      await ingest?.stop();
    }
    const baselineCpu = baseline.cpu();
    const baselineLatencies = baseline.latencies();
    const recordsPerSend = baseline.recordsPerSend();
    await baseline.stop();
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
    const onLoop = await once({ INGEST_PARSE_THREADS: '0' });

    const base = joined(baseWindows);
    const ing = joined(ingestWindows);
    const roundRatios = ingestWindows.map((w, i) => rate(w) / rate(baseWindows[i] as Window));
    const baselineName = `raw kafkajs idempotent acks=-1 ${compression}, same records, filled as BatchingPublisher fills ≤ 900 KiB sends (${Math.round(recordsPerSend)} records/send), one in flight; ABBA rounds`;
    const slowest = (w: Window) => Math.min(...w.perSecond);
    const fastest = (w: Window) => Math.max(...w.perSecond);
    const rest = memory.rss - memory.file - memory.heap - memory.external;
    const figures: BenchFigure[] = [
      {
        name: `ingest acknowledged events/s (${CLIENTS} clients, ${BATCH}-event batches, ~${eventBytes} B/event; ${ROUNDS} windows of ${windowMs / 1000} s each, alternating with the baseline's)`,
        value: rate(ing),
        unit: 'events/s',
        baseline: rate(base),
        baselineName,
        goal: '>= 0.8x and >= 20,000 events/s',
      },
      {
        name: 'ingest / raw kafkajs, the lower of the rounds (ABBA: each round\'s two windows back to back)',
        value: Math.min(...roundRatios),
        unit: `x (rounds: ${roundRatios.map(ratioText).join(', ')})`,
        goal: '>= 0.8x',
      },
      {
        name: 'ingest\'s slowest second of the measured windows',
        value: slowest(ing),
        unit: `events/s (fastest ${Math.round(fastest(ing)).toLocaleString('en-US')})`,
        baseline: slowest(base),
        baselineName: `raw kafkajs's slowest second (fastest ${Math.round(fastest(base)).toLocaleString('en-US')})`,
      },
      {
        name: 'ingest CPU per event (the service process, all threads)',
        value: ingestCpu.total,
        unit: 'µs/event',
        baseline: baselineCpu.total,
        baselineName: `raw kafkajs producer of the same records, ${compression} (bench process)`,
      },
      {
        name: 'ingest CPU per event: event loop',
        value: ingestCpu.threads.main,
        unit: 'µs/event',
        baseline: baselineCpu.loop,
        baselineName: 'raw kafkajs producer: the bench process\'s event loop',
      },
      { name: 'ingest CPU per event: check workers (JSON.parse, validation)', value: ingestCpu.threads.workers, unit: 'µs/event' },
      { name: 'ingest CPU per event: other threads (V8 GC and compiler, libuv pool: zstd)', value: ingestCpu.threads.other, unit: 'µs/event', baseline: baselineCpu.total - baselineCpu.loop, baselineName: 'raw kafkajs producer: the bench process\'s other threads' },
      { name: 'ingest CPU per event: tsx loader threads (a checkout only, not the image)', value: ingestCpu.threads.loaders, unit: 'µs/event' },
      // Not ingest's, but on the same two cores while ingest is measured (the baseline has no HTTP to send).
      { name: 'the bench\'s HTTP clients (load generator, this process) CPU per event during ingest\'s windows', value: ingestCpu.clients, unit: 'µs/event' },
      { name: 'floor: JSON.parse of the same events', value: floor.jsonParseUs, unit: 'µs/event' },
      { name: 'ingest request latency p50 (400-event batch)', value: percentile(ingestLatencies, 50), unit: 'ms', baseline: percentile(baselineLatencies, 50), baselineName: 'raw kafkajs: the 400 records acknowledged (coalesced)' },
      { name: 'ingest request latency p99 (400-event batch)', value: percentile(ingestLatencies, 99), unit: 'ms', baseline: percentile(baselineLatencies, 99), baselineName: 'raw kafkajs: the 400 records acknowledged (coalesced)', goal: 'p99 < 1000 ms' },
      { name: `ingest RSS peak (start, warm-up and every window; this one in ${memory.when})`, value: memory.rss, unit: `MiB (its own process ${memory.own})`, goal: '< 300 MiB' },
      {
        name: 'ingest memory at its RSS peak: file-backed / event loop V8 heap (committed) / Buffers outside the heap / the rest (parse threads\' heaps, native, code)',
        value: rest,
        unit: `MiB the rest (file ${memory.file}, heap ${memory.heap}, external ${memory.external})`,
      },
      { name: 'ingest non-200 answers during the measured windows', value: non200, unit: 'requests', goal: '0' },
      { name: 'ingest without send coalescing (for comparison)', value: uncoalesced.eventsPerSecond, unit: 'events/s', baseline: rate(base), baselineName },
      { name: 'ingest without coalescing, latency p99', value: uncoalesced.p99, unit: 'ms' },
      { name: 'ingest parsing on the event loop, no worker thread (for comparison)', value: onLoop.eventsPerSecond, unit: 'events/s', baseline: rate(base), baselineName },
      { name: 'ingest parsing on the event loop, latency p99', value: onLoop.p99, unit: 'ms' },
      { name: 'ingest parsing on the event loop, CPU per event', value: onLoop.cpuUsPerEvent, unit: 'µs/event' },
    ];
    return figures;
  } finally {
    await admin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
