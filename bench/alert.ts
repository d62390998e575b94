/**
 * Alert benchmark (issue 6), ~100 s at scale 1:
 *  1. rule evaluation throughput of one process with the full default pack (Avro decode + every
 *     rule), next to Avro decode alone as the raw baseline;
 *  2. latency from webhook receipt to the notifier's HTTP request, p50/p99, at ~5,000 events/s of
 *     apiserver-like webhook traffic, through ingest → Kafka → enrich → Kafka → alert → Kafka →
 *     delivery, each service its own process as deployed (goal p99 < 1 s). Beside it, a raw kafkajs
 *     consumer notes when each marker reaches the enriched topic: the part of the latency spent
 *     before the alert service sees the event.
 * Markers, one per webhook batch at a random position, are alternately "delete deployment" events
 * by a directory-known person (`sigma-deployment-deleted`, no dedup window) and execs into a new pod
 * each time (`falco-attach-exec-pod`, a dedup rule: each marker opens a window, which must page at
 * once — issue 15 §1), reported apart; background traffic is the generator's
 * realistic mix with a kube-state-metrics 403 storm and an exec session now and then, so the
 * stateful rules hold windows too. One probe alert goes through the whole path before the load
 * starts (a check of the path; /readyz already means warmed up and every consumer assigned —
 * kafkajs' run() returns after the first join). The first 20 s of load
 * (BENCH_WARMUP_MS) are a warm-up — cold JIT in three processes on a shared 2-core machine builds a
 * backlog of 2-3 s that took 6-14 s to drain in our runs — reported on their own (p50, p99, worst)
 * beside the steady p50/p99, and the whole run's p99 too. Printed to stderr: the worst latency per
 * 2 s of load; ingest's, enrich's and alert's CPU per event every 2 s (from their /metrics); where each
 * marker's time went, stage by stage (from the records' Kafka timestamps, read after the load).
 * BENCH_TRACE=1 keeps the services' logs, at level info; BENCH_NO_WARM_UP=1 turns ingest's, enrich's
 * and alert's start-up warm-up off, to compare. BENCH_SERVICE_ENV (JSON, e.g. `{"enrich":{"NODE_OPTIONS":
 * "--trace-gc"}}`) adds settings to a service's environment for this run, as in the pipeline bench: an A/B of
 * one setting without editing defaults (the run says so on stderr and in the results file).
 * The broker is warmed before the services start (bench/broker-warm.ts: BENCH_BROKER_WARM_MS, default 20 s, 0 turns
 * it off): unrelated topic traffic through the same request types, since the bench's broker was started moments ago
 * while a deployment's Kafka is long-running. The results file says how long (a figure). The services' own warm-up
 * is not skipped: their first seconds are the warm-up window, reported beside steady state. Who used the cores is
 * printed per 2 s and put in the results, warm-up vs after it (bench/cpu-timeline.ts): the broker JVM by thread group
 * (JIT, GC, request handlers), each service's main and other threads, the load generator, the rest of the machine.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, RAW_CODECS } from './raw-kafkajs.js';
import { warmBroker } from './broker-warm.js';
import { webhookPoster } from './webhook-poster.js';
import { AuditRecordCodec, sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { loadRuleSources, readRuleSources, RuleEngine } from '@kaudit/alert';
import { auditTraffic, createRng, scenarioEvents, toEventList } from '@kaudit/audit-generator';
import { DEFAULT_KAFKA_COMPRESSION } from '@kaudit/config';
import { createKafkaClient, decodeEnrichedBatch, decodeRawBatch, isEnrichedBatch, isRawBatch } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess } from '@kaudit/testkit';
import { z } from 'zod';
import type { BenchFigure, BenchRun } from './bench-types.js';
import { coresBetween, cpuSnapshot, type CpuSnapshot, type CpuSources } from './cpu-timeline.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const REPO = fileURLToPath(new URL('../', import.meta.url));
const PACK = join(REPO, 'rules');
const CLUSTERS = ['alert-a', 'alert-b', 'alert-c', 'alert-d', 'alert-e'];
/** Marker names are `kmark-` and six digits: found in raw JSON and Avro bytes alike by a byte search. */
const MARK = Buffer.from('kmark-');
const markName = (seq: number): string => `kmark-${String(seq).padStart(6, '0')}`;

function findMark(value: Buffer | null): string | undefined {
  if (!value) return undefined;
  const at = value.indexOf(MARK);
  return at < 0 ? undefined : value.subarray(at, at + MARK.length + 6).toString('latin1');
}

/** What each hop of the per-marker breakdown measures (the stage's end minus the previous one's). */
const HOPS: Record<string, string> = {
  ack: "receipt → ingest's 2xx",
  raw: "receipt → ingest's produce request (raw record's timestamp)",
  enrich: "raw record → enrich's produce request: enrich's fetch, queue and CPU",
  alert: 'enriched record → alert computed: the evaluator’s fetch, decode and rules',
  out: 'alert computed → alert record produced',
  deliver: "alert record → notifier request: the delivery group's fetch and send",
  total: 'receipt → notifier request',
};

/** a − b when both are known. */
const sub = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a - b);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * After the load: reads a topic from the start to its end and notes, per marker, the Kafka record
 * timestamp (CreateTime: when the producing service built its produce request) of its first record,
 * and for JSON alert records their `createdUs` (when the evaluator computed the alert). Done after the
 * run so the machine measured does not also carry a consumer of the raw stream.
 */
async function markerTimes(kafka: InstanceType<typeof Kafka>, topic: string, json: boolean): Promise<{ ts: Map<string, number>; created: Map<string, number> }> {
  const ts = new Map<string, number>();
  const created = new Map<string, number>();
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
  await admin.disconnect();
  const left = new Set([...ends].filter(([, high]) => high > 0n).map(([p]) => p));
  const consumer = kafka.consumer({ groupId: uniqueName('bench_alert_scan'), maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    if (left.size === 0) resolve();
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          // A raw.v2 record holds many events, each of which may be marked: look at every one.
          const decoded = isRawBatch(m.value) ? decodeRawBatch(m.value as Buffer) : undefined;
          if (decoded?.ok === false) throw new Error(`damaged raw record ${m.offset} on ${topic}: ${decoded.reason}`);
          for (const value of decoded?.ok === true ? decoded.events.map((e) => e.value) : [m.value]) {
            const name = findMark(value);
            if (name !== undefined && !ts.has(name)) {
              ts.set(name, Number(m.timestamp));
              if (json && value) created.set(name, Math.trunc((JSON.parse(value.toString('utf8')) as { createdUs: number }).createdUs / 1000));
            }
          }
        }
        const last = batch.messages.at(-1);
        if (last && BigInt(last.offset) + 1n >= (ends.get(batch.partition) ?? 0n)) left.delete(batch.partition);
        if (left.size === 0) resolve();
      },
    });
  });
  await Promise.race([done, sleep(120_000)]);
  await consumer.disconnect();
  return { ts, created };
}

/** Background traffic: 200 identities, mostly reads, some refusals and secret reads. */
function backgroundRecord(i: number, nowUs: number): AuditRecord {
  const base = sampleAuditRecord();
  const actor = i % 200;
  const kind = i % 20;
  const human = actor % 4 === 0;
  return {
    ...base,
    auditID: `bg-${i}-${randomBytes(3).toString('hex')}`,
    requestReceivedUs: nowUs,
    stageUs: nowUs,
    ingestedUs: nowUs,
    verb: kind < 12 ? 'get' : kind < 17 ? 'list' : kind < 19 ? 'watch' : 'get',
    operation: kind < 12 ? 'read' : 'list',
    objectRef: { ...base.objectRef, resource: kind === 19 ? 'secrets' : kind < 12 ? 'pods' : 'configmaps', name: `obj-${i % 500}` },
    response: { ...base.response, code: kind === 18 ? 403 : 200 },
    actor: { ...base.actor, id: `id-${actor}`, kind: human ? 'human' : 'serviceaccount', displayName: `identity ${actor}` },
  };
}

function markerRecord(producedMs: number, seq: number): AuditRecord {
  const base = sampleAuditRecord();
  const nowUs = producedMs * 1000;
  return {
    ...base,
    auditID: `marker-${seq}-${randomBytes(3).toString('hex')}`,
    requestReceivedUs: nowUs,
    stageUs: nowUs,
    ingestedUs: nowUs,
    verb: 'delete',
    operation: 'delete',
    objectRef: { ...base.objectRef, apiGroup: 'apps', resource: 'deployments', name: `m-${seq}-${producedMs}` },
    actor: { ...base.actor, id: `marker-${seq % 50}` },
  };
}

type CpuSample = { t: number } & Record<'ingest' | 'enrich' | 'alert', [number, number]>;

/**
 * Each service's CPU per event in the warm-up window and after it (from the 2 s /metrics samples): the cold
 * code's excess in CPU time, which on a 2-core machine near saturation is what builds the warm-up's backlog.
 */
function cpuFigures(samples: readonly CpuSample[], warmupMs: number): BenchFigure[] {
  const first = samples[0];
  const last = samples.at(-1);
  const split = samples.find((c) => c.t >= warmupMs);
  if (first === undefined || last === undefined || split === undefined) return [];
  const perEvent = (a: [number, number], b: [number, number]) => (b[1] > a[1] ? ((b[0] - a[0]) * 1e6) / (b[1] - a[1]) : Number.NaN);
  return (['ingest', 'enrich', 'alert'] as const).map((service) => ({
    name: `${service} CPU per event in the warm-up (first ${Math.round(split.t / 1000)} s of load)`,
    value: perEvent(first[service], split[service]),
    unit: 'µs',
    baseline: perEvent(split[service], last[service]),
    baselineName: 'after it',
  }));
}

/**
 * Cores each part of the machine kept busy in the warm-up window and after it (cpu-timeline's parts), printed per
 * 2 s to stderr too: on a saturated 2-core machine, the part whose warm-up figure exceeds its steady one is what
 * the services queued behind.
 */
function coreFigures(snaps: readonly CpuSnapshot[], warmupMs: number): BenchFigure[] {
  const first = snaps[0];
  const last = snaps.at(-1);
  const split = snaps.find((c) => c.t >= warmupMs);
  if (first === undefined || last === undefined || split === undefined || split === last) return [];
  const rows = snaps.slice(1).map((b, i) => {
    const parts = coresBetween(snaps[i] as CpuSnapshot, b).filter(([, c]) => c >= 0.05).sort((x, y) => y[1] - x[1]);
    return `    ${Math.round(b.t / 1000)}s: ${parts.map(([part, c]) => `${part.replace(/ \(.*\)$/, '')}=${c.toFixed(2)}`).join(', ')}`;
  });
  process.stderr.write(`  cores busy per 2 s of load, by part (≥ 0.05):\n${rows.join('\n')}\n`);
  const steady = new Map(coresBetween(split, last));
  const warm = coresBetween(first, split);
  const total = (parts: readonly [string, number][]) => parts.reduce((sum, [, c]) => sum + c, 0);
  return [
    { name: `machine cores busy in the warm-up (first ${Math.round(split.t / 1000)} s of load)`, value: total(warm), unit: 'cores', baseline: total([...steady]), baselineName: 'after it' },
    ...warm.map(([part, c]) => ({ name: `cores busy in the warm-up: ${part}`, value: c, unit: 'cores', baseline: steady.get(part) ?? Number.NaN, baselineName: 'after it' })),
  ];
}

/** Events/s of decode + full-pack evaluation in this process, and of decode alone. */
function evaluationThroughput(n: number): { evaluate: number; decode: number; rules: number } {
  const { rules, problems } = loadRuleSources(readRuleSources(PACK));
  if (problems.length > 0) throw new Error(`default pack does not load: ${problems[0]?.message}`);
  const codec = new AuditRecordCodec();
  const t0 = Date.now() * 1000;
  const encoded = Array.from({ length: 5000 }, (_, i) => codec.encode(i % 100 === 0 ? markerRecord(Date.now(), i) : backgroundRecord(i, t0 + i * 200)));
  const engine = new RuleEngine({ rules, nowUs: () => Date.now() * 1000 });
  // Warm up the JIT before timing either loop.
  for (const b of encoded) engine.process(codec.decode(b, codec.fingerprint));
  let began = performance.now();
  for (let i = 0; i < n; i++) codec.decode(encoded[i % encoded.length] as Buffer, codec.fingerprint);
  const decode = n / ((performance.now() - began) / 1000);
  began = performance.now();
  for (let i = 0; i < n; i++) {
    const record = codec.decode(encoded[i % encoded.length] as Buffer, codec.fingerprint);
    engine.process(record);
    if (i % 5000 === 0) engine.flush();
  }
  const evaluate = n / ((performance.now() - began) / 1000);
  return { evaluate, decode, rules: rules.length };
}

export const run: BenchRun = async (ctx) => {
  const evalN = Math.max(20_000, Math.round(200_000 * ctx.scale));
  const throughput = evaluationThroughput(evalN);

  const warmupMs = Number(process.env.BENCH_WARMUP_MS ?? 20_000);
  const measureMs = Math.max(10_000, Math.round(40_000 * ctx.scale));
  const rate = 5000;
  const batchSize = 400;
  const work = mkdtempSync(join(tmpdir(), 'kaudit-bench-alert-'));
  const brokerWarmMs = Number(process.env.BENCH_BROKER_WARM_MS ?? 20_000);
  const topics = { warm: uniqueName('bench_alert_broker_warm'), raw: uniqueName('bench_alert_raw'), enriched: uniqueName('bench_alert_enriched'), alerts: uniqueName('bench_alert_out'), dlq: uniqueName('bench_alert_dlq'), state: uniqueName('bench_alert_state') };
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-alert', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  // The deployed partition counts (DEFAULT_TOPIC_SPECS): created before the services subscribe.
  await admin.ensureTopics([
    { topic: topics.raw, partitions: 6 },
    { topic: topics.enriched, partitions: 6 },
    { topic: topics.alerts, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
    { topic: topics.state, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
    { topic: topics.warm, partitions: 6 },
  ]);
  // The broker's warm-up, before any service starts: the load's rate in records of the generator's sizes.
  const warmTraffic = auditTraffic({ seed: 5, clusters: CLUSTERS, startMs: Date.now(), stepMs: 0 });
  const warmValues = Array.from({ length: 400 }, () => Buffer.from(JSON.stringify((warmTraffic.next().value as { event: unknown }).event)));
  const brokerWarm = await warmBroker({ brokers: ctx.kafkaBrokers, ms: brokerWarmMs, topic: topics.warm, compression: RAW_CODECS[DEFAULT_KAFKA_COMPRESSION], values: warmValues, rate, batch: batchSize, producers: 3 });
  process.stderr.write(`  broker warmed for ${(brokerWarm.ms / 1000).toFixed(1)} s (BENCH_BROKER_WARM_MS): ${brokerWarm.produced} records produced, ${brokerWarm.consumed} consumed\n`);

  // The notifier's destination: records when each marker's alert request arrives.
  const notified = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const name = findMark(Buffer.concat(chunks));
      if (name !== undefined && !notified.has(name)) notified.set(name, at);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const tokens = Object.fromEntries(CLUSTERS.map((c) => [c, randomBytes(18).toString('base64url')]));
  writeFileSync(join(work, 'clusters.yaml'), `clusters:\n${CLUSTERS.map((c) => `  ${c}:\n    tokens:\n      - sha256: ${createHash('sha256').update(tokens[c] ?? '').digest('hex')}\n`).join('')}`);
  writeFileSync(
    join(work, 'notifiers.yaml'),
    `notifiers:\n  - name: bench\n    type: webhook\n    url: ${hookUrl}\n    route: { rules: [sigma-deployment-deleted, falco-attach-exec-pod] }\n    rateLimit: { perSecond: 10000, burst: 1000 }\n`,
  );
  // BENCH_NO_WARM_UP=1: ingest, enrich and alert without their start-up warm-up, to compare against.
  const noWarmUp = (prefix: string): Record<string, string> => (process.env.BENCH_NO_WARM_UP ? { [`${prefix}_WARM_UP_EVENTS`]: '0' } : {});
  const group = uniqueName('bench_alert');
  const ingestPort = await freePort();
  // Ingest serves /metrics on a port of its own, not on the webhook's.
  const ingestMetricsPort = await freePort();
  const specs: [string, number, Record<string, string>][] = [
    ['alert', await freePort(), { ALERT_ENRICHED_TOPIC: topics.enriched, ALERT_ALERTS_TOPIC: topics.alerts, ALERT_STATE_TOPIC: topics.state, ALERT_DLQ_TOPIC: topics.dlq, ALERT_GROUP_PREFIX: group, ALERT_NOTIFIERS_FILE: join(work, 'notifiers.yaml'), ALERT_RULES_DIR: PACK, ...noWarmUp('ALERT') }],
    ['enrich', await freePort(), { ENRICH_INPUT_TOPIC: topics.raw, ENRICH_OUTPUT_TOPIC: topics.enriched, ENRICH_DLQ_TOPIC: topics.dlq, ENRICH_GROUP_ID: `${group}-enrich`, ENRICH_DIRECTORY_FILE: join(REPO, 'deploy', 'demo', 'directory.yaml'), ...noWarmUp('ENRICH') }],
    ['ingest', ingestPort, { INGEST_RAW_TOPIC: topics.raw, INGEST_DLQ_TOPIC: topics.dlq, CLUSTERS_FILE: join(work, 'clusters.yaml'), INGEST_METRICS_PORT: String(ingestMetricsPort), ...noWarmUp('INGEST') }],
  ];
  const overrides = z.partialRecord(z.enum(['alert', 'enrich', 'ingest']), z.record(z.string(), z.string())).parse(JSON.parse(process.env.BENCH_SERVICE_ENV ?? '{}'));
  for (const [service, extra] of Object.entries(overrides)) process.stderr.write(`  BENCH_SERVICE_ENV: ${service} runs with ${JSON.stringify(extra)}\n`);
  const procs: ServiceProcess[] = [];
  for (const [service, httpPort, env] of specs) {
    const extra = overrides[service as keyof typeof overrides] ?? {};
    // BENCH_PROF_DIR=dir: each service writes a V8 CPU profile there when it stops (where its warm-up window's CPU went).
    // (--cpu-prof is not allowed in NODE_OPTIONS; a preload starts the inspector's profiler instead.)
    const preload = process.env.BENCH_PROF_DIR ? `--import ${join(REPO, 'bench', 'cpu-profile-preload.mjs')}` : undefined;
    const nodeOptions = [preload, extra.NODE_OPTIONS].filter((o) => o !== undefined).join(' ');
    const prof: Record<string, string> = process.env.BENCH_PROF_DIR ? { PROF_OUT: join(process.env.BENCH_PROF_DIR, service) } : {};
    const proc = new ServiceProcess({
      service,
      httpPort,
      env: { KAFKA_BROKERS: ctx.kafkaBrokers, LOG_LEVEL: process.env.BENCH_TRACE ? 'info' : 'warn', ...prof, ...env, ...extra, ...(nodeOptions === '' ? {} : { NODE_OPTIONS: nodeOptions }) },
      logDir: join(work, 'logs'),
    });
    procs.push(proc);
    try {
      await proc.start();
    } catch (err) {
      // The ones already up (and this server and admin) would otherwise keep the bench process alive for good.
      for (const p of [...procs].reverse()) await p.stop();
      server.close();
      await admin.stop();
      throw err;
    }
  }

  // Raw baseline: a plain kafkajs consumer noting when each marker reaches the enriched topic (the
  // raw topic too would cost the machine another consumer of the full stream).
  const seenEnriched = new Map<string, number>();
  /** Kafka timestamp of each marker's enriched record: when enrich built the produce request carrying it. */
  const enrichedTs = new Map<string, number>();
  const kafka = new Kafka({ clientId: 'bench-alert-raw', brokers: [ctx.kafkaBrokers], logLevel: logLevel.NOTHING });
  const raw = kafka.consumer({ groupId: uniqueName('bench_alert_raw') });
  await raw.connect();
  await raw.subscribe({ topics: [topics.enriched], fromBeginning: true });
  let rawJoined = false;
  raw.on(raw.events.GROUP_JOIN, () => {
    rawJoined = true;
  });
  await raw.run({
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      const into = seenEnriched;
      for (const m of batch.messages) {
        // enriched.v2 (what enrich writes): a record holds several events, so several markers; v1: one.
        const split = isEnrichedBatch(m.value) ? decodeEnrichedBatch(m.value as Buffer) : undefined;
        if (split?.ok === false) throw new Error(`damaged enriched record ${m.offset} on ${topics.enriched}: ${split.reason}`);
        for (const value of split?.ok === true ? split.events : [m.value]) {
          const name = findMark(value);
          if (name !== undefined && !into.has(name)) {
            into.set(name, at);
            enrichedTs.set(name, Number(m.timestamp));
          }
        }
      }
    },
  });
  while (!rawJoined) await sleep(100);

  const ingestBase = `http://127.0.0.1:${ingestPort}/v1/clusters`;
  // The load's posts (bench/webhook-poster.ts: keep-alive node:http, bodies in bytes); the probe below is one fetch.
  const poster = webhookPoster(ingestPort, 8);
  const rng = createRng(23);
  // One marker through the whole path first: the load starts on a path known to deliver (each
  // service's /readyz already waited for its warm-up and its consumers' first assignment).
  const [probe] = scenarioEvents(rng, 'delete-nginx', Date.now()) as [Record<string, unknown>];
  probe.objectRef = { ...(probe.objectRef as object), name: markName(999_999) };
  const probed = Date.now();
  const probeRes = await fetch(`${ingestBase}/${CLUSTERS[0]}/audit`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[CLUSTERS[0] as string] ?? ''}` }, body: JSON.stringify(toEventList([probe])) });
  if (!probeRes.ok) throw new Error(`ingest refused the probe batch: HTTP ${probeRes.status}`);
  while (!notified.has(markName(999_999))) {
    if (Date.now() - probed > 60_000) throw new Error('the probe alert never reached the notifier');
    await sleep(50);
  }
  notified.clear();

  // Load: apiserver-like 400-event batches from five clusters, paced to `rate`, at most 8 in flight.
  // The background events are serialized once up front (the apiservers are other machines; their
  // JSON work must not take CPU from the services measured); each batch splices a fresh marker
  // into one of these bodies.
  const traffic = auditTraffic({ seed: 17, clusters: CLUSTERS, startMs: Date.now(), stepMs: 0 });
  const templates = Array.from({ length: 50 }, (_, t) => {
    const events: Record<string, unknown>[] = [];
    while (events.length < batchSize - 1) {
      const n = t * batchSize + events.length;
      if (n % 4000 === 1000) events.push(...scenarioEvents(rng, 'ksm-403-storm', Date.now()));
      else if (n % 4000 === 3000) events.push(...scenarioEvents(rng, 'exec-into-pod', Date.now()));
      else events.push((traffic.next().value as { event: Record<string, unknown> }).event);
    }
    events.length = batchSize - 1;
    const at = rng.int(batchSize - 1);
    const json = (items: Record<string, unknown>[]) => items.map((e) => JSON.stringify(e)).join(',');
    const before = json(events.slice(0, at));
    const after = json(events.slice(at));
    return { head: Buffer.from(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${before}${before ? ',' : ''}`), tail: Buffer.from(`${after ? ',' : ''}${after}]}`) };
  });
  // CPU per event of enrich and alert over the load, from their own /metrics every 2 s: what cold
  // code costs, in CPU time (meaningful on a loaded machine, where wall-clock latencies are not).
  const metricsOf = (service: string) => `http://127.0.0.1:${service === 'ingest' ? ingestMetricsPort : (specs.find(([s]) => s === service)?.[1] ?? 0)}/metrics`;
  const cpuSamples: { t: number; ingest: [number, number]; enrich: [number, number]; alert: [number, number] }[] = [];
  /** Process CPU seconds and the sum of a counter's series (ingest counts accepted events per cluster). */
  const sampleOne = async (service: string, counter: RegExp): Promise<[number, number]> => {
    const text = await (await fetch(metricsOf(service))).text();
    const cpu = Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
    const counted = [...text.matchAll(new RegExp(counter.source, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
    return [cpu, counted];
  };
  const sampleCpu = async (t: number) => {
    const [ingest, enrich, alert] = await Promise.all([
      sampleOne('ingest', /^kaudit_ingest_events_total\{[^}]*outcome="accepted"[^}]*\} (\S+)$/),
      sampleOne('enrich', /^kaudit_enrich_records_total\{outcome="enriched"\} (\S+)$/),
      sampleOne('alert', /^kaudit_alert_records_evaluated_total (\S+)$/),
    ]);
    cpuSamples.push({ t, ingest, enrich, alert });
  };
  // Who used the two cores, every 2 s: the broker JVM by thread group, each service's threads, the load
  // generator and everyone else (issue 15: is the warm-up's queueing kaudit's, the cold broker's or the machine's?).
  const cpuSources: CpuSources = {
    kafkaPid: () => ctx.enginePids?.().kafka,
    services: () => new Map(specs.map(([service], i) => [service, procs[i]?.pid])),
  };
  const cpuSnaps: CpuSnapshot[] = [];
  const posted = new Map<string, { at: number; warm: boolean; dedup: boolean; ackAt?: number }>();
  let refused = 0;
  let sent = 0;
  const began = Date.now();
  process.stderr.write(`  load began at ${began} (epoch ms)\n`);
  cpuSnaps.push(cpuSnapshot(0, cpuSources));
  await sampleCpu(0);
  const sampler = setInterval(() => {
    cpuSnaps.push(cpuSnapshot(Date.now() - began, cpuSources));
    void sampleCpu(Date.now() - began).catch(() => undefined);
  }, 2000);
  const inflight = new Set<Promise<void>>();
  for (let batchNo = 0; Date.now() - began < warmupMs + measureMs; batchNo++) {
    const cluster = CLUSTERS[batchNo % CLUSTERS.length] as string;
    // An exec's first report (ResponseStarted) is what the exec rule pages on.
    const dedup = batchNo % 2 === 1;
    const [marker] = scenarioEvents(rng, dedup ? 'exec-into-pod' : 'delete-nginx', Date.now()) as [Record<string, unknown>];
    const name = markName(batchNo);
    marker.objectRef = { ...(marker.objectRef as object), name };
    marker.auditID = `${name}-${randomBytes(4).toString('hex')}`;
    const template = templates[batchNo % templates.length] as { head: Buffer; tail: Buffer };
    const body = Buffer.concat([template.head, Buffer.from(JSON.stringify(marker)), template.tail]);
    const at = Date.now();
    const mark = { at, warm: at - began < warmupMs, dedup, ackAt: undefined as number | undefined };
    posted.set(name, mark);
    const request = poster
      .post(`/v1/clusters/${cluster}/audit`, { authorization: `Bearer ${tokens[cluster] ?? ''}` }, body)
      .then((res) => {
        mark.ackAt = res.headersAt;
        if (res.status < 200 || res.status >= 300) refused++;
      })
      .catch(() => void refused++)
      .finally(() => inflight.delete(request));
    inflight.add(request);
    sent += batchSize;
    while (inflight.size >= 8) await Promise.race(inflight);
    const ahead = (sent / rate) * 1000 - (Date.now() - began);
    if (ahead > 0) await sleep(ahead);
  }
  await Promise.all(inflight);
  poster.close();
  const offered = sent / ((Date.now() - began) / 1000);
  const deadline = Date.now() + 30_000;
  while (notified.size < posted.size && Date.now() < deadline) await sleep(200);

  clearInterval(sampler);
  await raw.disconnect();
  for (const proc of procs.reverse()) await proc.stop();
  // Where each marker's time went, stage by stage, from the records' own Kafka timestamps.
  const rawTimes = await markerTimes(kafka, topics.raw, false);
  const alertTimes = await markerTimes(kafka, topics.alerts, true);
  await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
  await admin.stop();
  server.close();
  if (process.env.BENCH_TRACE) process.stderr.write(`service logs kept in ${work}/logs\n`);
  else rmSync(work, { recursive: true, force: true });

  const since = (into: Map<string, number>, warm: boolean | undefined, dedup?: boolean): number[] =>
    [...posted].flatMap(([name, p]) => ((warm === undefined || p.warm === warm) && (dedup === undefined || p.dedup === dedup) && into.has(name) ? [(into.get(name) as number) - p.at] : [])).sort((a, b) => a - b);
  const latencies = since(notified, false);
  const warmLatencies = since(notified, true);
  const toEnriched = since(seenEnriched, false);
  const measured = [...posted.values()].filter((p) => !p.warm).length;
  {
    // The whole run at a glance, warm-up included: where the latency came from and when it settled.
    const all = [...posted].map(([name, p]) => ({ t: p.at - began, lat: (notified.get(name) ?? Number.NaN) - p.at, enr: (seenEnriched.get(name) ?? Number.NaN) - p.at }));
    const buckets = new Map<number, { lat: number; enr: number }>();
    for (const r of all) {
      const b = Math.floor(r.t / 2000) * 2;
      const cur = buckets.get(b) ?? { lat: 0, enr: 0 };
      buckets.set(b, { lat: Math.max(cur.lat, r.lat), enr: Math.max(cur.enr, r.enr) });
    }
    process.stderr.write(`  worst latency per 2 s of load, notified/enriched ms: ${[...buckets].map(([b, v]) => `${b}s:${v.lat}/${v.enr}`).join(' ')}\n`);
  }
  const hopFigures: BenchFigure[] = [];
  {
    // Per stage, warm-up apart from steady: ack = receipt → ingest's 2xx; raw = receipt → ingest's
    // produce request; enrich = raw record → enrich's produce request (enrich's fetch, queue, CPU);
    // alert = enriched record → evaluator computed the alert (alert's fetch, decode, rules);
    // out = → alert record produced; deliver = → notifier request (delivery group's fetch, send).
    const stages: [string, (name: string, p: { at: number; ackAt?: number }) => number | undefined][] = [
      ['ack', (_n, p) => (p.ackAt === undefined ? undefined : p.ackAt - p.at)],
      ['raw', (n, p) => sub(rawTimes.ts.get(n), p.at)],
      ['enrich', (n) => sub(enrichedTs.get(n), rawTimes.ts.get(n))],
      ['alert', (n) => sub(alertTimes.created.get(n), enrichedTs.get(n))],
      ['out', (n) => sub(alertTimes.ts.get(n), alertTimes.created.get(n))],
      ['deliver', (n) => sub(notified.get(n), alertTimes.ts.get(n))],
      ['total', (n, p) => sub(notified.get(n), p.at)],
    ];
    for (const [label, warm] of [['warm-up', true], ['steady', false]] as const) {
      const marks = [...posted].filter(([, p]) => p.warm === warm);
      const cells = stages.map(([stage, f]) => {
        const v = marks.flatMap(([n, p]) => {
          const x = f(n, p);
          return x === undefined ? [] : [x];
        }).sort((a, b) => a - b);
        // Into the results file too, so a quiet run shows which hop the warm-up's excess is in.
        hopFigures.push({ name: `hop ${stage} (${HOPS[stage] ?? stage}), ${label}: p50 / p99 / max`, value: percentile(v, 99), unit: `ms p99 (p50 ${percentile(v, 50)} ms, max ${v.at(-1) ?? Number.NaN} ms, ${v.length} markers)` });
        return `${stage} ${percentile(v, 50)}/${percentile(v, 99)}/${v.at(-1) ?? Number.NaN}`;
      });
      process.stderr.write(`  stages p50/p99/max ms, ${label}: ${cells.join('  ')}\n`);
    }
    const buckets = new Map<number, number[]>();
    for (const [n, p] of posted) {
      const b = Math.floor((p.at - began) / 2000) * 2;
      const cur = buckets.get(b) ?? stages.map(() => 0);
      stages.forEach(([, f], i) => {
        cur[i] = Math.max(cur[i] as number, f(n, p) ?? 0);
      });
      buckets.set(b, cur);
    }
    const perEvent = (a: [number, number], b: [number, number]) => (b[1] > a[1] ? Math.round(((b[0] - a[0]) * 1e6) / (b[1] - a[1])) : Number.NaN);
    const cpuRows = cpuSamples.slice(1).map((c, i) => {
      const prev = cpuSamples[i] as (typeof cpuSamples)[number];
      return `${Math.round(c.t / 1000)}s:${perEvent(prev.ingest, c.ingest)}/${perEvent(prev.enrich, c.enrich)}/${perEvent(prev.alert, c.alert)}`;
    });
    process.stderr.write(`  CPU µs per event since the previous sample, ingest/enrich/alert: ${cpuRows.join(' ')}\n`);
    process.stderr.write(`  worst per stage per 2 s (${stages.map(([s]) => s).join('/')}):\n${[...buckets].map(([b, v]) => `    ${b}s: ${v.join('/')}`).join('\n')}\n`);
  }
  const figures: BenchFigure[] = [
    { name: `rule evaluation, full default pack (${throughput.rules} rules), 1 process`, value: throughput.evaluate, unit: 'events/s', baseline: throughput.decode, baselineName: 'Avro decode only' },
    { name: 'offered webhook load (400-event batches, 5 clusters)', value: offered, unit: 'events/s', goal: '~5,000' },
    { name: 'broker warmed before the services started (BENCH_BROKER_WARM_MS; unrelated topic, same request types)', value: brokerWarm.ms / 1000, unit: `s (${brokerWarm.produced} records)` },
    { name: 'webhook receipt → notifier HTTP request, p50', value: percentile(latencies, 50), unit: 'ms', baseline: percentile(toEnriched, 50), baselineName: 'raw kafkajs consumer sees it enriched' },
    { name: 'webhook receipt → notifier HTTP request, p99', value: percentile(latencies, 99), unit: 'ms', baseline: percentile(toEnriched, 99), baselineName: 'raw kafkajs consumer sees it enriched', goal: 'p99 < 1000 ms' },
    { name: 'marker alerts notified (after warm-up)', value: latencies.length, unit: `of ${measured}` },
    ...([['dedup rule (exec)', true], ['non-dedup rule (delete deployment)', false]] as const).flatMap(([label, dedup]) => {
      const steady = since(notified, false, dedup);
      const warm = since(notified, true, dedup);
      const whole = since(notified, undefined, dedup);
      return [
        { name: `${label}: p50 / p99 after warm-up`, value: percentile(steady, 99), unit: `ms p99 (p50 ${percentile(steady, 50)} ms, ${steady.length} markers)`, goal: 'p99 < 1000 ms' },
        { name: `${label}: p50 / p99 in the warm-up`, value: percentile(warm, 99), unit: `ms p99 (p50 ${percentile(warm, 50)} ms, ${warm.length} markers)` },
        { name: `${label}: p99 over the whole run, warm-up included`, value: percentile(whole, 99), unit: `ms (${whole.length} markers)`, goal: 'p99 < 1000 ms' },
      ];
    }),
    { name: 'marker alerts never notified (whole run)', value: [...posted.keys()].filter((n) => !notified.has(n)).length, unit: `of ${posted.size}`, goal: '0' },
    { name: `warm-up (first ${warmupMs / 1000} s after start): worst latency`, value: warmLatencies.at(-1) ?? Number.NaN, unit: `ms (${warmLatencies.length} markers)` },
    { name: 'webhook batches refused (non-2xx)', value: refused, unit: 'batches' },
    ...hopFigures,
    ...cpuFigures(cpuSamples, warmupMs),
    ...coreFigures(cpuSnaps, warmupMs),
  ];
  return figures;
};
