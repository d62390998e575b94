/**
 * kaudit.audit.enriched.v2 (issue 16): one Kafka record carries several events, so one offset has several rows. The
 * sink's exactly-once holds per EVENT: a record stored in part (an insert that landed in one day-partition of two, a
 * bisected block, a neighbour dead-lettered) gets exactly its missing rows on a replay, never a row twice; a bad
 * event is dead-lettered alone (its bytes, the record's headers, its index) while its neighbours are stored; and the
 * sink reads v1 and v2 records alike, on both topics. Rows are counted WITHOUT FINAL and with merges stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { DeadLetterWriter, DLQ_HEADERS, encodeEnrichedBatches, ENRICHED_EVENT_INDEX_HEADER, type IncomingRecord, type KafkaClient, type Producer, type RecordBatch } from '@kaudit/kafka';
import { createTelemetry } from '@kaudit/logging';
import { consumeAll, silentLogger, uniqueName } from '@kaudit/testkit';
import { BatchSink } from './batch-sink.js';
import type { SinkItem } from './records-not-stored.js';
import { auditEventsTarget } from './sink-target.js';
import { startSinkUnderTest, sinkTestConfig, openSinkTestClients, type SinkTestClients } from './test-support/sink-under-test.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('sink-v2-test');
const codec = new AuditRecordCodec();
const DAY_US = 86_400_000_000;
/** 2025-11-22 23:59:59.9 UTC. */
const BEFORE_MIDNIGHT_US = 1_763_855_999_900_000;
const headers = { [SCHEMA_FINGERPRINT_HEADER]: Buffer.from(codec.fingerprint), cluster: Buffer.from('prod-eu-1') };
const ctx = { heartbeat: async () => undefined, isRunning: () => true, generation: 1 };
let ch: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let clients: SinkTestClients;

beforeAll(async () => {
  clients = await openSinkTestClients('sink-v2-test', logger);
  ({ ch, kafka, producer } = clients);
});
afterAll(() => clients.close());

async function freshDatabase(): Promise<string> {
  const db = uniqueName('sinkv2');
  await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 36500 } });
  await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
  return db;
}

const counts = (db: string) =>
  clients.one<{ rows: string; keys: string; offsets: string }>(
    `SELECT toString(count()) AS rows, toString(uniqExact(cluster, audit_id, stage)) AS keys, toString(uniqExact(_offset)) AS offsets FROM ${db}.audit_events`,
  );

function sinkOn(db: string, topic: string, dlq: string): BatchSink {
  return new BatchSink({
    clickhouse: ch,
    database: db,
    targets: new Map([[topic, auditEventsTarget(codec)]]),
    deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: dlq }),
    telemetry: createTelemetry(logger, new Registry()),
  });
}

/** One enriched.v2 record at `offset` holding `values`. */
function v2Record(topic: string, offset: string, values: Buffer[]): IncomingRecord {
  const [value, ...more] = encodeEnrichedBatches(values);
  if (more.length > 0) throw new Error('test record over the bounds');
  return { topic, partition: 0, offset, key: Buffer.from('prod-eu-1/user:alice'), value: value as Buffer, headers, timestamp: '1763900000000' };
}

const batchOf = (topic: string, records: IncomingRecord[]): RecordBatch => ({
  topic,
  partition: 0,
  records,
  firstOffset: records[0]?.offset ?? '0',
  lastOffset: records[records.length - 1]?.offset ?? '0',
  highWatermark: String(Number(records[records.length - 1]?.offset ?? '0') + 1),
});

describe('an enriched.v2 record whose rows landed in part', () => {
  it('re-presented, stores exactly its missing rows (and nothing twice), then is recognised as stored', async () => {
    const db = await freshDatabase();
    const topic = uniqueName('enriched');
    // Ten events of one record straddle midnight: one INSERT, two day-partitions, two parts committed on their own.
    const values = Array.from({ length: 10 }, (_, i) => {
      const us = i < 5 ? BEFORE_MIDNIGHT_US + DAY_US / 2 + i * 1000 : BEFORE_MIDNIGHT_US + i * 1000 - DAY_US / 2;
      return codec.encode(sampleAuditRecord({ auditID: `v2-partial-${i}`, requestReceivedUs: us, stageUs: us + 1000 }));
    });
    const record = v2Record(topic, '700', values);
    const target = auditEventsTarget(codec);
    const split = target.items(record);
    if (!split.ok) throw new Error(split.reason);
    // What a crash between the two parts' commits leaves: the earlier day's rows (events 5..9) stored, not 0..4.
    await ch.insert({ table: `${db}.audit_events`, values: split.items.slice(5).map((e: SinkItem) => target.toRow(e)), format: 'JSONEachRow' });
    expect(await counts(db)).toEqual({ rows: '5', keys: '5', offsets: '1' });

    const sink = sinkOn(db, topic, uniqueName('dlq'));
    await sink.handle(batchOf(topic, [record]), ctx);
    expect(await counts(db)).toEqual({ rows: '10', keys: '10', offsets: '1' });
    await sink.handle(batchOf(topic, [record]), ctx);
    expect(await counts(db)).toEqual({ rows: '10', keys: '10', offsets: '1' });
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});

describe('a bad event inside an enriched.v2 record', () => {
  it('is dead-lettered alone with its bytes, the record headers and its index; its neighbours are stored once, also on a replay', async () => {
    const db = await freshDatabase();
    const [topic, dlq] = [uniqueName('enriched'), uniqueName('dlq')];
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([{ topic: dlq, partitions: 1 }]);
    try {
      const bad = Buffer.from('not avro at all');
      const good = (i: number) => codec.encode(sampleAuditRecord({ auditID: `v2-bad-${i}`, requestReceivedUs: BEFORE_MIDNIGHT_US + i * 1000 }));
      const record = v2Record(topic, '41', [good(0), good(1), bad, good(3), good(4)]);
      const before = v2Record(topic, '40', [good(10), good(11)]);
      const sink = sinkOn(db, topic, dlq);
      await sink.handle(batchOf(topic, [before, record]), ctx);
      expect(await counts(db)).toEqual({ rows: '6', keys: '6', offsets: '2' });
      const [dead] = await consumeAll(kafka, dlq, 1, 60_000);
      expect(dead?.value?.equals(bad)).toBe(true);
      expect(dead?.headers[ENRICHED_EVENT_INDEX_HEADER]?.toString()).toBe('2');
      expect(dead?.headers[DLQ_HEADERS.offset]?.toString()).toBe('41');
      expect(dead?.headers[DLQ_HEADERS.topic]?.toString()).toBe(topic);
      expect(dead?.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()).toBe(String(codec.fingerprint));
      // A replay (crash before the commit): the stored rows stay once; the bad one is dead-lettered again at worst.
      await sink.handle(batchOf(topic, [before, record]), ctx);
      expect(await counts(db)).toEqual({ rows: '6', keys: '6', offsets: '2' });
    } finally {
      await admin.deleteTopics([dlq]).catch(() => undefined);
      await admin.stop();
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});

describe('the sink service on both enriched topics (real Kafka)', () => {
  it('stores v1 and v2 records, on both topics, every event once; a damaged frame is dead-lettered whole', async () => {
    const db = await freshDatabase();
    const [v2Topic, v1Topic, alerts, dlq] = [uniqueName('enriched_v2'), uniqueName('enriched_v1'), uniqueName('alerts'), uniqueName('dlq')];
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([v2Topic, v1Topic, alerts, dlq].map((topic) => ({ topic, partitions: 2 })));
    const config = sinkTestConfig({ database: db, topics: { enriched: `${v2Topic},${v1Topic}`, alerts, dlq } });
    const { service, lifecycle } = await startSinkUnderTest(config, { logger, kafka, clickhouse: ch });
    // A just-made topic's partitions may not be hosted yet: retried as a real producer's caller would.
    const send = async (topic: string, records: Parameters<Producer['send']>[1]) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await producer.send(topic, records);
        } catch (err) {
          if (attempt >= 20) throw err;
          await sleep(500);
        }
      }
    };
    try {
      await service.waitForAssignment(60_000);
      const rec = (id: string) => sampleAuditRecord({ auditID: id, requestReceivedUs: BEFORE_MIDNIGHT_US });
      const v1 = (id: string) => ({ key: 'prod-eu-1/user:bob', value: codec.encode(rec(id)), headers });
      await send(v1Topic, [v1('old-0'), v1('old-1')]);
      await send(v2Topic, [v1('rolling-0')]);
      const grouped = encodeEnrichedBatches(['new-0', 'new-1', 'new-2'].map((id) => codec.encode(rec(id))));
      const [damaged] = encodeEnrichedBatches([codec.encode(rec('damaged'))]);
      await send(v2Topic, [
        ...grouped.map((value) => ({ key: 'prod-eu-1/user:carol', value, headers })),
        { key: 'prod-eu-1/user:dave', value: (damaged as Buffer).subarray(0, (damaged as Buffer).length - 2), headers },
      ]);
      const deadline = Date.now() + 60_000;
      while (Number((await counts(db)).rows) < 6 && Date.now() < deadline) await sleep(250);
      await sleep(1500); // a late duplicate would show up here
      expect(await counts(db)).toMatchObject({ rows: '6', keys: '6' });
      const ids = await (await ch.query({ query: `SELECT audit_id FROM ${db}.audit_events ORDER BY audit_id`, format: 'JSONEachRow' })).json<{ audit_id: string }>();
      expect(ids.map((r) => r.audit_id)).toEqual(['new-0', 'new-1', 'new-2', 'old-0', 'old-1', 'rolling-0']);
      const [dead] = await consumeAll(kafka, dlq, 1, 60_000);
      expect(dead?.headers[DLQ_HEADERS.stage]?.toString()).toBe('read-frame');
      expect(dead?.headers[ENRICHED_EVENT_INDEX_HEADER]).toBeUndefined();
    } finally {
      await lifecycle.stop();
      await admin.deleteTopics([v2Topic, v1Topic, alerts, dlq]).catch(() => undefined);
      await admin.stop();
    }
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});
