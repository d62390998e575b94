/**
 * The whole pipeline under sustained load (issues 7, 15 §1, 16): the four services as child
 * processes (as deployed), both engines and this load generator on one machine, apiserver-like
 * webhook traffic (the generator's realistic mix, pre-serialized so its JSON work does not take CPU
 * from the services measured), in phases of a fixed offered rate:
 *  1. 5,000 events/s for 60 s (issue 15's alert goal), its first 20 s reported as the warm-up;
 *  2. 10,000 events/s for 60 s (issue 16's goal);
 *  3. a ramp of 20 s steps: 12,500, 15,000, 20,000 while each is sustainable; when 10,000 was not,
 *     one step at 7,500 (2,500 when 5,000 was not either) after the backlog drained;
 *  CPU figures also give the load generator's own, the Kafka broker's (its JVM), ClickHouse's (the launcher
 *  and its engine) and the rest of the machine's (on a shared machine, everyone else), with the machine's
 *  busy %, so a saturated run shows as one; stderr has each engine's CPU by thread name (GC, JIT, network
 *  and request handler threads, merges…), to see which of its settings the CPU goes to;
 *  4. ClickHouse stopped for 20 s at 5,000 events/s: the services' RSS must stay bounded.
 * Every webhook batch carries one marker event at a random position, alternately an exec into a
 * pod (`falco-attach-exec-pod`, a dedup rule: each marker is a new pod, so a new window that must
 * page at once) and a Deployment deletion (`sigma-deployment-deleted`, no dedup). A real HTTP
 * server is the webhook notifier's destination and notes when each marker's alert arrives.
 * Per phase: alert latency (webhook send → notifier request) p50/p99 for dedup and non-dedup rules
 * — over the whole phase, and beside it for the warm-up and the steady part —, split at the alert's
 * createdUs into "until the rule fired" and "until delivered", markers never
 * notified (must be 0), freshness (webhook 200 → row queryable in ClickHouse, polled every 250 ms),
 * the consumer backlog, RSS and CPU-seconds per million events of each service (/proc utime+stime; per event
 * offered, and per event the service handled by its own counters, which differ when it falls behind),
 * and beside RSS the main thread's V8 heap (used and committed) and external memory (Buffers outside
 * the heap), scraped from each service's /metrics: RSS minus those is worker threads' heaps, code and
 * native allocations (issue 16: every service < 300 MiB).
 * A phase is sustainable when the loader offered its rate, the backlog did not grow over the
 * phase's second half, freshness p99 < 5 s and every marker was stored and notified.
 * The timeline (worst latencies per 5 s) goes to stderr; BENCH_TRACE=1 keeps the services' logs.
 * The broker is warmed first (bench/broker-warm.ts: BENCH_BROKER_WARM_MS, default 20 s, 0 turns it off; a figure says
 * how long), as in the alert bench: the services start after it, so their own warm-up stays in phase 1's window.
 * BENCH_SERVICE_ENV (JSON, e.g. `{"enrich":{"ENRICH_FETCH_MAX_BYTES":"10485760"}}`) adds settings to a service's
 * environment for this run: an A/B of one setting without editing defaults (the run says so on stderr).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { auditTraffic, createRng, scenarioEvents } from '@kaudit/audit-generator';
import { createClickHouse } from '@kaudit/clickhouse';
import { DEFAULT_KAFKA_COMPRESSION } from '@kaudit/config';
import { createKafkaClient, TOPICS } from '@kaudit/kafka';
import { cpuSeconds, freePort, processTree, rssMiB } from '@kaudit/stack';
import { ServiceProcess } from '@kaudit/testkit';
import { setupPipeline } from 'kaudit';
import { z } from 'zod';
import type { BenchFigure, BenchRun } from './bench-types.js';
import { warmBroker } from './broker-warm.js';
import { RAW_CODECS } from './raw-kafkajs.js';
import { webhookPoster } from './webhook-poster.js';
import { KAFKA_THREAD_PARTS, machineBusySeconds, threadCpuBetween, threadCpuSnapshot, type ThreadSample } from './thread-cpu.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const CLUSTERS = ['fresh-a', 'fresh-b', 'fresh-c', 'fresh-d'];
const SERVICES = ['sink', 'alert', 'enrich', 'ingest'] as const;
const ENGINES = ['kafka', 'clickhouse'] as const;
const ENGINE_LABEL: Record<(typeof ENGINES)[number], string> = { kafka: 'Kafka broker (JVM)', clickhouse: 'ClickHouse (launcher + engine)' };
/**
 * Thread groups (threadCpuSnapshot's names: Linux keeps 15 characters) reported as figures, "of which" their
 * engine's CPU: what a setting of the local stack could change. Kafka's network and request handler threads
 * share one truncated name (data-plane-kafk).
 */
const ENGINE_PARTS: readonly { engine: (typeof ENGINES)[number]; part: string; threads: readonly string[] }[] = [
  ...KAFKA_THREAD_PARTS.map((p) => ({ engine: 'kafka' as const, ...p })),
  { engine: 'clickhouse', part: 'HTTP handlers (inserts and queries)', threads: ['HTTPHandler'] },
  { engine: 'clickhouse', part: 'merges', threads: ['MergeMutate'] },
];
/** Thread groups per engine printed to stderr each phase, the busiest first. */
const TOP_THREAD_GROUPS = 10;
const BATCH = 400;
const IN_FLIGHT = 8;
const WARMUP_MS = 20_000;
const FRESHNESS_GOAL_MS = 5000;
const DEDUP_RULE = 'falco-attach-exec-pod';
const PLAIN_RULE = 'sigma-deployment-deleted';
/** Every consumer that stands between a webhook and its row or alert: [group, topic]. */
const BACKLOG: readonly [string, string][] = [
  ['kaudit-enrich', TOPICS.raw],
  ['kaudit-sink', TOPICS.enriched],
  ['kaudit-alert', TOPICS.enriched],
];
const MARK = Buffer.from('kmark-');
const markName = (seq: number): string => `kmark-${String(seq).padStart(7, '0')}`;

function findMarks(body: Buffer): string[] {
  const found: string[] = [];
  for (let at = body.indexOf(MARK); at >= 0; at = body.indexOf(MARK, at + 1)) found.push(body.subarray(at, at + MARK.length + 7).toString('latin1'));
  return found;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Phase {
  name: string;
  rate: number;
  ms: number;
  /** Markers sent in the first `warmupMs` are also reported as the warm-up. */
  warmupMs: number;
  clickhouseDown?: boolean;
}

interface Marker {
  phase: string;
  dedup: boolean;
  sentAt: number;
  /** Time since the phase began when it was sent. */
  inPhase: number;
  auditID: string;
  ackAt?: number;
}

interface PhaseRecord {
  phase: Phase;
  offered: number;
  sent: number;
  refused: number;
  cpu: Map<string, number>;
  /** Per engine: CPU seconds by thread name over the phase (threadCpuBetween). */
  engineThreads: Map<string, Map<string, number>>;
  rss: Map<string, number>;
  /** Per service: the largest main-thread heap used, heap committed and external memory seen, MiB. */
  memory: Map<string, ServiceMemory>;
  backlogMid: number;
  backlogEnd: number;
  /** Wall time over which `cpu` was measured. */
  seconds: number;
  /** Per service: the events it handled over the phase (HANDLED), NaN when unreadable. */
  handled: Map<string, number>;
}

interface ServiceMemory {
  heapUsed: number;
  heapTotal: number;
  external: number;
}

const MEMORY_METRICS = { nodejs_heap_size_used_bytes: 'heapUsed', nodejs_heap_size_total_bytes: 'heapTotal', nodejs_external_memory_bytes: 'external' } as const;

/** The main thread's heap and external memory from a service's /metrics (prom-client's default metrics), MiB. */
/**
 * What each service counts as an event it handled, from its /metrics: the phase's CPU per event is also given per
 * event each one actually handled — when a service falls behind, "per event offered" understates what an event costs it.
 */
const HANDLED: Record<(typeof SERVICES)[number], RegExp> = {
  ingest: /^kaudit_ingest_events_total\{[^}]*outcome="accepted"[^}]*\} (\S+)$/gm,
  enrich: /^kaudit_enrich_records_total\{outcome="enriched"\} (\S+)$/gm,
  sink: /^kaudit_sink_rows_total\{[^}]*table="audit_events"[^}]*outcome="inserted"[^}]*\} (\S+)$/gm,
  alert: /^kaudit_alert_records_evaluated_total (\S+)$/gm,
};

/** The sum of a service's HANDLED counter series, or NaN when its /metrics could not be read. */
async function scrapeHandled(service: (typeof SERVICES)[number], port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (!res?.ok) return Number.NaN;
  return [...(await res.text()).matchAll(HANDLED[service])].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function scrapeMemory(port: number): Promise<ServiceMemory | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
  if (!res?.ok) return undefined;
  const out: ServiceMemory = { heapUsed: Number.NaN, heapTotal: Number.NaN, external: Number.NaN };
  for (const line of (await res.text()).split('\n')) {
    const [name, value] = line.split(' ');
    const key = MEMORY_METRICS[name as keyof typeof MEMORY_METRICS];
    if (key !== undefined) out[key] = Math.round(Number(value) / (1024 * 1024));
  }
  return out;
}

export const run: BenchRun = async (ctx) => {
  const work = mkdtempSync(join(tmpdir(), 'kaudit-bench-pipeline-'));
  const database = `bench_${randomBytes(4).toString('hex')}`;
  await setupPipeline({ kafkaBrokers: ctx.kafkaBrokers, clickhouse: { url: ctx.clickhouseUrl }, database, retentionDays: 30, migrationsDir: join(REPO, 'migrations', 'clickhouse') }, ctx.logger);

  // The broker's warm-up before any service starts (bench/broker-warm.ts, as in the alert bench): the bench's broker
  // was started moments ago, a deployment's is long-running; without it its JIT threads alone took 0.1 core of
  // the 5k/s phase (C2 24.5 CPU-s per million events, bench/results/2026-12-02T18-14-39.json). The services' own
  // start-up stays inside the first phase's warm-up window.
  const brokerWarmMs = Number(process.env.BENCH_BROKER_WARM_MS ?? 20_000);
  const warmTopic = `bench_pipeline_broker_warm_${randomBytes(4).toString('hex')}`;
  const warmClient = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-pipeline-warm', logger: ctx.logger });
  const warmAdmin = warmClient.admin();
  await warmAdmin.start();
  await warmAdmin.ensureTopics([{ topic: warmTopic, partitions: 6 }]);
  await warmAdmin.stop();
  const warmTraffic = auditTraffic({ seed: 5, clusters: CLUSTERS, startMs: Date.now(), stepMs: 0 });
  const warmValues = Array.from({ length: BATCH }, () => Buffer.from(JSON.stringify((warmTraffic.next().value as { event: unknown }).event)));
  const brokerWarm = await warmBroker({ brokers: ctx.kafkaBrokers, ms: brokerWarmMs, topic: warmTopic, compression: RAW_CODECS[DEFAULT_KAFKA_COMPRESSION], values: warmValues, rate: 5000, batch: BATCH, producers: 3 });
  process.stderr.write(`  broker warmed for ${(brokerWarm.ms / 1000).toFixed(1)} s (BENCH_BROKER_WARM_MS): ${brokerWarm.produced} records produced, ${brokerWarm.consumed} consumed\n`);

  // The webhook notifier's destination: a real HTTP server noting when each marker's alert arrives.
  // The alert's createdUs (the evaluator's wall clock) splits each latency into "until the rule
  // fired" (ingest, enrich, the evaluator's consumer) and "until delivered" (the alerts topic and the
  // destination worker).
  const notified = new Map<string, number>();
  const created = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks);
      const createdUs = /"createdUs":(\d+)/.exec(body.toString('utf8'))?.[1];
      for (const name of findMarks(body)) {
        if (notified.has(name)) continue;
        notified.set(name, at);
        if (createdUs !== undefined) created.set(name, Number(createdUs) / 1000);
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  writeFileSync(join(work, 'notifiers.yaml'), `notifiers:\n  - name: bench\n    type: webhook\n    url: ${hookUrl}\n    route: { rules: [${DEDUP_RULE}, ${PLAIN_RULE}] }\n    rateLimit: { perSecond: 10000, burst: 1000 }\n`);

  const tokens = Object.fromEntries(CLUSTERS.map((c) => [c, randomBytes(18).toString('base64url')]));
  writeFileSync(join(work, 'clusters.yaml'), `clusters:\n${CLUSTERS.map((c) => `  ${c}:\n    tokens:\n      - sha256: ${createHash('sha256').update(tokens[c] ?? '').digest('hex')}\n`).join('')}`);
  const common = { KAFKA_BROKERS: ctx.kafkaBrokers, CLICKHOUSE_URL: ctx.clickhouseUrl, CLICKHOUSE_DATABASE: database, LOG_LEVEL: 'warn' };
  const serviceEnv: Record<(typeof SERVICES)[number], Record<string, string>> = {
    sink: { ...common },
    alert: { ...common, ALERT_NOTIFIERS_FILE: join(work, 'notifiers.yaml'), ALERT_RULES_DIR: join(REPO, 'rules') },
    enrich: { ...common, ENRICH_DIRECTORY_FILE: join(REPO, 'deploy', 'demo', 'directory.yaml') },
    ingest: { ...common, CLUSTERS_FILE: join(work, 'clusters.yaml') },
  };
  const overrides = z.partialRecord(z.enum(SERVICES), z.record(z.string(), z.string())).parse(JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}'));
  for (const [service, extra] of Object.entries(overrides)) {
    process.stderr.write(`  BENCH_SERVICE_ENV: ${service} runs with ${JSON.stringify(extra)}\n`);
    Object.assign(serviceEnv[service as (typeof SERVICES)[number]], extra);
  }
  const ingestPort = await freePort();
  // Where each service serves /metrics: ingest on its own metrics port, the others on their HTTP port.
  const metricsPorts = new Map<string, number>();
  const procs = new Map<string, ServiceProcess>();
  for (const service of SERVICES) {
    const httpPort = service === 'ingest' ? ingestPort : await freePort();
    const metricsPort = service === 'ingest' ? await freePort() : httpPort;
    metricsPorts.set(service, metricsPort);
    const env = service === 'ingest' ? { ...serviceEnv[service], INGEST_METRICS_PORT: String(metricsPort) } : serviceEnv[service];
    const proc = new ServiceProcess({ service, env, httpPort, logDir: join(work, 'logs') });
    await proc.start();
    procs.set(service, proc);
  }
  const ch = createClickHouse({ url: ctx.clickhouseUrl });
  const kafka = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-pipeline', logger: ctx.logger });
  const admin = kafka.admin();
  await admin.start();
  const backlog = async (): Promise<number> => {
    let total = 0;
    for (const [group, topic] of BACKLOG) {
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchCommittedOffsets(group, topic)]);
      for (const { partition, high } of ends) {
        const at = Number(committed.find((c) => c.partition === partition)?.offset ?? -1);
        total += Math.max(0, Number(high) - Math.max(0, at));
      }
    }
    return total;
  };

  const poster = webhookPoster(ingestPort, IN_FLIGHT);
  const post = async (cluster: string, body: Buffer): Promise<boolean> => {
    const res = await poster.post(`/v1/clusters/${cluster}/audit`, { authorization: `Bearer ${tokens[cluster] ?? ''}` }, body);
    return res.status >= 200 && res.status < 300;
  };
  const rng = createRng(29);
  const markerEvent = (seq: number, dedup: boolean): Record<string, unknown> => {
    const name = markName(seq);
    // An exec's first report (ResponseStarted) is what the exec rule pages on; a new pod each time
    // opens a new dedup window, so every marker must page at once.
    const [event] = scenarioEvents(rng, dedup ? 'exec-into-pod' : 'delete-nginx', Date.now()) as [Record<string, unknown>];
    event.objectRef = { ...(event.objectRef as object), name };
    event.auditID = `${name}-${randomBytes(4).toString('hex')}`;
    return event;
  };

  // One marker through the whole path first: readiness is "Kafka reachable", not "groups joined".
  {
    const probe = markerEvent(9_999_999, false);
    const began = Date.now();
    if (!(await post(CLUSTERS[0] as string, Buffer.from(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [probe] }))))) throw new Error('ingest refused the probe batch');
    while (!notified.has(markName(9_999_999))) {
      if (Date.now() - began > 90_000) throw new Error('the probe alert never reached the notifier');
      await sleep(100);
    }
  }

  // Background bodies serialized once; each batch splices its marker into one of them.
  const traffic = auditTraffic({ seed: 11, clusters: CLUSTERS, startMs: Date.now(), stepMs: 0 });
  const templates = Array.from({ length: 60 }, () => {
    const json = Array.from({ length: BATCH - 1 }, () => JSON.stringify((traffic.next().value as { event: Record<string, unknown> }).event));
    const at = rng.int(BATCH - 1);
    const before = json.slice(0, at).join(',');
    const after = json.slice(at).join(',');
    return { head: Buffer.from(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${before}${before ? ',' : ''}`), tail: Buffer.from(`${after ? ',' : ''}${after}]}`) };
  });

  const markers = new Map<string, Marker>();
  const stored = new Map<string, number>(); // marker name → when it was found in ClickHouse
  const pendingRows = new Map<string, string>(); // auditID → marker name, acked but not yet found
  let seq = 0;
  let stopPolling = false;
  const rssNow = new Map<string, number>();
  const memoryNow = new Map<string, ServiceMemory>();
  const noteMemory = async () => {
    await Promise.all(
      [...metricsPorts].map(async ([name, port]) => {
        const m = await scrapeMemory(port);
        if (m === undefined) return;
        const was = memoryNow.get(name);
        // NaN (a metric missing) never wins a Math.max: it stays NaN only while nothing was read.
        const max = (a: number | undefined, b: number) => (a === undefined || Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b));
        memoryNow.set(name, { heapUsed: max(was?.heapUsed, m.heapUsed), heapTotal: max(was?.heapTotal, m.heapTotal), external: max(was?.external, m.external) });
      }),
    );
  };
  let polls = 0;
  const poller = (async () => {
    while (!stopPolling) {
      // Once a second: /metrics costs the services a little CPU, so not at the 250 ms of the rest.
      if (polls++ % 4 === 0) await noteMemory();
      const ids = [...pendingRows.keys()];
      if (ids.length > 0) {
        // By object name too: the sorting key's second column (each marker's object is named after it), so the
        // primary index skips most granules. By audit_id alone only its bloom filter skipped: on 1M rows that read
        // ~2.5-10x the rows and cost ClickHouse ~1.5-3x the CPU per poll (measured apart, loaded machine), 4 times a
        // second and growing with the table: engine CPU the bench itself charged to the pipeline.
        const names = [...new Set(pendingRows.values())];
        const query = `SELECT DISTINCT audit_id FROM ${database}.audit_events WHERE object_name IN {names:Array(String)} AND audit_id IN {ids:Array(String)}`;
        const rs = await ch.query({ query, query_params: { ids, names }, format: 'JSONEachRow' }).catch(() => undefined);
        const found = rs ? await rs.json<{ audit_id: string }>().catch(() => []) : [];
        const now = Date.now();
        for (const { audit_id } of found) {
          const name = pendingRows.get(audit_id);
          if (name !== undefined) stored.set(name, now);
          pendingRows.delete(audit_id);
        }
      }
      for (const [name, proc] of procs) {
        const mib = proc.pid === undefined ? undefined : rssMiB(proc.pid);
        if (mib !== undefined) rssNow.set(name, Math.max(rssNow.get(name) ?? 0, mib));
      }
      await sleep(250);
    }
  })();

  // Each service's CPU, the load generator's own (this process), and the machine's busy CPU time
  // (/proc/stat), so what the engines and everything else used is visible too.
  const enginePids = () => ctx.enginePids?.() ?? {};
  // An engine's CPU is counted from its PID at the phase's start; one restarted within a phase (a new PID) counts
  // from zero, i.e. its whole life, which began within the phase.
  const engineCpu = (pids: { kafka?: number; clickhouse?: number }) =>
    ENGINES.map((e): [string, number] => {
      const pid = pids[e];
      return [e, pid === undefined ? 0 : (cpuSeconds(pid) ?? 0)];
    });
  const engineThreadsNow = () => new Map(ENGINES.map((e) => {
    const pid = enginePids()[e];
    return [e, pid === undefined ? new Map<string, ThreadSample>() : threadCpuSnapshot(processTree(pid))];
  }));
  const cpuNow = (pids: { kafka?: number; clickhouse?: number }) => {
    const own = process.cpuUsage();
    return new Map([
      ...[...procs].map(([name, proc]): [string, number] => [name, proc.pid === undefined ? 0 : (cpuSeconds(proc.pid) ?? 0)]),
      ['load generator', (own.user + own.system) / 1e6],
      ...engineCpu(pids),
      ['machine', machineBusySeconds()],
    ]);
  };

  const handledNow = async () => new Map(await Promise.all(SERVICES.map(async (s): Promise<[string, number]> => [s, await scrapeHandled(s, metricsPorts.get(s) ?? 0)])));
  const runPhase = async (phase: Phase): Promise<PhaseRecord> => {
    if (phase.clickhouseDown) await ctx.stopEngine?.('clickhouse');
    const handled0 = await handledNow();
    const pids0 = enginePids();
    const cpu0 = cpuNow(pids0);
    const threads0 = engineThreadsNow();
    rssNow.clear();
    memoryNow.clear();
    let sent = 0;
    let refused = 0;
    let backlogMid = Number.NaN;
    const began = Date.now();
    const inflight = new Set<Promise<void>>();
    const mid = sleep(phase.ms / 2).then(async () => {
      backlogMid = await backlog().catch(() => Number.NaN);
    });
    for (let batchNo = 0; Date.now() - began < phase.ms; batchNo++) {
      const cluster = CLUSTERS[batchNo % CLUSTERS.length] as string;
      const dedup = seq % 2 === 0;
      const event = markerEvent(seq, dedup);
      const name = markName(seq++);
      const template = templates[batchNo % templates.length] as { head: Buffer; tail: Buffer };
      const sentAt = Date.now();
      const marker: Marker = { phase: phase.name, dedup, sentAt, inPhase: sentAt - began, auditID: String(event.auditID) };
      markers.set(name, marker);
      const request = post(cluster, Buffer.concat([template.head, Buffer.from(JSON.stringify(event)), template.tail]))
        .then((ok) => {
          if (!ok) return void refused++;
          marker.ackAt = Date.now();
          pendingRows.set(marker.auditID, name);
        })
        .catch(() => void refused++)
        .finally(() => inflight.delete(request));
      inflight.add(request);
      sent += BATCH;
      // Bounded concurrency: at most IN_FLIGHT batches wait for a 200 (apiservers throttle their audit
      // webhook too: --audit-webhook-batch-throttle-qps, 10/s each by default, with 400-event batches).
      while (inflight.size >= IN_FLIGHT) await Promise.race(inflight);
      const ahead = (sent / phase.rate) * 1000 - (Date.now() - began);
      if (ahead > 0) await sleep(ahead);
    }
    await Promise.all(inflight);
    const offered = sent / ((Date.now() - began) / 1000);
    await mid;
    const pids1 = enginePids();
    const cpu1 = cpuNow(pids1);
    const handled1 = await handledNow();
    const handled = new Map([...handled1].map(([s, n]) => [s, n - (handled0.get(s) ?? Number.NaN)]));
    const cpu = new Map([...cpu1].map(([s, c]) => [s, c - (cpu0.get(s) ?? 0)]));
    for (const e of ENGINES) if (pids1[e] !== pids0[e]) cpu.set(e, cpu1.get(e) ?? 0);
    const threads1 = engineThreadsNow();
    const engineThreads = new Map(ENGINES.map((e) => [e, threadCpuBetween(threads0.get(e) ?? new Map(), threads1.get(e) ?? new Map())]));
    const seconds = (Date.now() - began) / 1000;
    const record: PhaseRecord = { phase, offered, sent, refused, cpu, engineThreads, seconds, rss: new Map(rssNow), memory: new Map(memoryNow), handled, backlogMid, backlogEnd: await backlog().catch(() => Number.NaN) };
    if (phase.clickhouseDown) await ctx.startEngines?.();
    process.stderr.write(`  ${phase.name}: offered ${Math.round(offered)}/s, backlog mid ${backlogMid} end ${record.backlogEnd}\n`);
    for (const [e, groups] of engineThreads) {
      const top = [...groups].filter(([, c]) => c > 0).sort((a, b) => b[1] - a[1]).slice(0, TOP_THREAD_GROUPS);
      process.stderr.write(`    ${e} CPU-s per 1M events by thread: ${top.map(([name, c]) => `${name}=${((c / sent) * 1e6).toFixed(1)}`).join(', ')}\n`);
    }
    return record;
  };

  const scaled = (ms: number) => Math.max(10_000, Math.round(ms * ctx.scale));
  const records: PhaseRecord[] = [];
  // At small --scale the warm-up is a third of the phase, so a steady part remains to report.
  const long = scaled(60_000);
  const warmupMs = Math.min(WARMUP_MS, Math.round(long / 3));
  records.push(await runPhase({ name: '5k/s', rate: 5000, ms: long, warmupMs }));
  records.push(await runPhase({ name: '10k/s', rate: 10_000, ms: long, warmupMs }));
  // Sustainability needs the markers' outcome; a step's markers get its length again to land.
  const settle = async (name: string, ms: number) => {
    const until = Date.now() + ms;
    const mine = () => [...markers].filter(([n, m]) => m.phase === name && (!notified.has(n) || !stored.has(n)));
    while (Date.now() < until && mine().length > 0) await sleep(250);
  };
  const judge = (r: PhaseRecord): boolean => {
    const ms = [...markers].filter(([, m]) => m.phase === r.phase.name);
    const fresh = ms.flatMap(([n, m]) => (stored.has(n) && m.ackAt !== undefined ? [(stored.get(n) as number) - m.ackAt] : [])).sort((a, b) => a - b);
    const growing = !(r.backlogEnd <= Math.max(r.backlogMid, r.phase.rate)); // NaN (unreadable) counts as growing
    return r.offered >= 0.95 * r.phase.rate && r.refused === 0 && !growing && fresh.length === ms.length && percentile(fresh, 99) < FRESHNESS_GOAL_MS && ms.every(([n]) => notified.has(n));
  };
  await settle('10k/s', 15_000);
  // The ramp: up from 10,000/s while sustainable; below it, one step between the rates tried (after
  // the backlog drained). Bounded so the whole bench stays under ~6 min at --scale 1.
  const rampMs = scaled(20_000);
  const tenOk = judge(records[1] as PhaseRecord);
  const steps = tenOk ? [12_500, 15_000, 20_000] : judge(records[0] as PhaseRecord) ? [7500] : [2500];
  for (const rate of steps) {
    if (!tenOk) {
      const until = Date.now() + 45_000;
      while (Date.now() < until && (await backlog().catch(() => Infinity)) > 5000) await sleep(1000);
    }
    const r = await runPhase({ name: `ramp ${rate / 1000}k/s`, rate, ms: rampMs, warmupMs: 0 });
    records.push(r);
    await settle(r.phase.name, 10_000);
    if (!judge(r)) break;
  }
  let down: PhaseRecord | undefined;
  if (ctx.stopEngine && ctx.startEngines) {
    down = await runPhase({ name: 'ClickHouse down', rate: 5000, ms: scaled(20_000), warmupMs: 0, clickhouseDown: true });
  }
  // Last chance for late markers to land, then the figures.
  const lastUntil = Date.now() + 20_000;
  while (Date.now() < lastUntil && [...markers].some(([n]) => !notified.has(n) || !stored.has(n))) await sleep(500);
  stopPolling = true;
  await poller;

  poster.close();
  for (const proc of [...procs.values()].reverse()) await proc.stop();
  await admin.stop();
  server.close();
  await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await ch.close();
  if (process.env.BENCH_TRACE) process.stderr.write(`service logs kept in ${work}/logs\n`);
  else rmSync(work, { recursive: true, force: true });

  // Timeline: worst alert latency and freshness per 5 s of each phase, warm-up included.
  for (const r of [...records, ...(down ? [down] : [])]) {
    const buckets = new Map<number, [number, number]>();
    for (const [n, m] of markers) {
      if (m.phase !== r.phase.name) continue;
      const b = Math.floor(m.inPhase / 5000) * 5;
      const cur = buckets.get(b) ?? [0, 0];
      buckets.set(b, [Math.max(cur[0], (notified.get(n) ?? Number.NaN) - m.sentAt), Math.max(cur[1], (stored.get(n) ?? Number.NaN) - (m.ackAt ?? m.sentAt))]);
    }
    process.stderr.write(`  ${r.phase.name} worst alert/freshness ms per 5 s: ${[...buckets].map(([b, [a, f]]) => `${b}s:${a}/${f}`).join(' ')}\n`);
  }

  const figures: BenchFigure[] = [
    { name: 'broker warmed before the services started (BENCH_BROKER_WARM_MS; unrelated topic, same request types)', value: brokerWarm.ms / 1000, unit: `s (${brokerWarm.produced} records)` },
  ];
  const alertGoal = 'p99 < 1000 ms';
  const latencyFigures = (r: PhaseRecord, label: string, select: (m: Marker) => boolean, goal?: string) => {
    const ms = [...markers].filter(([, m]) => m.phase === r.phase.name && select(m));
    const lat = ms.flatMap(([n, m]) => (notified.has(n) ? [(notified.get(n) as number) - m.sentAt] : [])).sort((a, b) => a - b);
    return [
      { name: `${r.phase.name} ${label}: webhook → notifier request, p50`, value: percentile(lat, 50), unit: `ms (${lat.length} markers)` },
      { name: `${r.phase.name} ${label}: webhook → notifier request, p99`, value: percentile(lat, 99), unit: `ms (${lat.length} markers)`, ...(goal ? { goal } : {}) },
    ];
  };
  const split = (r: PhaseRecord) => {
    const ms = [...markers].filter(([n, m]) => m.phase === r.phase.name && created.has(n) && notified.has(n));
    const fired = ms.map(([n, m]) => (created.get(n) as number) - m.sentAt).sort((a, b) => a - b);
    const delivered = ms.map(([n]) => (notified.get(n) as number) - (created.get(n) as number)).sort((a, b) => a - b);
    return [
      { name: `${r.phase.name} all rules: webhook → rule fired (alert createdUs), p99`, value: percentile(fired, 99), unit: `ms (${fired.length} markers)` },
      { name: `${r.phase.name} all rules: rule fired → notifier request, p99`, value: percentile(delivered, 99), unit: `ms (${delivered.length} markers)` },
    ];
  };
  const judged = records.map((r) => ({ r, ok: judge(r) }));
  for (const { r, ok } of [...judged, ...(down ? [{ r: down, ok: false }] : [])]) {
    const name = r.phase.name;
    const mine = [...markers].filter(([, m]) => m.phase === name);
    const events = r.sent;
    figures.push({ name: `${name}: offered webhook load (${BATCH}-event batches, ${CLUSTERS.length} clusters)`, value: r.offered, unit: 'events/s', goal: `~${r.phase.rate.toLocaleString('en-US')}` });
    figures.push({ name: `${name}: webhook batches refused (non-2xx)`, value: r.refused, unit: 'batches' });
    // Alerts do not go through ClickHouse: their latency while it is down is reported too.
    for (const [label, dedup] of [['dedup rule', true], ['non-dedup rule', false]] as const) {
      figures.push(...latencyFigures(r, `${label}, whole phase`, (m) => m.dedup === dedup, alertGoal));
    }
    figures.push(...split(r));
    if (!r.phase.clickhouseDown) {
      for (const [label, dedup] of [['dedup rule', true], ['non-dedup rule', false]] as const) {
        if (r.phase.warmupMs > 0) {
          figures.push(...latencyFigures(r, `${label}, warm-up (first ${r.phase.warmupMs / 1000} s)`, (m) => m.dedup === dedup && m.inPhase < r.phase.warmupMs));
          figures.push(...latencyFigures(r, `${label}, steady (after ${r.phase.warmupMs / 1000} s)`, (m) => m.dedup === dedup && m.inPhase >= r.phase.warmupMs));
        }
      }
      const fresh = mine.flatMap(([n, m]) => (stored.has(n) && m.ackAt !== undefined ? [(stored.get(n) as number) - m.ackAt] : [])).sort((a, b) => a - b);
      figures.push({ name: `${name}: freshness webhook 200 → queryable, p50`, value: percentile(fresh, 50), unit: `ms (${fresh.length} markers)` });
      figures.push({ name: `${name}: freshness webhook 200 → queryable, p99`, value: percentile(fresh, 99), unit: `ms (${fresh.length} markers)`, goal: 'p99 < 5000 ms' });
    }
    figures.push({ name: `${name}: markers never notified`, value: mine.filter(([n]) => !notified.has(n)).length, unit: `of ${mine.length}`, goal: '0' });
    figures.push({ name: `${name}: markers never queryable`, value: mine.filter(([n]) => !stored.has(n)).length, unit: `of ${mine.length}`, goal: '0' });
    figures.push({ name: `${name}: consumer backlog at mid-phase / at end`, value: r.backlogEnd, unit: `records (mid ${r.backlogMid})`, goal: 'not growing' });
    for (const s of SERVICES) {
      figures.push({ name: `${name}: CPU ${s}`, value: ((r.cpu.get(s) ?? 0) / events) * 1e6, unit: 'CPU-s per 1M events' });
      const handled = r.handled.get(s) ?? Number.NaN;
      // Not where it handled almost nothing (the sink while ClickHouse is down): that would be a ratio of nothing.
      if (handled >= 1000) figures.push({ name: `${name}: CPU ${s} per event it handled`, value: ((r.cpu.get(s) ?? 0) / handled) * 1e6, unit: `CPU-s per 1M events handled (${Math.round(handled)} in the phase)` });
      figures.push({ name: `${name}: RSS ${s} (max)`, value: r.rss.get(s) ?? Number.NaN, unit: 'MiB', goal: '< 300 MiB' });
      const m = r.memory.get(s);
      figures.push({ name: `${name}: V8 heap used ${s} (max, main thread)`, value: m?.heapUsed ?? Number.NaN, unit: `MiB (committed max ${m?.heapTotal ?? Number.NaN} MiB)` });
      figures.push({ name: `${name}: external memory ${s} (max: Buffers outside the heap)`, value: m?.external ?? Number.NaN, unit: 'MiB' });
    }
    const services = SERVICES.reduce((sum, s) => sum + (r.cpu.get(s) ?? 0), 0);
    const machine = r.cpu.get('machine') ?? 0;
    const generator = r.cpu.get('load generator') ?? 0;
    figures.push({ name: `${name}: CPU load generator (this process)`, value: (generator / events) * 1e6, unit: 'CPU-s per 1M events' });
    const engines = ENGINES.reduce((sum, e) => sum + (r.cpu.get(e) ?? 0), 0);
    for (const e of ENGINES) {
      figures.push({ name: `${name}: CPU ${ENGINE_LABEL[e]}`, value: ((r.cpu.get(e) ?? 0) / events) * 1e6, unit: 'CPU-s per 1M events' });
      for (const { part, threads } of ENGINE_PARTS.filter((p) => p.engine === e)) {
        const groups = r.engineThreads.get(e);
        const seconds = threads.reduce((sum, t) => sum + (groups?.get(t) ?? 0), 0);
        figures.push({ name: `${name}: CPU ${ENGINE_LABEL[e]}, of which ${part}`, value: (seconds / events) * 1e6, unit: 'CPU-s per 1M events' });
      }
    }
    // Other processes: on a shared machine, everyone else's work; /proc/stat's and /proc/<pid>'s ticks differ a little.
    figures.push({ name: `${name}: CPU rest of the machine (not the services, engines or load generator)`, value: (Math.max(0, machine - services - generator - engines) / events) * 1e6, unit: 'CPU-s per 1M events' });
    figures.push({ name: `${name}: CPU engines and the rest of the machine`, value: (Math.max(0, machine - services - generator) / events) * 1e6, unit: 'CPU-s per 1M events' });
    figures.push({ name: `${name}: machine CPU busy`, value: (100 * machine) / (cpus().length * r.seconds), unit: `% of ${cpus().length} cores` });
    if (!r.phase.clickhouseDown) figures.push({ name: `${name}: sustainable (offered, backlog not growing, freshness p99 < 5 s, all notified)`, value: ok ? 1 : 0, unit: ok ? 'yes' : 'no' });
  }
  const best = Math.max(0, ...judged.filter((j) => j.ok).map((j) => j.r.phase.rate));
  figures.push({ name: 'highest sustainable rate tried', value: best, unit: 'events/s', goal: '>= 10,000' });
  return figures;
};
