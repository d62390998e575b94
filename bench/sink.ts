/**
 * Sink throughput next to raw @clickhouse/client inserting the same rows (issue 5: goal ≥ 0.8×), in the same
 * run on the same engines, plus stored bytes per event after merges, and how ClickHouse-friendly its inserts
 * are at a steady 100 and 10,000 events/s (issue 16: about 1–2 inserts a second, few new parts a minute).
 *
 * Sink: Avro records on a topic (compressed with the codec enrich writes, KAFKA_COMPRESSION's default, since the
 * fetch limits count stored bytes) → the real BatchSink/SinkService with main.ts's settings (the config defaults:
 * fetch batching and byte limits, partitions at once, gathering), measured from its group join to its last stored row (a
 * backlog can be a handful of inserts now, so first-to-last stored row would be no span), so join time does not count.
 * Baseline: the same rows, already mapped (no Kafka, no Avro), inserted by @clickhouse/client with JSONEachRow
 * in the sink's own rows per insert AND as many inserts at once as the sink had in flight (counted during its
 * run; issue 16 "fair baseline"), into an identical table — an upper bound for any Kafka→ClickHouse sink —
 * measured twice and averaged (the shared machine's load drifts).
 * Steady rates: a paced producer for a fixed time, merges stopped so every part an insert made is counted; the age of
 * each block's oldest row when it was stored (SINK_BATCH_MAX_WAIT_MS bounds it; the broker holds a fetch for half of
 * it, see services/sink/src/fetch-wait.ts), and the peak RSS of this process (sink + producer: an upper bound).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord, OPERATION_CLASSES, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { DEFAULT_KAFKA_COMPRESSION } from '@kaudit/config';
import { createKafkaClient, groupEnrichedRecords, type KafkaClient } from '@kaudit/kafka';
import { Lifecycle } from '@kaudit/runtime';
import { buildSink, loadSinkConfig, toAuditRow, type SinkService } from '@kaudit/sink';
import { freePort, rssMiB } from '@kaudit/stack';
import { ServiceProcess } from '@kaudit/testkit';
import type { BenchContext, BenchFigure, BenchRun } from './bench-types.js';
import { z } from 'zod';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const MIGRATIONS = fileURLToPath(new URL('../migrations/clickhouse/', import.meta.url));

const VERBS = ['get', 'get', 'get', 'list', 'list', 'watch', 'watch', 'update', 'patch', 'create', 'delete'] as const;
const RESOURCES = ['pods', 'deployments', 'configmaps', 'secrets', 'services', 'nodes', 'leases', 'events', 'replicasets', 'endpoints', 'namespaces', 'jobs'];
const AGENTS = ['kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46', 'kube-controller-manager/v1.31.2', 'argocd-application-controller/v2.12', 'helm/v3.15.4', 'kube-scheduler/v1.31.2', 'Go-http-client/2.0'];
const CODES = [200, 200, 200, 200, 200, 200, 200, 201, 404, 409, 403];

/** Varied, realistic-looking records (many users, objects, IDs), so compression is not flattered by repetition. */
function record(i: number, base: number): AuditRecord {
  const h = (k: number) => (i * 2654435761 + k * 40503) >>> 0;
  const verb = VERBS[h(1) % VERBS.length] as string;
  const resource = RESOURCES[h(2) % RESOURCES.length] as string;
  const ns = `team-${h(3) % 40}`;
  const name = `${resource.slice(0, -1)}-${(h(4) % 5000).toString(36)}`;
  const user = h(5) % 300;
  const agent = AGENTS[h(6) % AGENTS.length] as string;
  const at = base + i * 2000 + (h(7) % 1000);
  return sampleAuditRecord({
    cluster: `prod-${['eu-1', 'eu-2', 'us-1', 'ap-1'][h(8) % 4]}`,
    auditID: `${h(9).toString(16).padStart(8, '0')}-${randomBytes(2).toString('hex')}-4${randomBytes(2).toString('hex').slice(1)}-${randomBytes(2).toString('hex')}-${randomBytes(6).toString('hex')}`,
    requestReceivedUs: at,
    stageUs: at + 500 + (h(10) % 30_000),
    ingestedUs: at + 400_000,
    latencyMs: (h(10) % 30_000) / 1000,
    verb,
    requestURI: `/api/v1/namespaces/${ns}/${resource}/${name}`,
    objectRef: { apiGroup: '', apiVersion: 'v1', resource, subresource: null, namespace: ns, name, uid: randomBytes(16).toString('hex') },
    response: { code: CODES[h(11) % CODES.length] as number, status: null, reason: null, message: null },
    user: { username: `user${user}@example.com`, uid: null, groups: ['system:authenticated', `team-${user % 20}`], extra: {} },
    sourceIPs: [`10.${h(12) % 256}.${h(13) % 256}.${h(14) % 256}`],
    userAgent: agent,
    client: { name: agent.split('/')[0] ?? null, version: null },
    actor: { id: `user:user${user}@example.com`, kind: 'human', displayName: `User ${user}`, email: `user${user}@example.com`, team: `team-${user % 20}`, account: null, resolvedBy: 'directory-file' },
    ownerTeam: ns,
    operation: (OPERATION_CLASSES.includes(verb as never) ? verb : 'read') as AuditRecord['operation'],
  });
}

/**
 * The client, counting the inserts it has in flight at once (the sink's insert concurrency, which the fair
 * baseline repeats): insert() calls, and exec() calls that send a body (the sink streams its INSERTs with
 * exec). Reads pass through untouched.
 */
function countingInserts(ch: ClickHouse): { client: ClickHouse; maxInFlight: () => number } {
  let inFlight = 0;
  let max = 0;
  const counted = async <T>(send: () => Promise<T>): Promise<T> => {
    inFlight++;
    max = Math.max(max, inFlight);
    try {
      return await send();
    } finally {
      inFlight--;
    }
  };
  const client = new Proxy(ch, {
    get(target, prop, receiver) {
      if (prop === 'insert') return (params: Parameters<ClickHouse['insert']>[0]) => counted(() => target.insert(params));
      if (prop === 'exec') {
        return (params: Parameters<ClickHouse['exec']>[0]) => ('values' in params ? counted(() => target.exec(params)) : target.exec(params));
      }
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { client, maxInFlight: () => max };
}

/**
 * The sink exactly as main.ts builds it (buildSink with loadSinkConfig's shipped defaults), on `topic`, writing
 * into `db`; only endpoints, names and the port are set here. Started as main.ts starts it: every component.
 */
function benchSink(
  ctx: BenchContext,
  deps: { kafka: KafkaClient; ch: ClickHouse; db: string; topic: string },
  onRows: (outcome: string, rows: number) => void,
): { lifecycle: Lifecycle; service: SinkService; inserts: () => number; oldestRowAges: number[]; maxWaitMs: number } {
  let inserts = 0;
  // How long each block's oldest row had waited when the block was stored (its Kafka timestamp is the producer's
  // clock, this process's): what SINK_BATCH_MAX_WAIT_MS is meant to bound.
  const oldestRowAges: number[] = [];
  const config = loadSinkConfig({
    KAFKA_BROKERS: ctx.kafkaBrokers,
    CLICKHOUSE_URL: ctx.clickhouseUrl,
    CLICKHOUSE_DATABASE: deps.db,
    SINK_GROUP_ID: uniqueName('bench_sink'),
    SINK_ENRICHED_TOPIC: deps.topic,
    SINK_ALERTS_TOPIC: `${deps.topic}_alerts`,
    SINK_DLQ_TOPIC: `${deps.topic}_dlq`,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
  });
  const built = buildSink(config, {
    logger: ctx.logger,
    registry: new Registry(),
    kafka: deps.kafka,
    clickhouse: deps.ch,
    onRows: (_table, outcome, rows) => onRows(outcome, rows),
    onInsert: (_table, _rows, oldestTimestampMs) => {
      inserts++;
      oldestRowAges.push(Date.now() - oldestTimestampMs);
    },
  });
  const lifecycle = new Lifecycle({ logger: ctx.logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...built.components);
  return { lifecycle, service: built.service, inserts: () => inserts, oldestRowAges, maxWaitMs: config.batch.maxWaitMs };
}

/** The q-quantile (0..1) of `values` (nearest rank); NaN when there are none. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * Peak RSS and V8 heap used of this process while `during` runs, sampled every 100 ms. The process is the sink AND
 * the bench around it (its producer, the records it sends): an upper bound of the sink's own.
 */
async function peakMemory<T>(during: () => Promise<T>): Promise<{ result: T; rssMiB: number; heapMiB: number }> {
  let rss = process.memoryUsage.rss();
  let heap = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage.rss());
    heap = Math.max(heap, process.memoryUsage().heapUsed);
  }, 100);
  try {
    const result = await during();
    return { result, rssMiB: rss / 2 ** 20, heapMiB: heap / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

async function count(ch: ClickHouse, table: string): Promise<number> {
  const [row] = await (await ch.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(row?.n ?? 0);
}

/** Active parts of every table in `db`, and of audit_events. */
async function partCounts(ch: ClickHouse, db: string): Promise<{ all: number; auditEvents: number }> {
  const rows = await (
    await ch.query({
      query: `SELECT table, toString(count()) AS n FROM system.parts WHERE database = {db:String} AND active GROUP BY table`,
      query_params: { db },
      format: 'JSONEachRow',
    })
  ).json<{ table: string; n: string }>();
  return { all: rows.reduce((a, r) => a + Number(r.n), 0), auditEvents: Number(rows.find((r) => r.table === 'audit_events')?.n ?? 0) };
}

interface SteadyRun {
  ctx: BenchContext;
  ch: ClickHouse;
  kafka: ReturnType<typeof createKafkaClient>;
  producer: ReturnType<ReturnType<typeof createKafkaClient>['producer']>;
  codec: AuditRecordCodec;
  encoded: readonly Buffer[];
  rate: number;
  seconds: number;
  partitions: number;
}

/**
 * The sink fed at a steady `rate` for `seconds` (issue 16): inserts per second and new parts per minute, merges
 * stopped so each part an insert wrote stays counted, and how long the sink took to store everything after the
 * producer stopped (what batching adds to freshness shows there).
 */
async function steadyRate(d: SteadyRun): Promise<BenchFigure[]> {
  const topic = uniqueName(`bench_sink_steady_${d.rate}`);
  const db = uniqueName('bench_sink_steady');
  const admin = d.kafka.admin();
  await admin.start();
  let lifecycle: Lifecycle | undefined;
  try {
    await runMigrations({ client: d.ch, dir: MIGRATIONS, database: db, logger: d.ctx.logger, vars: { retention_days: 3650 } });
    const tables = await (
      await d.ch.query({ query: `SELECT name FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree'`, query_params: { db }, format: 'JSONEachRow' })
    ).json<{ name: string }>();
    for (const t of tables) await d.ch.command({ query: `SYSTEM STOP MERGES ${db}.${t.name}` });
    await admin.ensureTopics([{ topic, partitions: d.partitions }, { topic: `${topic}_alerts`, partitions: 1 }, { topic: `${topic}_dlq`, partitions: 1 }]);
    let stored = 0;
    const rssBefore = process.memoryUsage.rss();
    let rssPeak = rssBefore;
    const built = benchSink(d.ctx, { kafka: d.kafka, ch: d.ch, db, topic }, (outcome, rows) => {
      if (outcome === 'inserted') stored += rows;
    });
    lifecycle = built.lifecycle;
    await lifecycle.start();
    await built.service.waitForAssignment(60_000);
    const headers = { [SCHEMA_FINGERPRINT_HEADER]: d.codec.fingerprint };
    // Warm-up, not measured: the producer's first send to a new topic, the sink's first fetch and insert.
    for (const deadline = Date.now() + 120_000; ; ) {
      try {
        await d.producer.send(topic, [{ key: 'warm-up', value: d.encoded[0] as Buffer, headers }]);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        // Back off: while an earlier send is overdue the producer refuses at once, and a loop of refusals
        // that never yields to timers would starve the retries it is waiting for.
        await sleep(200);
      }
    }
    for (const deadline = Date.now() + 120_000; stored < 1; await sleep(20)) {
      if (Date.now() > deadline) throw new Error(`steady ${d.rate}/s: the warm-up record was not stored`);
    }
    stored = 0;
    built.oldestRowAges.length = 0;
    const inserts0 = built.inserts();
    const parts0 = await partCounts(d.ch, db);
    const rssTimer = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    }, 100);
    const { sent, sentFor } = await sendAtRate(d, topic, headers);
    const stoppedAt = performance.now();
    for (const deadline = Date.now() + 300_000; stored < sent; await sleep(20)) {
      if (Date.now() > deadline) throw new Error(`steady ${d.rate}/s: sink stored only ${stored}/${sent} rows in time`);
    }
    const drainMs = performance.now() - stoppedAt;
    clearInterval(rssTimer);
    const ages = built.oldestRowAges;
    const window = sentFor + (performance.now() - stoppedAt) / 1000;
    const inserts = built.inserts() - inserts0;
    const parts1 = await partCounts(d.ch, db);
    process.stderr.write(
      `steady ${d.rate}/s: sent ${sent} in ${sentFor.toFixed(1)} s, ${inserts} inserts, parts ${parts0.auditEvents}→${parts1.auditEvents} (all ${parts0.all}→${parts1.all}), drained ${Math.round(drainMs)} ms after, oldest row of a block p50/p99/max ${Math.round(quantile(ages, 0.5))}/${Math.round(quantile(ages, 0.99))}/${Math.round(Math.max(...ages))} ms (max wait ${built.maxWaitMs} ms)\n`,
    );
    const label = `at ${d.rate.toLocaleString('en-US')} events/s (sent ${Math.round(sent / sentFor).toLocaleString('en-US')}/s for ${Math.round(sentFor)} s)`;
    return [
      { name: `sink inserts/s ${label}`, value: inserts / window, unit: 'inserts/s', goal: '<= ~1-2 per sink process' },
      { name: `sink rows per insert ${label}`, value: sent / Math.max(1, inserts), unit: 'rows' },
      { name: `new parts/min of audit_events ${label}`, value: ((parts1.auditEvents - parts0.auditEvents) / window) * 60, unit: 'parts/min' },
      { name: `new parts/min, all tables (audit_events + rollups) ${label}`, value: ((parts1.all - parts0.all) / window) * 60, unit: 'parts/min' },
      // One sample, and it depends on where in the fetch cycle the producer stopped: a row that arrived just after a
      // fetch was answered waits for that block's handling, a broker wait and its own block; one that arrived just
      // before, for its insert only. The age of every block's oldest row below is the distribution.
      { name: `sink: last row stored after the producer stopped (one sample, phase of the fetch cycle) ${label}`, value: drainMs, unit: 'ms', goal: 'freshness p99 < 5 s end to end' },
      ...(['p50', 'p99', 'max'] as const).map((q) => ({
        name: `sink: age of a block's oldest row when stored, ${q} of ${ages.length} inserts ${label}`,
        value: q === 'max' ? Math.max(...ages) : quantile(ages, q === 'p50' ? 0.5 : 0.99),
        unit: 'ms',
        goal: `<= SINK_BATCH_MAX_WAIT_MS (${built.maxWaitMs} ms)`,
      })),
      {
        name: `RSS peak of the bench process (sink + producer; ${Math.round(rssBefore / 2 ** 20)} MiB before the sink started) ${label}`,
        value: rssPeak / 2 ** 20,
        unit: 'MiB',
        goal: '< 300 MiB (sink alone)',
      },
    ];
  } finally {
    await lifecycle?.stop();
    await admin.deleteTopics([topic, `${topic}_alerts`, `${topic}_dlq`]).catch(() => undefined);
    await admin.stop();
    await d.ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  }
}

/**
 * Sends the bench's encoded records to `topic` at `d.rate` for `d.seconds`, in chunks of at most 2,000; returns how
 * many were sent and for how long (s).
 */
async function sendAtRate(d: SteadyRun, topic: string, headers: Record<string, string>): Promise<{ sent: number; sentFor: number }> {
  const began = performance.now();
  let sent = 0;
  for (let elapsed = 0; elapsed < d.seconds * 1000; elapsed = performance.now() - began) {
    const due = Math.min(2000, Math.floor((d.rate * elapsed) / 1000) - sent);
    if (due <= 0) {
      await sleep(5);
      continue;
    }
    try {
      // enriched.v2 as enrich writes it: a chunk's events grouped per key (300 actors, as in record()).
      await d.producer.send(topic, groupEnrichedRecords(Array.from({ length: due }, (_, j) => ({ key: `actor-${(sent + j) % 300}`, value: d.encoded[(sent + j) % d.encoded.length] as Buffer, headers }))));
      sent += due;
    } catch (err) {
      // A broker slow to acknowledge on a loaded machine: send the chunk again (a copy that did land is one more
      // row, and rows are not what this measures).
      d.ctx.logger.warn({ event: 'bench_send_retry', err }, 'bench_send_retry');
      await sleep(200);
    }
  }
  return { sent, sentFor: (performance.now() - began) / 1000 };
}

/**
 * The sink's own RSS (issue 16: < 300 MiB at 10,000 events/s): the steady rates above run the sink inside the bench's
 * process, beside its producer and records, so their RSS is not the sink's. Here main.ts runs as its own process,
 * fed at `rate` for `seconds`, its RSS (process tree) sampled every 250 ms until it has stored everything.
 */
async function ownProcessRss(d: SteadyRun): Promise<BenchFigure[]> {
  const topic = uniqueName('bench_sink_rss');
  const db = uniqueName('bench_sink_rss');
  const admin = d.kafka.admin();
  await admin.start();
  const proc = new ServiceProcess({
    service: 'sink',
    httpPort: await freePort(),
    logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-bench-sink-')), 'logs'),
    env: {
      KAFKA_BROKERS: d.ctx.kafkaBrokers,
      CLICKHOUSE_URL: d.ctx.clickhouseUrl,
      CLICKHOUSE_DATABASE: db,
      SINK_GROUP_ID: uniqueName('bench_sink_rss'),
      SINK_ENRICHED_TOPIC: topic,
      SINK_ALERTS_TOPIC: `${topic}_alerts`,
      SINK_DLQ_TOPIC: `${topic}_dlq`,
    },
  });
  try {
    await runMigrations({ client: d.ch, dir: MIGRATIONS, database: db, logger: d.ctx.logger, vars: { retention_days: 3650 } });
    await admin.ensureTopics([{ topic, partitions: d.partitions }, { topic: `${topic}_alerts`, partitions: 1 }, { topic: `${topic}_dlq`, partitions: 1 }]);
    await proc.start();
    const headers = { [SCHEMA_FINGERPRINT_HEADER]: d.codec.fingerprint };
    // A first record, sent until the new topic takes it and waited for until stored: the sink is consuming.
    for (const deadline = Date.now() + 120_000; ; await sleep(200)) {
      try {
        await d.producer.send(topic, [{ key: 'warm-up', value: d.encoded[0] as Buffer, headers }]);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    for (const deadline = Date.now() + 120_000; (await count(d.ch, `${db}.audit_events`)) < 1; await sleep(200)) {
      if (Date.now() > deadline) throw new Error('sink process: the warm-up record was not stored');
    }
    let peak = 0;
    const sample = setInterval(() => {
      peak = Math.max(peak, (proc.pid === undefined ? undefined : rssMiB(proc.pid)) ?? 0);
    }, 250);
    try {
      const { sent, sentFor } = await sendAtRate(d, topic, headers);
      // Stored = every offset of the topic is in the table. Not count(): the bench repeats its sample events, and
      // audit_events (a ReplacingMergeTree) folds repeats of one event into one row as parts merge.
      const end = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
      const stored = async (): Promise<boolean> => {
        const rs = await d.ch.query({ query: `SELECT _partition AS p, max(_offset) + 1 AS next FROM ${db}.audit_events GROUP BY _partition`, format: 'JSONEachRow' });
        const rows = z.array(z.object({ p: z.coerce.number(), next: z.coerce.number() })).parse(await rs.json());
        const next = new Map(rows.map((r) => [r.p, r.next]));
        return [...end].every(([p, high]) => (next.get(p) ?? 0) >= high);
      };
      for (const deadline = Date.now() + 300_000; !(await stored()); await sleep(500)) {
        if (Date.now() > deadline) throw new Error(`sink process at ${d.rate}/s: not every offset stored within 300 s`);
      }
      const label = `at ${d.rate.toLocaleString('en-US')} events/s (sent ${Math.round(sent / sentFor).toLocaleString('en-US')}/s for ${Math.round(sentFor)} s, until all stored)`;
      return [{ name: `RSS peak of the sink as its own process (main.ts) ${label}`, value: peak, unit: 'MiB', goal: '< 300 MiB' }];
    } finally {
      clearInterval(sample);
    }
  } finally {
    await proc.stop();
    await admin.deleteTopics([topic, `${topic}_alerts`, `${topic}_dlq`]).catch(() => undefined);
    await admin.stop();
    await d.ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  }
}

export const run: BenchRun = async (ctx) => {
  const n = Math.max(5000, Math.round(100_000 * ctx.scale));
  const partitions = 6; // the enriched topic's default
  const topic = uniqueName('bench_sink_enriched');
  const sinkDb = uniqueName('bench_sink');
  const rawDb = uniqueName('bench_sink_raw');
  const ch = createClickHouse({ url: ctx.clickhouseUrl, requestTimeoutMs: 120_000 });
  const kafka = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-sink', logger: ctx.logger });
  const admin = kafka.admin();
  // Compressed as enrich writes them: the sink's fetch limits count stored bytes.
  const producer = kafka.producer({ compression: DEFAULT_KAFKA_COMPRESSION });
  const codec = new AuditRecordCodec();
  await admin.start();
  await producer.start();
  let lifecycle: Lifecycle | undefined;
  try {
    for (const db of [sinkDb, rawDb]) await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger: ctx.logger, vars: { retention_days: 3650 } });
    await admin.ensureTopics([{ topic, partitions }, { topic: `${topic}_alerts`, partitions: 1 }, { topic: `${topic}_dlq`, partitions: 1 }]);
    const base = Date.now() * 1000 - n * 2000;
    const records = Array.from({ length: n }, (_, i) => record(i, base));
    for (let i = 0; i < n; i += 2000) {
      // enriched.v2 as enrich writes it: one record per key (cluster/actor) of a chunk.
      await producer.send(topic, groupEnrichedRecords(records.slice(i, i + 2000).map((r) => ({ key: `${r.cluster}/${r.actor.id}`, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } }))));
    }

    const counting = countingInserts(ch);
    // Baseline: the same rows, pre-mapped, in the sink's rows per insert and with as many inserts at once as the
    // sink had; run twice after the sink and averaged, because load on the shared machine drifts during a run.
    const mapped = records.map((r, i) => toAuditRow(r, { topic, partition: i % partitions, offset: String(i), timestamp: '0' }));
    const baseline = async (perInsert: number, lanes: number): Promise<{ rate: number; cpuUsPerRow: number }> => {
      await ch.command({ query: `TRUNCATE TABLE ${rawDb}.audit_events` });
      let next = 0;
      const lane = async () => {
        for (let i = (next += perInsert) - perInsert; i < n; i = (next += perInsert) - perInsert) {
          await ch.insert({ table: `${rawDb}.audit_events`, format: 'JSONEachRow', values: mapped.slice(i, i + perInsert) });
        }
      };
      const began = performance.now();
      const cpu = process.cpuUsage();
      await Promise.all(Array.from({ length: lanes }, lane));
      const used = process.cpuUsage(cpu);
      return { rate: n / ((performance.now() - began) / 1000), cpuUsPerRow: (used.user + used.system) / n };
    };
    // The sink, in-process, as main.ts wires it.
    // Progress comes from the sink's own row callback, not from polling ClickHouse (which would load the
    // server during the sink's measurement only).
    let stored = 0;
    let last = 0;
    const built = benchSink(ctx, { kafka, ch: counting.client, db: sinkDb, topic }, (outcome, rows) => {
      if (outcome !== 'inserted') return;
      stored += rows;
      last = performance.now();
    });
    lifecycle = built.lifecycle;
    const rssBeforeSink = process.memoryUsage.rss();
    await lifecycle.start();
    await built.service.waitForAssignment(60_000);
    // From the group join on: a backlog this size can be one fetch and one insert, so first-to-last row is no span.
    const joinedAt = performance.now();
    // This process's CPU from the join to the last row: the sink alone (the records were produced before).
    const sinkCpu = process.cpuUsage();
    const deadline = Date.now() + 300_000;
    const backlogMemory = await peakMemory(async () => {
      while (stored < n) {
        if (Date.now() > deadline) throw new Error(`sink stored only ${stored}/${n} rows in time`);
        await sleep(100);
      }
    });
    const sinkRate = stored / ((last - joinedAt) / 1000);
    const sinkCpuUsed = process.cpuUsage(sinkCpu);
    const sinkCpuUsPerRow = (sinkCpuUsed.user + sinkCpuUsed.system) / stored;
    const inserts = built.inserts();
    if ((await count(ch, `${sinkDb}.audit_events`)) !== n) throw new Error('sink row count differs from what it reported');
    await lifecycle.stop();
    lifecycle = undefined;

    const perInsert = Math.max(1, Math.round(n / Math.max(1, inserts)));
    const lanes = Math.max(1, counting.maxInFlight());
    const rawFirst = await baseline(perInsert, lanes);
    const rawSecond = await baseline(perInsert, lanes);
    const rawRate = (rawFirst.rate + rawSecond.rate) / 2;

    await ch.command({ query: `OPTIMIZE TABLE ${sinkDb}.audit_events FINAL` });
    const [bytes] = await (
      await ch.query({
        query: `SELECT sum(data_compressed_bytes) AS c, sum(data_uncompressed_bytes) AS u FROM system.parts WHERE database = {db:String} AND table = 'audit_events' AND active`,
        query_params: { db: sinkDb },
        format: 'JSONEachRow',
      })
    ).json<{ c: string; u: string }>();
    const figures: BenchFigure[] = [
      {
        name: `sink rows/s (${n} rows, ${partitions} partitions, ${perInsert} rows/insert, ${lanes} insert(s) at once)`,
        value: sinkRate,
        unit: 'rows/s',
        baseline: rawRate,
        baselineName: `raw @clickhouse/client JSONEachRow, same rows, ${perInsert} rows/insert, ${lanes} at once, mean of ${Math.round(rawFirst.rate)} and ${Math.round(rawSecond.rate)}`,
        goal: '>= 0.8x',
      },
      // CPU per row is what load on a shared machine distorts least (ClickHouse's own CPU is not in it).
      { name: 'sink CPU per row, sink process (consume, decode, map, serialize, insert)', value: sinkCpuUsPerRow, unit: 'µs/row' },
      {
        name: 'raw baseline CPU per row, client process (serialize pre-mapped rows, insert)',
        value: (rawFirst.cpuUsPerRow + rawSecond.cpuUsPerRow) / 2,
        unit: 'µs/row',
      },
      {
        name: `RSS peak of the bench process draining the backlog (the sink, and the bench's ${n} records: ${Math.round(rssBeforeSink / 2 ** 20)} MiB before the sink started)`,
        value: backlogMemory.rssMiB,
        unit: 'MiB',
        goal: '< 300 MiB (sink alone)',
      },
      { name: 'V8 heap used peak, same window', value: backlogMemory.heapMiB, unit: 'MiB' },
      { name: 'stored bytes per event (compressed, after merge)', value: Number(bytes?.c ?? 0) / n, unit: 'B' },
      { name: 'stored bytes per event (uncompressed)', value: Number(bytes?.u ?? 0) / n, unit: 'B' },
    ];
    const seconds = Math.max(10, Math.round(30 * ctx.scale));
    const encoded = records.slice(0, Math.min(n, 20_000)).map((r) => codec.encode(r));
    for (const rate of [100, 10_000]) {
      figures.push(...(await steadyRate({ ctx, ch, kafka, producer, codec, encoded, rate, seconds, partitions })));
    }
    figures.push(...(await ownProcessRss({ ctx, ch, kafka, producer, codec, encoded, rate: 10_000, seconds, partitions })));
    return figures;
  } finally {
    await lifecycle?.stop();
    await producer.stop();
    await admin.deleteTopics([topic, `${topic}_alerts`, `${topic}_dlq`]).catch(() => undefined);
    await admin.stop();
    for (const db of [sinkDb, rawDb]) await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
  }
};
