/**
 * Sink throughput next to raw @clickhouse/client inserting the same rows (issue 5: goal ≥ 0.8×), in the same
 * run on the same engines, plus stored bytes per event after merges.
 *
 * Sink: Avro records on a topic → the real BatchSink/SinkService (decode, offset ledger query, deduplicated
 * insert, commit), measured from its first stored row to its last, so group join time does not count.
 * Baseline: the same rows, already mapped (no Kafka, no Avro), inserted by @clickhouse/client with JSONEachRow
 * in the sink's own rows per insert, into an identical table — an upper bound for any Kafka→ClickHouse sink —
 * measured twice and averaged (the shared machine's load drifts).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord, OPERATION_CLASSES, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { createKafkaClient } from '@kaudit/kafka';
import { Lifecycle } from '@kaudit/runtime';
import { buildSink, loadSinkConfig, toAuditRow } from '@kaudit/sink';
import type { BenchFigure, BenchRun } from './bench-types.js';

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

async function count(ch: ClickHouse, table: string): Promise<number> {
  const [row] = await (await ch.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(row?.n ?? 0);
}

export const run: BenchRun = async (ctx) => {
  const n = Math.max(5000, Math.round(100_000 * ctx.scale));
  const partitions = 3;
  const topic = uniqueName('bench_sink_enriched');
  const sinkDb = uniqueName('bench_sink');
  const rawDb = uniqueName('bench_sink_raw');
  const ch = createClickHouse({ url: ctx.clickhouseUrl, requestTimeoutMs: 120_000 });
  const kafka = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-sink', logger: ctx.logger });
  const admin = kafka.admin();
  const producer = kafka.producer();
  const codec = new AuditRecordCodec();
  await admin.start();
  await producer.start();
  let service: Lifecycle | undefined;
  try {
    for (const db of [sinkDb, rawDb]) await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger: ctx.logger, vars: { retention_days: 3650 } });
    await admin.ensureTopics([{ topic, partitions }, { topic: `${topic}_alerts`, partitions: 1 }, { topic: `${topic}_dlq`, partitions: 1 }]);
    const base = Date.now() * 1000 - n * 2000;
    const records = Array.from({ length: n }, (_, i) => record(i, base));
    for (let i = 0; i < n; i += 2000) {
      await producer.send(topic, records.slice(i, i + 2000).map((r) => ({ key: r.auditID, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } })));
    }

    // Baseline: the same rows, pre-mapped, inserted in the sink's own rows per insert; run twice after the sink
    // and averaged, because load on the shared machine drifts during a run.
    const mapped = records.map((r, i) => toAuditRow(r, { topic, partition: i % partitions, offset: String(i), timestamp: '0' }));
    const baseline = async (perInsert: number): Promise<number> => {
      await ch.command({ query: `TRUNCATE TABLE ${rawDb}.audit_events` });
      const began = performance.now();
      for (let i = 0; i < n; i += perInsert) {
        await ch.insert({ table: `${rawDb}.audit_events`, format: 'JSONEachRow', values: mapped.slice(i, i + perInsert) });
      }
      return n / ((performance.now() - began) / 1000);
    };
    // The sink, in-process, built by buildSink exactly as main.ts builds it, with the shipped defaults of
    // loadSinkConfig (its own Kafka and ClickHouse clients); only endpoints, names and the port are set here.
    // Progress comes from the sink's own row callback, not from polling ClickHouse (which would load the
    // server during the sink's measurement only).
    let inserts = 0;
    let stored = 0;
    let first: { at: number; rows: number } | undefined;
    let last = 0;
    const config = loadSinkConfig({
      KAFKA_BROKERS: ctx.kafkaBrokers,
      CLICKHOUSE_URL: ctx.clickhouseUrl,
      CLICKHOUSE_DATABASE: sinkDb,
      SINK_GROUP_ID: uniqueName('bench_sink'),
      SINK_ENRICHED_TOPIC: topic,
      SINK_ALERTS_TOPIC: `${topic}_alerts`,
      SINK_DLQ_TOPIC: `${topic}_dlq`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
    });
    const built = buildSink(config, {
      logger: ctx.logger,
      registry: new Registry(),
      onRows: (_table, outcome, rows) => {
        if (outcome !== 'inserted') return;
        inserts++;
        stored += rows;
        last = performance.now();
        first ??= { at: last, rows };
      },
    });
    service = new Lifecycle({ logger: ctx.logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...built.components);
    await service.start();
    const deadline = Date.now() + 300_000;
    while (stored < n) {
      if (Date.now() > deadline) throw new Error(`sink stored only ${stored}/${n} rows in time`);
      await sleep(100);
    }
    const start = first as { at: number; rows: number };
    const sinkRate = (stored - start.rows) / ((last - start.at) / 1000);
    if ((await count(ch, `${sinkDb}.audit_events`)) !== n) throw new Error('sink row count differs from what it reported');
    await service.stop();
    service = undefined;

    const perInsert = Math.max(1, Math.round(n / Math.max(1, inserts)));
    const rawFirst = await baseline(perInsert);
    const rawSecond = await baseline(perInsert);
    const rawRate = (rawFirst + rawSecond) / 2;

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
        name: `sink rows/s (${n} rows, ${partitions} partitions, ${perInsert} rows/insert)`,
        value: sinkRate,
        unit: 'rows/s',
        baseline: rawRate,
        baselineName: `raw @clickhouse/client JSONEachRow, same rows, ${perInsert} rows/insert, mean of ${Math.round(rawFirst)} and ${Math.round(rawSecond)}`,
        goal: '>= 0.8x',
      },
      { name: 'stored bytes per event (compressed, after merge)', value: Number(bytes?.c ?? 0) / n, unit: 'B' },
      { name: 'stored bytes per event (uncompressed)', value: Number(bytes?.u ?? 0) / n, unit: 'B' },
    ];
    return figures;
  } finally {
    await service?.stop();
    await producer.stop();
    await admin.deleteTopics([topic, `${topic}_alerts`, `${topic}_dlq`]).catch(() => undefined);
    await admin.stop();
    for (const db of [sinkDb, rawDb]) await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
  }
};
