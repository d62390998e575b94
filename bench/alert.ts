/**
 * Alert benchmark (issue 6), ~30 s at scale 1:
 *  1. rule evaluation throughput of one process with the full default pack (Avro decode + every
 *     rule), next to Avro decode alone as the raw baseline;
 *  2. latency from producing to the enriched topic to the notifier's HTTP request, p50/p99, at
 *     ~5,000 events/s (goal p99 < 1 s), next to a raw kafkajs consumer of the same topic seeing
 *     the same marker events (the transport's own latency).
 * Markers are "delete deployment" events (an immediate rule, no dedup window) whose name carries
 * the produce time; background traffic is reads, lists, 403 storms and secret reads.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from './raw-kafkajs.js';
import { Registry } from 'prom-client';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { AlertMetrics, buildAlertComponents, loadAlertConfig, loadRuleSources, parseNotifiers, readRuleSources, RuleEngine } from '@kaudit/alert';
import { createKafkaClient } from '@kaudit/kafka';
import { createTelemetry } from '@kaudit/logging';
import type { BenchFigure, BenchRun } from './bench-types.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const PACK = fileURLToPath(new URL('../rules/', import.meta.url));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
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

  const durationMs = Math.max(5000, Math.round(15_000 * ctx.scale));
  const rate = 5000;
  const topics = { enriched: uniqueName('bench_alert_in'), alerts: uniqueName('bench_alert_out'), dlq: uniqueName('bench_alert_dlq'), state: uniqueName('bench_alert_state') };
  const client = createKafkaClient({ brokers: [ctx.kafkaBrokers], clientId: 'bench-alert', logger: ctx.logger });
  const admin = client.admin();
  await admin.start();
  await admin.ensureTopics([
    { topic: topics.enriched, partitions: 6 },
    { topic: topics.alerts, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);

  // The notifier's destination: records when each marker's alert request arrives.
  const notified = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alert: { ruleId: string; objectRef: { name: string | null } } };
      const name = body.alert.objectRef.name ?? '';
      if (body.alert.ruleId === 'sigma-deployment-deleted' && name.startsWith('m-') && !notified.has(name)) notified.set(name, at);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

  const group = uniqueName('bench_alert');
  const config = loadAlertConfig({
    KAFKA_BROKERS: ctx.kafkaBrokers,
    ALERT_GROUP_PREFIX: group,
    ALERT_ENRICHED_TOPIC: topics.enriched,
    ALERT_ALERTS_TOPIC: topics.alerts,
    ALERT_DLQ_TOPIC: topics.dlq,
    ALERT_STATE_TOPIC: topics.state,
    ALERT_FROM_BEGINNING: 'true',
  });
  const notifiers = parseNotifiers({ notifiers: [{ name: 'bench', type: 'webhook', url, route: { rules: ['sigma-deployment-deleted'] }, rateLimit: { perSecond: 10_000, burst: 1000 } }] }, {}, 'bench');
  const { rules } = loadRuleSources(readRuleSources(PACK));
  const producer = client.producer();
  await producer.start();
  const registry = new Registry();
  const built = buildAlertComponents({
    config,
    rules,
    notifiers,
    kafka: client,
    producer,
    logger: ctx.logger,
    telemetry: createTelemetry(ctx.logger, registry),
    metrics: new AlertMetrics(registry),
    fetch: globalThis.fetch,
    nowMs: Date.now,
    sleep: (ms) => sleep(ms),
  });
  for (const c of built.components) await c.start();
  await built.evaluator.waitForAssignment();
  await Promise.all(built.workers.map((w) => w.waitForAssignment()));

  // Raw baseline: a plain kafkajs consumer of the same topic noting when it sees each marker.
  const seenRaw = new Map<string, number>();
  const codec = new AuditRecordCodec();
  const kafka = new Kafka({ clientId: 'bench-alert-raw', brokers: [ctx.kafkaBrokers], logLevel: logLevel.NOTHING });
  const raw = kafka.consumer({ groupId: uniqueName('bench_alert_raw') });
  await raw.connect();
  await raw.subscribe({ topic: topics.enriched, fromBeginning: true });
  let rawJoined = false;
  raw.on(raw.events.GROUP_JOIN, () => {
    rawJoined = true;
  });
  await raw.run({
    eachBatch: async ({ batch }) => {
      const at = Date.now();
      for (const m of batch.messages) {
        if (!m.value || m.key?.toString().includes('/marker-') !== true) continue;
        const name = codec.decode(m.value, codec.fingerprint).objectRef.name ?? '';
        seenRaw.set(name, at);
      }
    },
  });
  while (!rawJoined) await sleep(100);

  // The load has its own producer: sharing the service's (one request in flight per broker) would
  // make the service's alert and checkpoint writes queue behind the load.
  const load = client.producer();
  await load.start();
  // Produce ~5,000 events/s in 20 ms slices, one marker per slice.
  const produced = new Map<string, number>();
  const sliceMs = 20;
  const perSlice = Math.round((rate * sliceMs) / 1000);
  const began = Date.now();
  let seq = 0;
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  while (Date.now() - began < durationMs) {
    const sliceStart = Date.now();
    const marker = markerRecord(sliceStart, seq);
    produced.set(marker.objectRef.name ?? '', sliceStart);
    const batch = [marker, ...Array.from({ length: perSlice - 1 }, (_, i) => backgroundRecord(seq * perSlice + i, sliceStart * 1000))];
    seq++;
    sent += batch.length;
    inflight.push(
      load.send(
        topics.enriched,
        batch.map((r) => ({ key: `${r.cluster}/${r.actor.id}`, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } })),
      ),
    );
    if (inflight.length > 20) await inflight.shift();
    const wait = sliceMs - (Date.now() - sliceStart);
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(inflight);
  const achievedRate = sent / ((Date.now() - began) / 1000);
  const deadline = Date.now() + 30_000;
  while ((notified.size < produced.size || seenRaw.size < produced.size) && Date.now() < deadline) await sleep(200);

  for (const c of [...built.components].reverse()) await c.stop();
  await producer.stop();
  await load.stop();
  await raw.disconnect();
  await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
  await admin.stop();
  server.close();

  const latencies = [...produced].flatMap(([name, at]) => (notified.has(name) ? [(notified.get(name) as number) - at] : [])).sort((a, b) => a - b);
  const rawLatencies = [...produced].flatMap(([name, at]) => (seenRaw.has(name) ? [(seenRaw.get(name) as number) - at] : [])).sort((a, b) => a - b);
  const figures: BenchFigure[] = [
    { name: `rule evaluation, full default pack (${throughput.rules} rules), 1 process`, value: throughput.evaluate, unit: 'events/s', baseline: throughput.decode, baselineName: 'Avro decode only' },
    { name: 'offered load to the enriched topic', value: achievedRate, unit: 'events/s', goal: '~5,000' },
    { name: 'produce → notifier HTTP request, p50', value: percentile(latencies, 50), unit: 'ms', baseline: percentile(rawLatencies, 50), baselineName: 'raw kafkajs consumer sees it' },
    { name: 'produce → notifier HTTP request, p99', value: percentile(latencies, 99), unit: 'ms', baseline: percentile(rawLatencies, 99), baselineName: 'raw kafkajs consumer sees it', goal: 'p99 < 1000 ms' },
    { name: 'marker alerts notified', value: latencies.length, unit: `of ${produced.size}` },
  ];
  return figures;
};
