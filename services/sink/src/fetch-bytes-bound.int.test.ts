/**
 * The sink's memory is bounded by what one fetch brings in (issue 16): it holds the fetch in hand — records, rows,
 * the insert body — until the insert is done, and keeps holding it while ClickHouse is down. So SINK_FETCH_MAX_BYTES
 * must reach the broker. Observable as insert sizes: with merges stopped, each insert is one part, and a part of
 * a one-partition topic can hold no more rows than one fetch carried. The real sink process, real engines.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { type KafkaClient, type Producer } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { ServiceProcess, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { openSinkTestClients, type SinkTestClients } from './test-support/sink-under-test.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('sink-fetch-bound-test');
const codec = new AuditRecordCodec();
let ch: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let clients: SinkTestClients;

beforeAll(async () => {
  clients = await openSinkTestClients('sink-fetch-bound-test', logger);
  ({ ch, kafka, producer } = clients);
});
afterAll(() => clients.close());

describe('the sink\'s memory is bounded by its fetch byte limit', () => {
  it('never inserts more rows at once than SINK_FETCH_MAX_BYTES of records holds, and stores every record', async () => {
    const ep = testEndpoints();
    const db = uniqueName('fetchbound');
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
    await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([{ topic: topics.enriched, partitions: 1 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    await admin.stop();
    // The backlog is there before the sink starts: without the limit, one fetch (and one insert) takes it all.
    const total = 400;
    const values = Array.from({ length: total }, (_, i) => codec.encode(sampleAuditRecord({ auditID: `fetch-bound-${i}`, requestReceivedUs: 1_763_800_000_000_000 + i * 1000 })));
    for (let i = 0; i < total; i += 10) {
      await producer.send(topics.enriched, values.slice(i, i + 10).map((value, j) => ({ key: `k${i + j}`, value, headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } })));
    }
    const limit = 16 * 1024;
    const smallest = Math.min(...values.map((v) => v.length));
    const port = await freePort();
    const sink = new ServiceProcess({
      service: 'sink',
      httpPort: port,
      logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-sink-fetch-bound-')), 'logs'),
      env: {
        KAFKA_BROKERS: ep.kafkaBrokers,
        CLICKHOUSE_URL: ep.clickhouseUrl,
        CLICKHOUSE_DATABASE: db,
        SINK_GROUP_ID: uniqueName('sink'),
        SINK_ENRICHED_TOPIC: topics.enriched,
        SINK_ALERTS_TOPIC: topics.alerts,
        SINK_DLQ_TOPIC: topics.dlq,
        SINK_FETCH_MAX_BYTES: String(limit),
        SINK_MAX_BYTES_PER_PARTITION: String(4 * limit),
        SINK_BATCH_MAX_WAIT_MS: '0',
      },
    });
    const count = async () => Number((await clients.one<{ n: string }>(`SELECT toString(count()) AS n FROM ${db}.audit_events`)).n);
    try {
      await sink.start();
      for (let deadline = Date.now() + 90_000; (await count()) < total && Date.now() < deadline; ) await sleep(100);
      expect(await count()).toBe(total);
      const parts = await clients.one<{ parts: string; biggest: string }>(
        `SELECT toString(count()) AS parts, toString(max(rows)) AS biggest FROM system.parts WHERE database = '${db}' AND table = 'audit_events' AND active`,
      );
      // A fetch of at most `limit` bytes holds at most limit / smallest records (framing only makes it fewer).
      expect(Number(parts.biggest)).toBeLessThanOrEqual(Math.floor(limit / smallest));
      expect(Number(parts.parts)).toBeGreaterThan(1);
    } finally {
      await sink.stop();
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  }, 180_000);
});
