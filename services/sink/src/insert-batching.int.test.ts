/**
 * ClickHouse-friendly inserts (issue 16): at a low rate the sink used to insert every fetch of every partition on
 * its own — one part per handful of records. Ten records sent one by one, spread over six partitions within the
 * fetch wait, must be one insert (one part), the real sink process as main.ts composes it, real engines.
 * Parts are counted with merges stopped, so a merge cannot hide a second insert.
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
const logger = silentLogger('sink-batching-test');
const codec = new AuditRecordCodec();
let ch: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let clients: SinkTestClients;

beforeAll(async () => {
  clients = await openSinkTestClients('sink-batching-test', logger);
  ({ ch, kafka, producer } = clients);
});
afterAll(() => clients.close());
const one = <T>(query: string): Promise<T> => clients.one<T>(query);

describe('the sink at a low rate', () => {
  it('inserts ten records sent one by one to six partitions as one block, and counts its inserts', async () => {
    const ep = testEndpoints();
    const db = uniqueName('batching');
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
    await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([{ topic: topics.enriched, partitions: 6 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    await admin.stop();
    const port = await freePort();
    const sink = new ServiceProcess({
      service: 'sink',
      httpPort: port,
      logDir: join(mkdtempSync(join(tmpdir(), 'kaudit-sink-batching-')), 'logs'),
      env: {
        KAFKA_BROKERS: ep.kafkaBrokers,
        CLICKHOUSE_URL: ep.clickhouseUrl,
        CLICKHOUSE_DATABASE: db,
        SINK_GROUP_ID: uniqueName('sink'),
        SINK_ENRICHED_TOPIC: topics.enriched,
        SINK_ALERTS_TOPIC: topics.alerts,
        SINK_DLQ_TOPIC: topics.dlq,
        // The longest wait allowed, so ten sends one after another fit in one fetch even on a loaded machine.
        SINK_BATCH_MAX_WAIT_MS: '4000',
      },
    });
    const send = async (i: number) => {
      const r = sampleAuditRecord({ auditID: `low-rate-${i}`, requestReceivedUs: 1_763_800_000_000_000 + i * 1000 });
      await producer.send(topics.enriched, [{ key: r.auditID, value: codec.encode(r), partition: i % 6, headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } }]);
    };
    const count = async () => Number((await one<{ n: string }>(`SELECT toString(count()) AS n FROM ${db}.audit_events`)).n);
    try {
      await sink.start();
      // A first record, so the sink has joined its group and is waiting on its next fetch when the ten are sent.
      await send(0);
      for (let deadline = Date.now() + 60_000; (await count()) < 1 && Date.now() < deadline; ) await sleep(50);
      for (let i = 1; i <= 10; i++) await send(i);
      for (let deadline = Date.now() + 60_000; (await count()) < 11 && Date.now() < deadline; ) await sleep(100);
      expect(await count()).toBe(11);
      const ten = await one<{ parts: string; partitions: string }>(
        `SELECT toString(uniqExact(_part)) AS parts, toString(uniqExact(_partition)) AS partitions FROM ${db}.audit_events WHERE audit_id != 'low-rate-0'`,
      );
      expect(ten).toEqual({ parts: '1', partitions: '6' });
      const parts = await one<{ n: string }>(`SELECT toString(count()) AS n FROM system.parts WHERE database = '${db}' AND table = 'audit_events' AND active`);
      expect(parts.n).toBe('2');
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('kaudit_sink_inserts_total{table="audit_events"} 2');
    } finally {
      await sink.stop();
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  }, 180_000);
});
