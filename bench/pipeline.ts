/**
 * The whole pipeline under sustained load (issue 7): the four services as child processes (as
 * deployed), webhook traffic at ~5,000 events/s from apiserver-like clients.
 *  - freshness: from the webhook's 200 to the row being queryable in ClickHouse, p50/p99, for marker
 *    events spread over the run;
 *  - RSS of each service under that load, and again while ClickHouse is down (the sink must pause, not
 *    buffer without bound; the backlog waits in Kafka).
 * No raw baseline exists for an end-to-end latency; the figures stand alone with their goals.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { auditTraffic, toEventList } from '@kaudit/audit-generator';
import { createClickHouse } from '@kaudit/clickhouse';
import { freePort, rssMiB } from '@kaudit/stack';
import { ServiceProcess } from '@kaudit/testkit';
import { setupPipeline } from 'kaudit';
import type { BenchFigure, BenchRun } from './bench-types.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const CLUSTERS = ['fresh-a', 'fresh-b', 'fresh-c', 'fresh-d'];
const SERVICES = ['sink', 'alert', 'enrich', 'ingest'] as const;

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}

export const run: BenchRun = async (ctx) => {
  const work = mkdtempSync(join(tmpdir(), 'kaudit-bench-pipeline-'));
  const database = `bench_${randomBytes(4).toString('hex')}`;
  await setupPipeline({ kafkaBrokers: ctx.kafkaBrokers, clickhouse: { url: ctx.clickhouseUrl }, database, retentionDays: 30, migrationsDir: join(REPO, 'migrations', 'clickhouse') }, ctx.logger);
  const tokens = Object.fromEntries(CLUSTERS.map((c) => [c, randomBytes(18).toString('base64url')]));
  writeFileSync(join(work, 'clusters.yaml'), `clusters:\n${CLUSTERS.map((c) => `  ${c}:\n    tokens:\n      - sha256: ${createHash('sha256').update(tokens[c] ?? '').digest('hex')}\n`).join('')}`);
  const common = { KAFKA_BROKERS: ctx.kafkaBrokers, CLICKHOUSE_URL: ctx.clickhouseUrl, CLICKHOUSE_DATABASE: database, LOG_LEVEL: 'warn' };
  const ingestPort = await freePort();
  const procs = new Map<string, ServiceProcess>();
  for (const service of SERVICES) {
    const env = service === 'ingest' ? { ...common, CLUSTERS_FILE: join(work, 'clusters.yaml') } : service === 'enrich' ? { ...common, ENRICH_DIRECTORY_FILE: join(REPO, 'deploy', 'demo', 'directory.yaml') } : common;
    const proc = new ServiceProcess({ service, env, httpPort: service === 'ingest' ? ingestPort : await freePort(), logDir: join(work, 'logs') });
    await proc.start();
    procs.set(service, proc);
  }
  const ch = createClickHouse({ url: ctx.clickhouseUrl });
  const rate = 5000;
  const seconds = Math.max(10, Math.round(40 * ctx.scale));
  const traffic = auditTraffic({ seed: 11, clusters: CLUSTERS, startMs: Date.now() - 60_000, stepMs: 1 });
  const markers = new Map<string, number>(); // auditID → ack time
  const freshness: number[] = [];
  const rss = new Map<string, number[]>();
  const rssDown = new Map<string, number[]>();
  let sent = 0;
  let phase: 'up' | 'down' = 'up';
  let stop = false;

  const post = async (cluster: string, events: Record<string, unknown>[]) => {
    for (let attempt = 0; attempt < 30; attempt++) {
      try {
        const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/clusters/${cluster}/audit`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[cluster] ?? ''}` }, body: JSON.stringify(toEventList(events)) });
        await res.arrayBuffer();
        if (res.ok) return Date.now();
      } catch {
        /* retry */
      }
      await sleep(200);
    }
    throw new Error('ingest did not accept a batch after 30 tries');
  };

  // Load: 400-event batches, paced to `rate`; every 10th batch's first event is a freshness marker.
  const load = (async () => {
    const began = Date.now();
    for (let batchNo = 0; !stop; batchNo++) {
      const batch: { cluster: string; event: Record<string, unknown> }[] = [];
      for (let i = 0; i < 400; i++) batch.push(traffic.next().value as { cluster: string; event: Record<string, unknown> });
      const cluster = CLUSTERS[batchNo % CLUSTERS.length] as string;
      const events = batch.map((b) => b.event);
      const ack = post(cluster, events).then((at) => {
        if (phase === 'up' && batchNo % 10 === 0) markers.set(String(events[0]?.auditID), at);
      });
      sent += events.length;
      const ahead = (sent / rate) * 1000 - (Date.now() - began);
      if (ahead > 0) await sleep(ahead);
      if (batchNo % 8 === 7) await ack; // bounded concurrency: at most 8 requests in flight
    }
  })();

  // Poll ClickHouse for markers; sample RSS once a second.
  const pollUntil = async (untilMs: number) => {
    while (Date.now() < untilMs) {
      const pending = [...markers.keys()];
      if (pending.length > 0) {
        const rs = await ch.query({ query: `SELECT audit_id FROM ${database}.audit_events WHERE audit_id IN {ids:Array(String)}`, query_params: { ids: pending }, format: 'JSONEachRow' }).catch(() => undefined);
        const found = rs ? await rs.json<{ audit_id: string }>() : [];
        const now = Date.now();
        for (const { audit_id } of found) {
          const ackAt = markers.get(audit_id);
          if (ackAt !== undefined) {
            freshness.push(now - ackAt);
            markers.delete(audit_id);
          }
        }
      }
      for (const [name, proc] of procs) {
        const mib = proc.pid === undefined ? undefined : rssMiB(proc.pid);
        if (mib !== undefined) (phase === 'up' ? rss : rssDown).set(name, [...((phase === 'up' ? rss : rssDown).get(name) ?? []), mib]);
      }
      await sleep(100);
    }
  };
  await pollUntil(Date.now() + seconds * 1000);
  const sustained = sent;
  let downFigures: BenchFigure[] = [];
  if (ctx.stopEngine && ctx.startEngines) {
    phase = 'down';
    await ctx.stopEngine('clickhouse');
    await pollUntil(Date.now() + Math.max(10, Math.round(20 * ctx.scale)) * 1000);
    await ctx.startEngines();
    phase = 'up';
    downFigures = SERVICES.map((s) => ({ name: `RSS ${s}, ClickHouse down (max)`, value: Math.max(...(rssDown.get(s) ?? [0])), unit: 'MiB' }));
  }
  stop = true;
  await load;
  await pollUntil(Date.now() + 5000);
  for (const proc of procs.values()) await proc.stop();
  await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await ch.close();
  rmSync(work, { recursive: true, force: true });

  const sorted = [...freshness].sort((a, b) => a - b);
  const elapsed = seconds;
  return [
    { name: 'offered load (webhook)', value: sustained / elapsed, unit: 'events/s', goal: '~5,000' },
    { name: 'freshness webhook ack → queryable, p50', value: percentile(sorted, 50), unit: 'ms' },
    { name: 'freshness webhook ack → queryable, p99', value: percentile(sorted, 99), unit: 'ms' },
    { name: 'freshness markers measured', value: sorted.length, unit: 'markers' },
    ...SERVICES.map((s) => ({ name: `RSS ${s}, sustained load (max)`, value: Math.max(...(rss.get(s) ?? [0])), unit: 'MiB' })),
    ...downFigures,
  ];
};
