import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { createKafkaClient, RAW_HEADERS } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, silentLogger, testEndpoints, uniqueName, consumeEnrichedEvents } from '@kaudit/testkit';
import { fixtureNames, loadFixture } from './fixtures/fixtures.js';

/**
 * Issue 15 §1: the first events after a start were enriched cold (3-4x the CPU per event), a backlog
 * and late alerts on a busy host. Enrich now runs sample batches through its own batch handler before it
 * reports ready; that warm-up must produce nothing, commit nothing, count none of its events in the
 * service's metrics and call no other system (the HTTP directory here) — and it must go through the
 * handler and the produce encoding, not only the enricher.
 */
describe('enrich warms up through its batch handler before /readyz, leaving no trace (real Kafka)', () => {
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

  it('is warmed up when ready, has written, committed and counted nothing and asked the directory nothing, then enriches as before', async () => {
    await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    const { kafkaBrokers } = testEndpoints();
    const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), dlq: uniqueName('dlq') };
    const kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'enrich-warm-up', logger: silentLogger() });
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: 2 })));
    const port = await freePort();
    const group = uniqueName('enrich');
    service = new ServiceProcess({
      service: 'enrich',
      httpPort: port,
      logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-enrich-warm-up-')), 'logs'),
      env: {
        KAFKA_BROKERS: kafkaBrokers,
        ENRICH_GROUP_ID: group,
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
      .map((l) => JSON.parse(l) as { events: number; outputs: number; batches: number; produceRequests: number });
    expect(done).toHaveLength(1);
    expect(done[0]?.events).toBeGreaterThanOrEqual(40_000);
    // Through the batch handler, as a fetched batch goes: its sends reached the produce encoding as Avro records.
    expect(done[0]?.batches).toBeGreaterThanOrEqual(200);
    expect(done[0]?.produceRequests).toBeGreaterThanOrEqual(done[0]?.batches ?? Number.NaN);
    expect(done[0]?.outputs).toBeGreaterThanOrEqual(40_000 * 0.9);
    expect(lookups).toEqual([]);
    // None of the warm-up's events is counted as a real one.
    expect(metrics).not.toMatch(/^kaudit_enrich_((records|operations|identities)_total|lag_records)\{/m);
    const written = async (topic: string) => (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    expect(await written(topics.enriched)).toBe(0);
    expect(await written(topics.dlq)).toBe(0);
    expect((await admin.fetchCommittedOffsets(group, topics.raw)).map((p) => p.offset)).toEqual(['-1', '-1']);

    const event = loadFixture(fixtureNames()[0] ?? '');
    const headers = { [RAW_HEADERS.cluster]: 'prod-eu-1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' };
    const producer = kafka.producer();
    await producer.start();
    await producer.send(topics.raw, [{ key: 'prod-eu-1', value: JSON.stringify(event), headers }]);
    await producer.stop();
    const [enriched] = await consumeEnrichedEvents(kafka, topics.enriched, 1, 60_000);
    const codec = new AuditRecordCodec();
    expect(codec.decode(enriched?.value as Buffer, enriched?.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()).auditID).toBe(String(event.auditID));
    expect(await written(topics.enriched)).toBe(1);
    // The one real record is the only one counted (the handler counts after its send was acknowledged).
    const enrichedCount = async () => /^kaudit_enrich_records_total\{outcome="enriched"\} (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1];
    for (let i = 0; i < 100 && (await enrichedCount()) === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await enrichedCount()).toBe('1');
    await admin.stop();
  });
});
