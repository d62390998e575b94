import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaAdmin } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeRawEvents, ServiceProcess, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from '../fixtures/sample-audit-event.js';

const TOKEN = 'token-warm-up-0123456789abcdef';

interface WarmUpDone {
  events: number;
  outputs: number;
  rounds: number;
  threads: number;
  fewestPerThread: number;
  rawRecords: number;
  codecRecords: number;
}

const written = async (admin: KafkaAdmin, topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);

/** Ingest as a process on its own topics and ports; `env` on top. */
async function ingestProcess(env: Record<string, string>) {
  const { kafkaBrokers } = testEndpoints();
  const dir = mkdtempSync(join(tmpdir(), 'kaudit-ingest-warm-up-'));
  const clustersFile = join(dir, 'clusters.yaml');
  writeFileSync(clustersFile, `clusters:\n  warm-test:\n    tokens:\n      - sha256: ${createHash('sha256').update(TOKEN).digest('hex')}\n`);
  const topics = { raw: uniqueName('raw'), dlq: uniqueName('dlq') };
  const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'ingest-warm-up', logger: silentLogger() });
  const admin = kafka.admin();
  await admin.start();
  await admin.ensureTopics([
    { topic: topics.raw, partitions: 3 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  const [port, metricsPort] = [await freePort(), await freePort()];
  const service = new ServiceProcess({
    service: 'ingest',
    httpPort: port,
    logDir: join(dir, 'logs'),
    env: {
      KAFKA_BROKERS: kafkaBrokers,
      CLUSTERS_FILE: clustersFile,
      INGEST_RAW_TOPIC: topics.raw,
      INGEST_DLQ_TOPIC: topics.dlq,
      INGEST_METRICS_PORT: String(metricsPort),
      INGEST_PARSE_THREADS: '2',
      KAUDIT_RETENTION_DAYS: '3650', // the fixture events carry fixed dates (November 2026)
      ...env,
    },
  });
  const done = (): WarmUpDone[] =>
    readFileSync(service.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"warm_up_done"'))
      .map((l) => JSON.parse(l) as WarmUpDone);
  return { service, kafka, admin, topics, port, metrics: `http://127.0.0.1:${metricsPort}`, done };
}

/**
 * Issue 15 §1: ingest's first batches after a start ran through cold code (parse and check on each
 * worker thread, record building), a backlog everything downstream waited behind. Ingest now runs
 * sample bodies through that path before it reports ready; the warm-up must leave no trace outside
 * the process: nothing on the raw topic or the DLQ, nothing in the metrics of real traffic.
 */
describe('ingest warms up before /readyz, publishing, dead-lettering and counting nothing (real Kafka)', () => {
  let running: { service: ServiceProcess; admin: KafkaAdmin } | undefined;
  afterEach(async () => {
    await running?.service.stop();
    await running?.admin.stop();
    running = undefined;
  });

  it('answers /readyz 503 (warm-up) until the warm-up on every worker is done; raw topic, DLQ and event counters untouched', async () => {
    // Enough to take seconds: a /readyz that turned 200 before the warm-up ended would be seen.
    const ingest = await ingestProcess({ INGEST_WARM_UP_EVENTS: '60000', INGEST_WARM_UP_MAX_MS: '120000' });
    running = ingest;
    const started = ingest.service.start(120_000);
    started.catch(() => undefined);
    // The health server starts before the warm-up: poll it from the first moment it answers.
    const notReady: unknown[] = [];
    let firstReadyMetrics: string | undefined;
    for (const deadline = Date.now() + 120_000; firstReadyMetrics === undefined && Date.now() < deadline; await sleep(50)) {
      const res = await fetch(`${ingest.metrics}/readyz`).catch(() => undefined);
      if (res === undefined) continue;
      if (res.status === 200) firstReadyMetrics = await (await fetch(`${ingest.metrics}/metrics`)).text();
      else notReady.push(await res.json());
    }
    await started;
    // It was seen not ready because of the warm-up, and at the first 200 the warm-up had ended.
    expect(notReady).toContainEqual({ status: 'not ready', checks: expect.objectContaining({ 'warm-up': false }) });
    expect(firstReadyMetrics).toMatch(/^kaudit_events_total\{[^}]*component="warm-up"[^}]*event="warm_up_done"[^}]*\} 1$/m);
    const [done] = ingest.done();
    expect(ingest.done()).toHaveLength(1);
    expect(done?.events).toBeGreaterThanOrEqual(60_000);
    expect(done?.outputs).toBeGreaterThan(0); // it went as far as raw records
    // …and those went through kafkajs' produce encoding, named for the raw topic below, which stays empty.
    expect(done?.codecRecords).toBe(done?.rawRecords);
    expect(done?.rawRecords).toBeGreaterThan(0);
    // Both workers warmed, each with its share — not one worker doing it all.
    expect(done?.threads).toBe(2);
    expect(done?.fewestPerThread).toBeGreaterThanOrEqual(30_000);

    expect(await written(ingest.admin, ingest.topics.raw)).toBe(0);
    expect(await written(ingest.admin, ingest.topics.dlq)).toBe(0);
    const metrics = await (await fetch(`${ingest.metrics}/metrics`)).text();
    for (const counter of ['kaudit_ingest_events_total', 'kaudit_ingest_events_refused_total', 'kaudit_ingest_requests_total', 'kaudit_ingest_bytes_total']) {
      expect(metrics.split('\n').filter((l) => l.startsWith(`${counter}{`))).toEqual([]);
    }
    expect(metrics).toMatch(/^kaudit_ingest_parse_seconds_count 0$/m);

    // Real traffic after it is published and counted as before, and only it.
    const events = [sampleAuditEvent(1), sampleAuditEvent(2), sampleAuditEvent(3)];
    const res = await fetch(`http://127.0.0.1:${ingest.port}/v1/clusters/warm-test/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(sampleEventList(events)),
    });
    expect(res.status).toBe(200);
    // One record (raw.v2: one user's events of a body) holding the three events.
    expect(await written(ingest.admin, ingest.topics.raw)).toBe(1);
    expect(await consumeRawEvents(ingest.kafka, ingest.topics.raw)).toHaveLength(3);
    expect(await written(ingest.admin, ingest.topics.dlq)).toBe(0);
    const after = await (await fetch(`${ingest.metrics}/metrics`)).text();
    expect(after.split('\n').filter((l) => l.startsWith('kaudit_ingest_events_total{'))).toEqual(['kaudit_ingest_events_total{cluster="warm-test",source="webhook",outcome="accepted"} 3']);
  }, 240_000);

  it('INGEST_WARM_UP_EVENTS=0 runs no warm-up round at all', async () => {
    const ingest = await ingestProcess({ INGEST_WARM_UP_EVENTS: '0' });
    running = ingest;
    await ingest.service.start(120_000);
    expect(ingest.done()).toEqual([expect.objectContaining({ events: 0, outputs: 0, rounds: 0, threads: 0 })]);
    expect(await written(ingest.admin, ingest.topics.raw)).toBe(0);
    expect(await written(ingest.admin, ingest.topics.dlq)).toBe(0);
  }, 240_000);
});
