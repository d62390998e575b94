import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafkaClient, RAW_HEADERS } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, consumeRawEvents, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { sampleAuditEvent, sampleEventList } from './fixtures/sample-audit-event.js';

const TOKEN = 'token-main-0123456789abcdef';

describe('ingest main.ts as a process (real Kafka)', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('accepts an authenticated batch, writes it to the raw topic and counts it in /metrics on its own port', async () => {
    const { kafkaBrokers } = testEndpoints();
    const dir = mkdtempSync(join(tmpdir(), 'kaudit-ingest-main-'));
    const clustersFile = join(dir, 'clusters.yaml');
    writeFileSync(clustersFile, `clusters:\n  main-test:\n    tokens:\n      - sha256: ${createHash('sha256').update(TOKEN).digest('hex')}\n`);
    const topics = { raw: uniqueName('raw'), dlq: uniqueName('dlq') };
    const [port, metricsPort] = [await freePort(), await freePort()];
    service = new ServiceProcess({
      service: 'ingest',
      httpPort: port,
      logDir: join(dir, 'logs'),
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        CLUSTERS_FILE: clustersFile,
        INGEST_RAW_TOPIC: topics.raw,
        INGEST_DLQ_TOPIC: topics.dlq,
        INGEST_METRICS_PORT: String(metricsPort),
        KAUDIT_RETENTION_DAYS: '3650', // the fixture events carry fixed dates (November 2026)
      },
    });
    await service.start(); // /readyz on HTTP_PORT: the topics exist and a broker answers

    const events = [sampleAuditEvent(1), sampleAuditEvent(2)];
    const res = await fetch(`http://127.0.0.1:${port}/v1/clusters/main-test/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(sampleEventList(events)),
    });
    expect(res.status).toBe(200);

    const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'ingest-main', logger: silentLogger() });
    // Acknowledged means durable: every record is on the topic already, however ingest lays events out in records.
    const records = await consumeRawEvents(kafka, topics.raw, 60_000);
    const stored = records.map((r) => JSON.parse(r.value?.toString() ?? 'null') as { auditID?: string });
    expect(stored.map((e) => e.auditID).sort()).toEqual(events.map((e) => e.auditID).sort());
    for (const r of records) expect(r.headers[RAW_HEADERS.cluster]?.toString()).toBe('main-test');

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/kaudit_ingest_events_total\{[^}]*cluster="main-test"[^}]*\} 2/);
    expect(metrics).toContain('process_cpu_seconds_total'); // main.ts's process metrics on the same registry
  });
});
