/**
 * The sink skips a record only when that very record is already stored (issue 12 §2): not "every offset up to the
 * highest stored one", which loses rows after a half-landed multi-partition insert, and not "an offset that is
 * stored", which loses every new event once a topic is recreated and offsets start again at 0.
 * Rows are counted WITHOUT FINAL and with merges stopped, so a duplicate cannot hide in a collapse.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { DeadLetterWriter, type IncomingRecord, type KafkaClient, type Producer, type RecordBatch } from '@kaudit/kafka';
import { createTelemetry } from '@kaudit/logging';
import { silentLogger, uniqueName } from '@kaudit/testkit';
import { BatchSink } from './batch-sink.js';
import { auditEventsTarget } from './sink-target.js';
import { startSinkUnderTest, sinkTestConfig, openSinkTestClients, type SinkTestClients } from './test-support/sink-under-test.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('sink-ledger-test');
const codec = new AuditRecordCodec();
const DAY_US = 86_400_000_000;
/** 2025-11-22 23:59:59.9 UTC: ten events a millisecond apart straddle midnight, so one batch is two day-partitions. */
const BEFORE_MIDNIGHT_US = 1_763_855_999_900_000;
let ch: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let clients: SinkTestClients;

beforeAll(async () => {
  clients = await openSinkTestClients('sink-ledger-test', logger);
  ({ ch, kafka, producer } = clients);
});
afterAll(() => clients.close());
const one = <T>(query: string): Promise<T> => clients.one<T>(query);

async function freshDatabase(): Promise<string> {
  const db = uniqueName('ledger');
  await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 36500 } });
  // Nothing may collapse while we count: a duplicate row must stay visible as one.
  await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
  return db;
}

const counts = (db: string) =>
  one<{ rows: string; keys: string; offsets: string }>(
    `SELECT toString(count()) AS rows, toString(uniqExact(cluster, audit_id, stage)) AS keys, toString(uniqExact(_offset)) AS offsets FROM ${db}.audit_events`,
  );

describe('a batch whose insert landed in only some day-partitions', () => {
  it('re-presented, stores the offsets of the part that did not land (and nothing twice)', async () => {
    const db = await freshDatabase();
    const topic = 'kaudit.audit.enriched.v1';
    const sink = new BatchSink({
      clickhouse: ch,
      database: db,
      targets: new Map([[topic, auditEventsTarget(codec)]]),
      deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: uniqueName('dlq') }),
      telemetry: createTelemetry(logger, new Registry()),
    });
    // Offsets 500..504 are on the day after midnight, 505..509 on the day before: one INSERT, two partitions,
    // and the part of the LOWER offsets is the later day (e.g. a history import interleaved with live traffic).
    const recs: IncomingRecord[] = Array.from({ length: 10 }, (_, i) => {
      const us = i < 5 ? BEFORE_MIDNIGHT_US + DAY_US / 2 + i * 1000 : BEFORE_MIDNIGHT_US + i * 1000 - DAY_US / 2;
      const r = sampleAuditRecord({ auditID: `partial-${i}`, requestReceivedUs: us, stageUs: us + 1000 });
      return { topic, partition: 0, offset: String(500 + i), key: null, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: Buffer.from(codec.fingerprint) }, timestamp: String(1_763_900_000_000 + i) };
    });
    const batch: RecordBatch = { topic, partition: 0, records: recs, firstOffset: '500', lastOffset: '509', highWatermark: '510' };
    // What a crash between the per-partition part commits of that INSERT leaves behind (ClickHouse commits each
    // partition's part on its own; its insert is atomic per part, not per statement): the earlier day's part,
    // offsets 505..509, is stored; the later day's, 500..504, is not. We produce exactly that state with a real
    // insert of the landed part, since a server crash between two commits cannot be timed in a test.
    const target = auditEventsTarget(codec);
    await ch.insert({ table: `${db}.audit_events`, values: recs.slice(5).map((r) => target.toRow(r)), format: 'JSONEachRow' });
    expect(await counts(db)).toEqual({ rows: '5', keys: '5', offsets: '5' });

    await sink.handle(batch, { heartbeat: async () => undefined, isRunning: () => true, generation: 1 });
    expect(await counts(db)).toEqual({ rows: '10', keys: '10', offsets: '10' });
    const stored = await (await ch.query({ query: `SELECT toString(_offset) AS o FROM ${db}.audit_events ORDER BY _offset`, format: 'JSONEachRow' })).json<{ o: string }>();
    expect(stored.map((r) => r.o)).toEqual(recs.map((r) => r.offset));
    // And once more (another crash before the commit): everything is recognised as stored.
    await sink.handle(batch, { heartbeat: async () => undefined, isRunning: () => true, generation: 1 });
    expect(await counts(db)).toEqual({ rows: '10', keys: '10', offsets: '10' });
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});

describe('a block of two partitions whose offsets overlap, one of them already stored', () => {
  it('skips the stored partition\'s records and stores the other\'s, whose offsets are the same numbers', async () => {
    const db = await freshDatabase();
    const topic = 'kaudit.audit.enriched.v1';
    // Both fetches in one block (the stored offsets of a block are looked up in one query).
    const sink = new BatchSink({
      clickhouse: ch,
      database: db,
      targets: new Map([[topic, auditEventsTarget(codec)]]),
      deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: uniqueName('dlq') }),
      telemetry: createTelemetry(logger, new Registry()),
      batching: { maxHeld: 2, lingerMs: 60_000 },
    });
    const recs = (partition: number): IncomingRecord[] =>
      Array.from({ length: 5 }, (_, i) => {
        const r = sampleAuditRecord({ auditID: `overlap-${partition}-${i}`, requestReceivedUs: BEFORE_MIDNIGHT_US + i * 1000 });
        return { topic, partition, offset: String(500 + i), key: null, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: Buffer.from(codec.fingerprint) }, timestamp: String(1_763_900_000_000 + i) };
      });
    const batch = (partition: number): RecordBatch => ({ topic, partition, records: recs(partition), firstOffset: '500', lastOffset: '504', highWatermark: '505' });
    // Partition 1's records are stored (a crash after its insert, before the commit); partition 0's are not.
    const target = auditEventsTarget(codec);
    await ch.insert({ table: `${db}.audit_events`, values: recs(1).map((r) => target.toRow(r)), format: 'JSONEachRow' });
    const ctx = { heartbeat: async () => undefined, isRunning: () => true, generation: 1 };
    await Promise.all([sink.handle(batch(0), ctx), sink.handle(batch(1), ctx)]);
    const stored = await (
      await ch.query({ query: `SELECT toString(_partition) AS p, toString(_offset) AS o, audit_id FROM ${db}.audit_events ORDER BY _partition, _offset`, format: 'JSONEachRow' })
    ).json<{ p: string; o: string; audit_id: string }>();
    expect(stored).toEqual([0, 1].flatMap((p) => recs(p).map((r, i) => ({ p: String(p), o: r.offset, audit_id: `overlap-${p}-${i}` }))));
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});

describe('a topic deleted and recreated (offsets start again at 0)', () => {
  it('stores the new events at reused offsets instead of skipping them as already stored', async () => {
    const db = await freshDatabase();
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    const group = uniqueName('sink');
    const events: string[] = [];
    const produce = async (prefix: string, n: number) => {
      const batch = Array.from({ length: n }, (_, i) => sampleAuditRecord({ auditID: `${prefix}-${i}`, requestReceivedUs: 1_763_800_000_000_000 + i * 1000 }));
      events.push(...batch.map((r) => r.auditID));
      await producer.send(topics.enriched, batch.map((r) => ({ key: r.auditID, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint }, partition: 0 })));
    };
    const runSinkUntil = async (rows: number) => {
      const config = sinkTestConfig({ database: db, topics, group, env: { SINK_RETRY_MAX_MS: '1000', SINK_SESSION_TIMEOUT_MS: '6000' } });
      const { service, lifecycle } = await startSinkUnderTest(config, { logger, kafka, clickhouse: ch });
      try {
        await service.waitForAssignment(60_000);
        const deadline = Date.now() + 60_000;
        while (Number((await counts(db)).rows) < rows && Date.now() < deadline) await sleep(250);
        await sleep(2000); // a late duplicate would show up here
      } finally {
        await lifecycle.stop();
      }
    };
    try {
      await admin.ensureTopics([{ topic: topics.enriched, partitions: 1 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
      await produce('first-life', 30);
      await runSinkUntil(30);
      expect(await counts(db)).toEqual({ rows: '30', keys: '30', offsets: '30' });

      await admin.deleteTopics([topics.enriched]);
      for (let i = 0; i < 100 && (await admin.listTopics()).includes(topics.enriched); i++) await sleep(200);
      await sleep(1000);
      await admin.ensureTopics([{ topic: topics.enriched, partitions: 1 }]);
      await produce('second-life', 20); // offsets 0..19 again, all of them "stored" by the first life's rows
      await runSinkUntil(50);
      expect(await counts(db)).toEqual({ rows: '50', keys: '50', offsets: '30' });
      const ids = await (await ch.query({ query: `SELECT audit_id FROM ${db}.audit_events ORDER BY audit_id`, format: 'JSONEachRow' })).json<{ audit_id: string }>();
      expect(ids.map((r) => r.audit_id)).toEqual([...events].sort());
    } finally {
      await admin.deleteTopics([topics.enriched, topics.dlq]).catch(() => undefined);
      await admin.stop();
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});
