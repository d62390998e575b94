import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { createKafkaClient, RAW_HEADERS } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { fixtureNames, loadFixture } from './fixtures/fixtures.js';

/**
 * Issue 15 §1: the first events after a start were enriched cold (3-4x the CPU per event), a backlog
 * and late alerts on a busy host. Enrich now runs sample events through its enricher before it reports
 * ready; that warm-up must produce nothing and call no other system (the HTTP directory here).
 */
describe('enrich warms up before /readyz, producing nothing and calling no directory (real Kafka)', () => {
  let service: ServiceProcess | undefined;
  const lookups: string[] = [];
  const directory = createServer((req, res) => {
    lookups.push(req.url ?? '');
    res.writeHead(404).end();
  });
  afterAll(async () => {
    await service?.stop();
    directory.close();
  });

  it('is warmed up when ready, has written nothing and asked the directory nothing, then enriches as before', async () => {
    await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    const { kafkaBrokers } = testEndpoints();
    const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), dlq: uniqueName('dlq') };
    const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'enrich-warm-up', logger: silentLogger() });
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: 2 })));
    const port = await freePort();
    service = new ServiceProcess({
      service: 'enrich',
      httpPort: port,
      logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-enrich-warm-up-')), 'logs'),
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        ENRICH_GROUP_ID: uniqueName('enrich'),
        ENRICH_INPUT_TOPIC: topics.raw,
        ENRICH_OUTPUT_TOPIC: topics.enriched,
        ENRICH_DLQ_TOPIC: topics.dlq,
        ENRICH_HTTP_DIRECTORY_URL: `http://127.0.0.1:${(directory.address() as AddressInfo).port}/identities/{id}`,
        KAUDIT_RETENTION_DAYS: '3650', // the fixtures carry fixed dates (November 2026)
        // Enough to take seconds: a /readyz that turned 200 before the warm-up ended would be seen.
        ENRICH_WARM_UP_EVENTS: '40000',
        ENRICH_WARM_UP_MAX_MS: '60000',
      },
    });
    await service.start(); // resolves at the first /readyz 200

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('kaudit_events_total{component="warm-up",event="warm_up_done"} 1');
    const done = readFileSync(service.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"warm_up_done"'))
      .map((l) => JSON.parse(l) as { events: number; outputs: number });
    expect(done).toHaveLength(1);
    expect(done[0]?.events).toBeGreaterThanOrEqual(40_000);
    expect(done[0]?.outputs).toBeGreaterThan(0); // it went all the way to Avro records
    expect(lookups).toEqual([]);
    const written = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    expect(await written(topics.enriched)).toBe(0);
    expect(await written(topics.dlq)).toBe(0);

    const event = loadFixture(fixtureNames()[0] ?? '');
    const headers = { [RAW_HEADERS.cluster]: 'prod-eu-1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' };
    const producer = kafka.producer();
    await producer.start();
    await producer.send(topics.raw, [{ key: 'prod-eu-1', value: JSON.stringify(event), headers }]);
    await producer.stop();
    const [enriched] = await consumeAll(kafka, topics.enriched, 1, 60_000);
    const codec = new AuditRecordCodec();
    expect(codec.decode(enriched?.value as Buffer, enriched?.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()).auditID).toBe(String(event.auditID));
    expect(await written(topics.enriched)).toBe(1);
    await admin.stop();
  });
});
