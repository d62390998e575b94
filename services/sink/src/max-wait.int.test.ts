/**
 * SINK_BATCH_MAX_WAIT_MS bounds how long a block's OLDEST row waits before it is stored (issue 16: batching is
 * "bounded by the freshness goal"). The consumer has one fetch in hand at a time and asks for the next only once
 * the previous block is inserted and committed, so a record that arrives while a block is being handled is in no
 * fetch yet: it waits for that handling, then for the whole broker wait of the next fetch, then for its own
 * insert. With the broker wait set to the whole max wait, such a record was never stored within the max wait.
 * Real sink (buildSink, as main.ts), real engines; the longest max wait allowed, so the margins are seconds.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import type { KafkaClient, Producer } from '@kaudit/kafka';
import { silentLogger, uniqueName } from '@kaudit/testkit';
import { openSinkTestClients, sinkTestConfig, startSinkUnderTest, type SinkTestClients } from './test-support/sink-under-test.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('sink-max-wait-test');
const codec = new AuditRecordCodec();
const MAX_WAIT_MS = 4000;
let ch: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let clients: SinkTestClients;

beforeAll(async () => {
  clients = await openSinkTestClients('sink-max-wait-test', logger);
  ({ ch, kafka, producer } = clients);
});
afterAll(() => clients.close());

describe("the sink's max wait", () => {
  it('stores a record that arrived while the previous block was being handled within SINK_BATCH_MAX_WAIT_MS of its Kafka timestamp', async () => {
    const db = uniqueName('maxwait');
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([{ topic: topics.enriched, partitions: 3 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    await admin.stop();
    const send = (i: number) => {
      const r = sampleAuditRecord({ auditID: `max-wait-${i}`, requestReceivedUs: 1_763_800_000_000_000 + i * 1000 });
      return producer.send(topics.enriched, [{ key: r.auditID, value: codec.encode(r), partition: 0, headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } }]);
    };
    // Every insert: when it was stored (this process's clock, as the producer's timestamps), rows, oldest record.
    const inserts: { storedAt: number; rows: number; oldest: number }[] = [];
    let second: Promise<unknown> | undefined;
    const sink = await startSinkUnderTest(sinkTestConfig({ database: db, topics, env: { SINK_BATCH_MAX_WAIT_MS: String(MAX_WAIT_MS) } }), {
      logger,
      kafka,
      clickhouse: ch,
      onInsert: (_table, rows, oldest) => {
        inserts.push({ storedAt: Date.now(), rows, oldest });
        // The first block is in, its offset not committed yet: the consumer has not asked for the next fetch.
        second ??= send(1);
      },
    });
    try {
      await sink.service.waitForAssignment(60_000);
      await send(0);
      for (let deadline = Date.now() + 60_000; inserts.length < 2 && Date.now() < deadline; ) await sleep(20);
      await second;
      // Two blocks of one record each: the second record was in no fetch while the first block was handled.
      expect(inserts.map((i) => i.rows)).toEqual([1, 1]);
      const late = inserts[1];
      expect(late).toBeDefined();
      const waited = (late?.storedAt ?? 0) - (late?.oldest ?? 0);
      expect(waited, `the second record waited ${waited} ms (max wait ${MAX_WAIT_MS} ms)`).toBeLessThan(MAX_WAIT_MS);
    } finally {
      await sink.lifecycle.stop();
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  }, 180_000);
});
