import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { createKafkaClient, RAW_HEADERS } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, consumeAll, silentLogger, testEndpoints, uniqueName, consumeEnrichedEvents } from '@kaudit/testkit';
import { fixtureNames, loadFixture } from './fixtures/fixtures.js';

describe('enrich main.ts as a process (real Kafka)', () => {
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
  });

  it('turns raw records into enriched Avro records, dead-letters a bad one, and counts both in /metrics', async () => {
    const { kafkaBrokers } = testEndpoints();
    const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), dlq: uniqueName('dlq') };
    const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'enrich-main', logger: silentLogger() });
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: 2 })));
    await admin.stop();
    const event = loadFixture(fixtureNames()[0] ?? '');
    const headers = { [RAW_HEADERS.cluster]: 'prod-eu-1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' };
    const producer = kafka.producer();
    await producer.start();
    await producer.send(topics.raw, [
      { key: 'prod-eu-1', value: JSON.stringify(event), headers },
      { key: 'prod-eu-1', value: '{"kind":"Event", truncated', headers },
    ]);
    await producer.stop();

    const port = await freePort();
    service = new ServiceProcess({
      service: 'enrich',
      httpPort: port,
      logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-enrich-main-')), 'logs'),
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        ENRICH_GROUP_ID: uniqueName('enrich'),
        ENRICH_INPUT_TOPIC: topics.raw,
        ENRICH_OUTPUT_TOPIC: topics.enriched,
        ENRICH_DLQ_TOPIC: topics.dlq,
        KAUDIT_RETENTION_DAYS: '3650', // the fixtures carry fixed dates (November 2026)
      },
    });
    await service.start(); // /readyz: the consumer runs

    const [enriched] = await consumeEnrichedEvents(kafka, topics.enriched, 1, 60_000);
    const codec = new AuditRecordCodec();
    expect(codec.decode(enriched?.value as Buffer, enriched?.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()).auditID).toBe(String(event.auditID));
    const dead = await consumeAll(kafka, topics.dlq, 1, 60_000);
    expect(dead.map((d) => d.value?.toString())).toEqual(['{"kind":"Event", truncated']);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/kaudit_enrich_records_total\{outcome="enriched"\} 1/);
    expect(metrics).toMatch(/kaudit_enrich_records_total\{outcome="dead_lettered"\} 1/);
    expect(metrics).toContain('process_cpu_seconds_total'); // main.ts's process metrics on the same registry
  });
});
