import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { readEnv } from '@kaudit/config';
import { DeadLetterWriter, type IncomingRecord, type KafkaClient, type Producer, type RecordBatch } from '@kaudit/kafka';
import { createTelemetry } from '@kaudit/logging';
import { freePort } from '@kaudit/stack';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { BatchSink } from './batch-sink.js';
import { auditEventsTarget } from './sink-target.js';
import { openSinkTestClients, type SinkTestClients } from './test-support/sink-under-test.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MIGRATIONS = join(REPO, 'migrations', 'clickhouse');
const LOGS = fileURLToPath(new URL('../../../.kaudit/test-logs/', import.meta.url));
const logger = silentLogger('sink-eo-test');
const codec = new AuditRecordCodec();
let ch: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let clients: SinkTestClients;

beforeAll(async () => {
  clients = await openSinkTestClients('sink-eo-test', logger);
  ({ ch, kafka, producer } = clients);
});
afterAll(() => clients.close());
const one = <T>(query: string): Promise<T> => clients.one<T>(query);

/**
 * The sink as ONE real process. Not testkit's ServiceProcess: that runs `tsx cli.mjs`, which runs the service
 * in a grandchild, so its SIGKILL kills only the tsx wrapper and the service keeps running (no crash at all).
 * Loading tsx's loader with --import keeps the service in the process we kill.
 */
class SinkChild {
  #child: ChildProcess | undefined;
  constructor(readonly env: Record<string, string>, readonly port: number, readonly logFile: string) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, join(REPO, 'services', 'sink', 'src', 'main.ts')], {
      cwd: REPO,
      env: { PATH: readEnv().PATH ?? '', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(this.port), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.#child = child;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`sink exited with ${child.exitCode}; see ${this.logFile}`);
      const ok = await fetch(`http://127.0.0.1:${this.port}/readyz`).then((r) => r.ok, () => false);
      if (ok) return;
      await sleep(200);
    }
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

const record = (i: number) =>
  sampleAuditRecord({ cluster: `c${i % 3}`, auditID: `audit-${String(i).padStart(6, '0')}`, requestReceivedUs: 1_763_800_000_000_000 + i * 1000 });

describe('exactly-once when a batch is re-presented with a different cut', () => {
  it('stores each offset once however the re-read range is cut, and a concurrent duplicate insert is deduplicated', async () => {
    const db = uniqueName('eo');
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
    await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` }); // a duplicate must stay visible
    const topic = 'kaudit.audit.enriched.v1';
    const telemetry = createTelemetry(logger, new Registry());
    const sink = new BatchSink({
      clickhouse: ch,
      database: db,
      targets: new Map([[topic, auditEventsTarget(codec)]]),
      deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: uniqueName('dlq') }),
      telemetry,
    });
    const recs: IncomingRecord[] = Array.from({ length: 40 }, (_, i) => ({
      topic, partition: 2, offset: String(1000 + i), key: null, value: codec.encode(record(i)), headers: { [SCHEMA_FINGERPRINT_HEADER]: Buffer.from(codec.fingerprint) }, timestamp: '0',
    }));
    const batch = (from: number, to: number): RecordBatch => {
      const records = recs.slice(from, to + 1);
      return { topic, partition: 2, records, firstOffset: records[0]?.offset ?? '', lastOffset: records[records.length - 1]?.offset ?? '', highWatermark: '2000' };
    };
    const ctx = { heartbeat: async () => undefined, isRunning: () => true, generation: 1 };
    await sink.handle(batch(0, 9), ctx); // inserted; "crash" before the commit
    await sink.handle(batch(0, 4), ctx); // re-read with a smaller fetch: all stored already
    await sink.handle(batch(0, 19), ctx); // re-read with a larger fetch: 0..9 stored, 10..19 new
    await Promise.all([sink.handle(batch(20, 39), ctx), sink.handle(batch(20, 39), ctx)]); // two owners at once
    const stored = await one<{ n: string; u: string; lo: string; hi: string }>(
      `SELECT toString(count()) AS n, toString(uniqExact(cluster, audit_id, stage)) AS u, toString(min(_offset)) AS lo, toString(max(_offset)) AS hi FROM ${db}.audit_events`,
    );
    expect(stored).toEqual({ n: '40', u: '40', lo: '1000', hi: '1039' });
    const rollup = await one<{ n: string }>(`SELECT toString(uniqExactMerge(requests)) AS n FROM ${db}.audit_rollup_1m_v2`);
    expect(rollup.n).toBe('40');
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});

/**
 * A fresh database (merges stopped, so a duplicate stays visible) and topics holding N enriched records, and the
 * environment of a sink process for them. Small fetches: hundreds of inserts, so kills and joins land between
 * inserts and commits.
 */
async function streamOf(prefix: string, N: number): Promise<{ db: string; env: Record<string, string> }> {
  const ep = testEndpoints();
  const db = uniqueName(prefix);
  await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
  await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
  const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
  const admin = kafka.admin();
  await admin.start();
  await admin.ensureTopics([
    { topic: topics.enriched, partitions: 6 },
    { topic: topics.alerts, partitions: 1 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  await admin.stop();
  for (let start = 0; start < N; start += 1000) {
    await producer.send(
      topics.enriched,
      Array.from({ length: 1000 }, (_, j) => {
        const r = record(start + j);
        return { key: r.auditID, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } };
      }),
    );
  }
  mkdirSync(LOGS, { recursive: true });
  const env = {
    KAFKA_BROKERS: ep.kafkaBrokers,
    CLICKHOUSE_URL: ep.clickhouseUrl,
    CLICKHOUSE_DATABASE: db,
    SINK_GROUP_ID: uniqueName('sink'),
    SINK_ENRICHED_TOPIC: topics.enriched,
    SINK_ALERTS_TOPIC: topics.alerts,
    SINK_DLQ_TOPIC: topics.dlq,
    SINK_MAX_BYTES_PER_PARTITION: '16384',
    SINK_SESSION_TIMEOUT_MS: '6000',
    SINK_RETRY_MAX_MS: '1000',
  };
  return { db, env };
}

describe('the sink killed with SIGKILL mid-stream and restarted', () => {
  it('ends with exactly the produced set of (cluster, auditID, stage): no loss, no duplicates', async () => {
    const N = 12_000;
    const { db, env } = await streamOf('killed', N);
    const sinkProcess = new SinkChild(env, await freePort(), join(LOGS, `${db}.log`));
    const count = async () => Number((await one<{ n: string }>(`SELECT toString(count()) AS n FROM ${db}.audit_events`)).n);
    try {
      for (const fraction of [0.15, 0.45, 0.75]) {
        await sinkProcess.start();
        while ((await count()) < N * fraction) await sleep(50);
        await sinkProcess.kill('SIGKILL');
      }
      await sinkProcess.start();
      const deadline = Date.now() + 180_000;
      while ((await count()) < N && Date.now() < deadline) await sleep(500);
      await sleep(3000); // a duplicate would show up after the last expected row
      const stored = await one<{ n: string; u: string }>(`SELECT toString(count()) AS n, toString(uniqExact(cluster, audit_id, stage)) AS u FROM ${db}.audit_events`);
      expect(stored).toEqual({ n: String(N), u: String(N) });
      const ids = await (await ch.query({ query: `SELECT audit_id FROM ${db}.audit_events ORDER BY audit_id`, format: 'JSONEachRow' })).json<{ audit_id: string }>();
      expect(ids.map((r) => r.audit_id)).toEqual(Array.from({ length: N }, (_, i) => `audit-${String(i).padStart(6, '0')}`));
      const rollup = await one<{ n: string }>(`SELECT toString(uniqExactMerge(requests)) AS n FROM ${db}.audit_rollup_1m_v2`);
      expect(rollup.n).toBe(String(N));
    } finally {
      await sinkProcess.kill('SIGTERM');
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});

describe('two sink replicas in one consumer group, one joining mid-stream and one killed mid-stream', () => {
  it('ends with exactly the produced rows, counted without FINAL: no loss, no duplicate', async () => {
    const N = 12_000;
    const { db, env } = await streamOf('pair', N);
    const replicas = [
      new SinkChild(env, await freePort(), join(LOGS, `${db}-a.log`)),
      new SinkChild(env, await freePort(), join(LOGS, `${db}-b.log`)),
    ] as const;
    const [a, b] = replicas;
    const count = async () => Number((await one<{ n: string }>(`SELECT toString(count()) AS n FROM ${db}.audit_events`)).n);
    try {
      await a.start();
      while ((await count()) < N * 0.2) await sleep(50);
      await b.start(); // the group rebalances while A is inserting: partitions move from A to B
      while ((await count()) < N * 0.5) await sleep(50);
      await a.kill('SIGKILL'); // mid-stream: B takes A's partitions over once A's session expires
      const deadline = Date.now() + 180_000;
      while ((await count()) < N && Date.now() < deadline) await sleep(500);
      await sleep(3000); // a duplicate would show up after the last expected row
      const stored = await one<{ n: string; offsets: string; keys: string }>(
        `SELECT toString(count()) AS n, toString(uniqExact(_partition, _offset)) AS offsets, toString(uniqExact(cluster, audit_id, stage)) AS keys FROM ${db}.audit_events`,
      );
      expect(stored).toEqual({ n: String(N), offsets: String(N), keys: String(N) });
      const ids = await (await ch.query({ query: `SELECT audit_id FROM ${db}.audit_events ORDER BY audit_id`, format: 'JSONEachRow' })).json<{ audit_id: string }>();
      expect(ids.map((r) => r.audit_id)).toEqual(Array.from({ length: N }, (_, i) => `audit-${String(i).padStart(6, '0')}`));
    } finally {
      for (const r of replicas) await r.kill('SIGTERM');
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  }, 300_000);
});
