/**
 * Two owners of one partition, at the one moment fencing in the consumer cannot help (issue 12 §2): the old
 * owner's insert is already running in ClickHouse when the new owner takes the partition over (the old owner's
 * session expired during a slow insert). The new owner must not look at the table before that insert is over,
 * or it sees the records as not stored and inserts them a second time. Counted without FINAL, merges stopped.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { createKafkaClient, DeadLetterWriter, type IncomingRecord, type Producer, type RecordBatch } from '@kaudit/kafka';
import { createTelemetry } from '@kaudit/logging';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { BatchSink } from './batch-sink.js';
import { auditEventsTarget } from './sink-target.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('sink-previous-owner-test');
const codec = new AuditRecordCodec();
let ch: ClickHouse;
let producer: Producer;

beforeAll(async () => {
  const ep = testEndpoints();
  ch = createClickHouse({ url: ep.clickhouseUrl });
  producer = createKafkaClient({ brokers: [ep.kafkaBrokers], clientId: 'sink-previous-owner-test', logger }).producer();
  await producer.start();
});
afterAll(async () => {
  await producer.stop();
  await ch.close();
});

describe('a new owner taking a partition over while the old owner\'s insert is still running', () => {
  it('waits for that insert and stores each record once', async () => {
    const db = uniqueName('owner');
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 36500 } });
    await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
    // A slow insert, as under load: in this test database every insert into audit_events takes three seconds more
    // before its part is written (a column computed on insert that sleeps).
    await ch.command({ query: `ALTER TABLE ${db}.audit_events ADD COLUMN _slow UInt8 MATERIALIZED sleep(3)` });
    const topic = 'kaudit.audit.enriched.v1';
    const build = () =>
      new BatchSink({
        clickhouse: ch,
        database: db,
        targets: new Map([[topic, auditEventsTarget(codec)]]),
        deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: uniqueName('dlq') }),
        telemetry: createTelemetry(logger, new Registry()),
      });
    const recs: IncomingRecord[] = Array.from({ length: 20 }, (_, i) => ({
      topic, partition: 4, offset: String(700 + i), key: null, timestamp: String(1_763_900_000_000 + i),
      value: codec.encode(sampleAuditRecord({ auditID: `owner-${i}`, requestReceivedUs: 1_763_800_000_000_000 + i * 1000 })),
      headers: { [SCHEMA_FINGERPRINT_HEADER]: Buffer.from(codec.fingerprint) },
    }));
    const batch = (from: number, to: number): RecordBatch => {
      const records = recs.slice(from, to + 1);
      return { topic, partition: 4, records, firstOffset: records[0]?.offset ?? '', lastOffset: records[records.length - 1]?.offset ?? '', highWatermark: '720' };
    };
    // Each believes it owns the partition: the old one has not heard of the rebalance, its insert is on its way.
    const owns = (generation: number) => ({ heartbeat: async () => undefined, isRunning: () => true, generation });
    const oldOwner = build().handle(batch(0, 9), owns(1));
    for (let i = 0; i < 100; i++) {
      const [running] = await (await ch.query({ query: `SELECT toString(count()) AS n FROM system.processes WHERE query_kind = 'Insert' AND query LIKE '%${db}.audit_events%'`, format: 'JSONEachRow' })).json<{ n: string }>();
      if (running?.n !== '0') break;
      await sleep(50);
    }
    await build().handle(batch(0, 19), owns(2)); // the new owner's first batch, cut differently
    await oldOwner;
    const [stored] = await (await ch.query({ query: `SELECT toString(count()) AS n, toString(uniqExact(_offset)) AS offsets FROM ${db}.audit_events`, format: 'JSONEachRow' })).json<{ n: string; offsets: string }>();
    expect(stored).toEqual({ n: '20', offsets: '20' });
    await ch.command({ query: `DROP DATABASE ${db}` });
  });

  it('a retry after a client-side timeout, gathered with other fetches this time, waits for the first insert and stores each record once', async () => {
    const db = uniqueName('retry');
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 36500 } });
    await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
    await ch.command({ query: `ALTER TABLE ${db}.audit_events ADD COLUMN _slow UInt8 MATERIALIZED sleep(3)` });
    const topic = 'kaudit.audit.enriched.v1';
    // Gives up on a request after one second; ClickHouse goes on with the insert it was sent.
    const impatient = createClickHouse({ url: testEndpoints().clickhouseUrl, requestTimeoutMs: 1000 });
    const sink = new BatchSink({
      clickhouse: impatient,
      database: db,
      targets: new Map([[topic, auditEventsTarget(codec)]]),
      deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: uniqueName('dlq') }),
      telemetry: createTelemetry(logger, new Registry()),
      batching: { maxHeld: 2, lingerMs: 200 },
    });
    const fetchOf = (partition: number): RecordBatch => {
      const records: IncomingRecord[] = Array.from({ length: 10 }, (_, i) => ({
        topic, partition, offset: String(50 + i), key: null, timestamp: String(1_763_900_000_000 + i),
        value: codec.encode(sampleAuditRecord({ auditID: `retry-${partition}-${i}`, requestReceivedUs: 1_763_800_000_000_000 + i * 1000 })),
        headers: { [SCHEMA_FINGERPRINT_HEADER]: Buffer.from(codec.fingerprint) },
      }));
      return { topic, partition, records, firstOffset: '50', lastOffset: '59', highWatermark: '60' };
    };
    const ctx = { heartbeat: async () => undefined, isRunning: () => true, generation: 1 };
    // Both fetches in one block; the insert outlives the client's patience.
    const first = await Promise.allSettled([sink.handle(fetchOf(1), ctx), sink.handle(fetchOf(2), ctx)]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    // The consumer retries each fetch after its own backoff, until it succeeds: alone now, so another block with
    // another token. (A retry that inserted again would time out too, and its insert would land all the same.)
    const retried = async (batch: RecordBatch) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await sink.handle(batch, ctx);
        } catch (err) {
          if (attempt >= 20) throw err;
          await sleep(500);
        }
      }
    };
    await retried(fetchOf(1));
    await retried(fetchOf(2));
    await impatient.close();
    const [stored] = await (await ch.query({ query: `SELECT toString(count()) AS n, toString(uniqExact(_partition, _offset)) AS offsets FROM ${db}.audit_events`, format: 'JSONEachRow' })).json<{ n: string; offsets: string }>();
    expect(stored).toEqual({ n: '20', offsets: '20' });
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});
