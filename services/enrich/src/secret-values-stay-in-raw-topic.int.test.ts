/**
 * Guarantee (DESIGN.md): no Secret, ConfigMap or token value reaches ClickHouse. Generated
 * credential-bearing events (the property test's arbitrary, fixed seed) go through the real
 * pipeline parts — raw topic (raw.v2 records of many events, as ingest writes them) → the enrich service → enriched topic → the sink's record-to-row
 * mapping → ClickHouse's audit_events — and no marker may be in any column of any stored row.
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { createKafkaClient, encodeRawBatches, RAW_BATCH_LIMITS, RAW_HEADERS, type KafkaAdmin, type KafkaClient, type OutgoingRecord } from '@kaudit/kafka';
import { auditEventsTarget } from '@kaudit/sink';
import { Lifecycle } from '@kaudit/runtime';
import { silentLogger, testEndpoints, uniqueName, consumeEnrichedEvents } from '@kaudit/testkit';
import { loadEnrichConfig } from './config.js';
import { buildEnrich } from './build-enrich.js';
import { findLeaks } from './fixtures/leak-check.js';
import { secretBearingCaseArb } from './fixtures/secret-bearing-events.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const CASES = 300;
const logger = silentLogger('redaction-int');
let kafka: KafkaClient;
let admin: KafkaAdmin;
let ch: ClickHouse;

beforeAll(async () => {
  const ep = testEndpoints();
  kafka = createKafkaClient({ brokers: [ep.kafkaBrokers], clientId: 'redaction-int-test', logger });
  admin = kafka.admin();
  await admin.start();
  ch = createClickHouse({ url: ep.clickhouseUrl });
});
afterAll(async () => {
  await admin.stop();
  await ch.close();
});

/** Every string in a row (map keys included), as stored, plus the row as JSON. */
function rowBytes(row: unknown): Buffer {
  const strings: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') strings.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        strings.push(k);
        walk(x);
      }
    }
  };
  walk(row);
  return Buffer.from(`${JSON.stringify(row)}\n${strings.join('\n')}`, 'utf8');
}

describe('no credential value reaches ClickHouse (real Kafka, enrich service, ClickHouse)', () => {
  // ENRICH_THREADS=2: the records are enriched on worker threads; the guarantee holds there alike.
  it.each([
    ['on the event loop', '0'],
    ['on enrich threads', '2'],
  ])(`${CASES} generated events enriched %s: no marker in any column of the stored rows`, async (_where, threads) => {
    const cases = fc.sample(secretBearingCaseArb, { seed: 20261201, numRuns: CASES }).map((c, i) => ({ ...c, event: { ...c.event, auditID: `redaction-${i}` } }));
    const markers = cases.flatMap((c) => c.markers);
    const topics = { input: uniqueName('raw'), output: uniqueName('enriched'), dlq: uniqueName('dlq') };
    await admin.ensureTopics(Object.values(topics).map((topic) => ({ topic, partitions: 3 })));
    const database = uniqueName('redaction');
    await runMigrations({ client: ch, dir: MIGRATIONS, database, logger, vars: { retention_days: 3650 } });

    const producer = kafka.producer();
    await producer.start();
    // As ingest writes them (raw.v2): many events a record, so redaction is shown per event inside a record.
    const headers = { [RAW_HEADERS.cluster]: 'prod-eu-1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'test' };
    const raw: OutgoingRecord[] = encodeRawBatches(
      cases.map((c) => ({ value: Buffer.from(JSON.stringify(c.event)) })),
      { maxEvents: 25, maxBytes: RAW_BATCH_LIMITS.maxBytes },
    ).map((value) => ({ key: 'prod-eu-1/generated', value, headers }));
    expect(raw.length).toBeGreaterThan(1);
    // A just-created topic can take a moment to reach every broker's metadata (UNKNOWN_TOPIC_OR_PARTITION).
    await vi.waitFor(() => producer.send(topics.input, raw), { timeout: 30_000, interval: 500 });
    await producer.stop();

    const config = loadEnrichConfig({
      KAFKA_BROKERS: testEndpoints().kafkaBrokers,
      ENRICH_GROUP_ID: uniqueName('enrich'),
      ENRICH_INPUT_TOPIC: topics.input,
      ENRICH_OUTPUT_TOPIC: topics.output,
      ENRICH_DLQ_TOPIC: topics.dlq,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      KAUDIT_RETENTION_DAYS: '3650', // the generated events carry fixed dates (November 2026)
      ENRICH_THREADS: threads,
    });
    const service = buildEnrich(config, { logger, registry: new Registry(), kafka });
    const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...service.components);
    await lifecycle.start();
    try {
      const enriched = await consumeEnrichedEvents(kafka, topics.output, CASES, 120_000);
      // Non-vacuous: every event was enriched (none dead-lettered: all audit IDs are stored, below),
      // each with its markers in the raw bytes. (A retried send may have produced a record twice.)
      expect(enriched.length).toBeGreaterThanOrEqual(CASES);
      for (const c of cases) expect(findLeaks(Buffer.from(JSON.stringify(c.event)), c.markers), c.label).not.toEqual([]);

      const kafkaBytes = Buffer.concat(enriched.flatMap((r) => [r.key ?? Buffer.alloc(0), r.value ?? Buffer.alloc(0), ...Object.values(r.headers)]));
      expect(findLeaks(kafkaBytes, markers), 'in the enriched topic').toEqual([]);

      const target = auditEventsTarget();
      await ch.insert({ table: `${database}.${target.table}`, values: enriched.map((r) => target.toRow(r)), format: 'JSONEachRow' });
      const rows = await (await ch.query({ query: `SELECT * FROM ${database}.audit_events`, format: 'JSONEachRow' })).json<Record<string, unknown>>();
      expect(new Set(rows.map((r) => r.audit_id)).size).toBe(CASES);
      const leaks = rows.flatMap((row) => {
        const found = findLeaks(rowBytes(row), markers);
        return found.length > 0 ? [`${String(row.audit_id)} (${cases[Number(String(row.audit_id).split('-')[1])]?.label ?? '?'}): ${found.join(', ')}`] : [];
      });
      expect(leaks, 'in ClickHouse columns').toEqual([]);
    } finally {
      await lifecycle.stop();
      await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
    }
  });
});
