/**
 * Issue 13 (compression): with KAFKA_COMPRESSION set, ingest writes its raw topic and enrich its enriched
 * topic compressed — each service started from its environment, as deployed, on the real broker — and
 * the pipeline still carries every event: the events accepted by the webhook come out of enrich, once
 * each, decodable. The broker's segment files show that both topics were stored compressed, so the
 * setting is not silently ignored on the way from the environment to the producer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditTraffic, toEventList } from '@kaudit/audit-generator';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { createKafkaClient } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeEnrichedEvents, ServiceProcess, silentLogger, testEndpoints, testKafkaDataDir, topicLogBytes, uniqueName } from '@kaudit/testkit';

const work = mkdtempSync(join(tmpdir(), 'kaudit-compressed-pipeline-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the pipeline with compressed topics', () => {
  it.each([
    { ingest: 'zstd', enrich: 'lz4' },
    { ingest: 'lz4', enrich: 'zstd' },
  ])('ingest ($ingest) → raw → enrich ($enrich) → enriched carries every accepted event, and both topics are stored compressed', async (codecs) => {
    const brokers = testEndpoints().kafkaBrokers;
    const kafka = createKafkaClient({ brokers: [brokers], clientId: uniqueName('compressed-pipeline'), logger: silentLogger() });
    const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: 3 })));
    const token = randomBytes(18).toString('base64url');
    const clusters = join(work, `clusters-${codecs.ingest}.yaml`);
    writeFileSync(clusters, `clusters:\n  compressed-1:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`);
    const ingestPort = await freePort();
    const ingest = new ServiceProcess({
      service: 'ingest',
      httpPort: ingestPort,
      logDir: join(work, 'logs'),
      env: { KAFKA_BROKERS: brokers, KAFKA_COMPRESSION: codecs.ingest, INGEST_RAW_TOPIC: topics.raw, INGEST_DLQ_TOPIC: topics.dlq, CLUSTERS_FILE: clusters },
    });
    const enrich = new ServiceProcess({
      service: 'enrich',
      httpPort: await freePort(),
      logDir: join(work, 'logs'),
      env: {
        KAFKA_BROKERS: brokers,
        KAFKA_COMPRESSION: codecs.enrich,
        ENRICH_GROUP_ID: uniqueName('enrich'),
        ENRICH_INPUT_TOPIC: topics.raw,
        ENRICH_OUTPUT_TOPIC: topics.enriched,
        ENRICH_DLQ_TOPIC: topics.dlq,
      },
    });
    try {
      await ingest.start(120_000);
      await enrich.start(120_000);
      const traffic = auditTraffic({ seed: 13, clusters: ['compressed-1'], startMs: Date.now() - 120_000, stepMs: 50 });
      const events = Array.from({ length: 600 }, () => traffic.next().value?.event ?? {});
      const rawJsonBytes = events.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0);
      for (let i = 0; i < events.length; i += 200) {
        const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/clusters/compressed-1/audit`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(toEventList(events.slice(i, i + 200))),
        });
        expect(res.status).toBe(200);
      }
      const enriched = await consumeEnrichedEvents(kafka, topics.enriched, events.length, 90_000);
      const codec = new AuditRecordCodec();
      const ids = enriched.map((r) => codec.decode(r.value ?? Buffer.alloc(0), r.headers[SCHEMA_FINGERPRINT_HEADER]?.toString() ?? '').auditID);
      expect(ids.sort()).toEqual(events.map((e) => String(e.auditID)).sort());
      expect((await admin.fetchTopicOffsets(topics.dlq)).reduce((n, p) => n + Number(p.high), 0)).toBe(0);

      const dataDir = testKafkaDataDir();
      // Uncompressed, a topic takes more than its values (record framing, keys, headers) — see compression.int.test.ts.
      expect(topicLogBytes(dataDir, topics.raw)).toBeLessThan(rawJsonBytes / 2);
      const enrichedValueBytes = enriched.reduce((sum, r) => sum + (r.value?.length ?? 0), 0);
      expect(topicLogBytes(dataDir, topics.enriched)).toBeLessThan(enrichedValueBytes * 0.8);
    } finally {
      await enrich.stop();
      await ingest.stop();
      await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
      await admin.stop();
    }
  }, 300_000);
});
