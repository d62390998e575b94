import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, DLQ_HEADERS, encodeRawBatches, RAW_EVENT_INDEX_HEADER, RAW_HEADERS, splitEnrichedRecord, type IncomingRecord, type KafkaAdmin, type KafkaClient, type OutgoingRecord, type RawBatchEvent } from '@kaudit/kafka';
import { Lifecycle } from '@kaudit/runtime';
import { consumeAll, silentLogger, testEndpoints, uniqueName, consumeEnrichedEvents } from '@kaudit/testkit';
import { loadEnrichConfig } from './config.js';
import { buildEnrich } from './build-enrich.js';
import { FIXTURE_SECRETS, fixtureNames, loadFixture } from './fixtures/fixtures.js';

/**
 * kaudit.audit.raw.v2 (issue 16): one record carries many events. Each is enriched as a v1 record would be — a
 * bad one dead-lettered ALONE with its own bytes, the rest enriched in their order, Secret values redacted per
 * event — and the record is committed only once all of them are produced or dead-lettered. Enrich reads v1 and v2
 * records at once (an upgrade: enrich first, then ingest), on two topics or mixed on one.
 */
const logger = silentLogger('enrich-raw-v2-int');
let client: KafkaClient;
let admin: KafkaAdmin;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'enrich-raw-v2-test', logger });
  admin = client.admin();
  await admin.start();
});
afterAll(async () => {
  await admin.stop();
});

// Received now: with the default future skew, an older received-at would refuse the fixtures dated after it.
const HEADERS = { [RAW_HEADERS.cluster]: 'prod-eu-1', [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: 'webhook', [RAW_HEADERS.instance]: 'ingest-0/1' };
const BAD_EVENT = Buffer.from('{"kind":"Event", "auditID": "cut-short"');

function v2Record(events: RawBatchEvent[]): OutgoingRecord {
  const [value, ...more] = encodeRawBatches(events);
  if (value === undefined || more.length > 0) throw new Error('expected one raw batch');
  return { key: 'prod-eu-1/someone', value, headers: HEADERS };
}

function v1Record(event: Buffer): OutgoingRecord {
  return { key: 'prod-eu-1/someone', value: event, headers: HEADERS };
}

const fixtureBytes = (name: string) => Buffer.from(JSON.stringify(loadFixture(name)));

async function startEnrich(inputs: string[], output: string, dlq: string, groupId: string, threads: string) {
  const config = loadEnrichConfig({
    KAFKA_BROKERS: testEndpoints().kafkaBrokers,
    ENRICH_GROUP_ID: groupId,
    ENRICH_INPUT_TOPIC: inputs.join(','),
    ENRICH_OUTPUT_TOPIC: output,
    ENRICH_DLQ_TOPIC: dlq,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    KAUDIT_RETENTION_DAYS: '3650', // the fixtures carry fixed dates (November 2026)
    ENRICH_THREADS: threads,
    ENRICH_WARM_UP_EVENTS: '0',
  });
  const service = buildEnrich(config, { logger, registry: new Registry(), kafka: client });
  const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...service.components);
  await lifecycle.start();
  return lifecycle;
}

async function produce(topic: string, records: OutgoingRecord[]): Promise<void> {
  const producer = client.producer();
  await producer.start();
  try {
    await producer.send(topic, records);
  } finally {
    await producer.stop();
  }
}

async function expectCommittedToEnd(groupId: string, topic: string): Promise<void> {
  const high = await admin.fetchTopicOffsets(topic);
  await vi.waitFor(
    async () => {
      const committed = await admin.fetchCommittedOffsets(groupId, topic);
      for (const p of high) expect(committed.find((c) => c.partition === p.partition && (c.offset === p.high || p.high === '0'))).toBeDefined();
    },
    { timeout: 30_000, interval: 250 },
  );
}

const decodeAll = (records: IncomingRecord[]): AuditRecord[] => {
  const codec = new AuditRecordCodec();
  return records.map((r) => codec.decode(r.value as Buffer, r.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()));
};

/** The events of enriched records (either layout). */
const splitEnriched = (records: IncomingRecord[]): IncomingRecord[] =>
  records.flatMap((r) => {
    const split = splitEnrichedRecord(r);
    if (!split.ok) throw new Error(split.reason);
    return split.events;
  });

describe('enrich on raw.v2 records', () => {
  it.each([
    ['on the event loop', '0'],
    ['on enrich threads', '2'],
  ])('%s: a bad event in the middle of a record is dead-lettered alone, the others enriched in order and redacted, the record committed once', async (_where, threads) => {
    const [input, output, dlq, groupId] = [uniqueName('raw_v2'), uniqueName('enriched'), uniqueName('dlq'), uniqueName('enrich')];
    // One partition each, so the enriched topic's order is the order enrich produced in.
    await admin.ensureTopics([input, output, dlq].map((topic) => ({ topic, partitions: 1 })));
    const names = fixtureNames();
    const before = names.slice(0, 6);
    const after = names.slice(6);
    const events: RawBatchEvent[] = [...before.map((n) => ({ value: fixtureBytes(n) })), { value: BAD_EVENT }, ...after.map((n, i) => ({ value: fixtureBytes(n), ...(i === 0 ? { truncated: 'requestObject,responseObject' } : {}) }))];
    await produce(input, [v2Record(events)]);

    const lifecycle = await startEnrich([input], output, dlq, groupId, threads);
    try {
      const enriched = await consumeEnrichedEvents(client, output, names.length, 60_000);
      const [dead] = await consumeAll(client, dlq, 1, 60_000);
      await expectCommittedToEnd(groupId, input);
      // Once: nothing beyond the good events was produced, the record's one offset is committed (0 → 1).
      const outputRecords = (await admin.fetchTopicOffsets(output)).reduce((n, p) => n + Number(p.high), 0);
      expect(splitEnriched(await consumeAll(client, output, outputRecords, 60_000))).toHaveLength(names.length);
      expect((await admin.fetchTopicOffsets(dlq)).reduce((n, p) => n + Number(p.high), 0)).toBe(1);
      expect((await admin.fetchCommittedOffsets(groupId, input)).map((c) => c.offset)).toEqual(['1']);

      const records = decodeAll(enriched);
      // enriched.v2 groups a batch's events per key: every event once, each key's in the record's order.
      const expectedIds = names.map((n) => String(loadFixture(n).auditID));
      expect(records.map((r) => r.auditID).sort()).toEqual([...expectedIds].sort());
      for (const key of new Set(enriched.map((r) => r.key?.toString()))) {
        const ids = records.filter((_, i) => enriched[i]?.key?.toString() === key).map((r) => r.auditID);
        expect(ids).toEqual(expectedIds.filter((id) => ids.includes(id)));
      }
      expect(records.filter((r) => r.truncated).map((r) => r.auditID)).toEqual([expectedIds[before.length]]);
      for (const raw of enriched) {
        const bytes = Buffer.concat([raw.key ?? Buffer.alloc(0), raw.value ?? Buffer.alloc(0), ...Object.values(raw.headers)]);
        for (const secret of FIXTURE_SECRETS) expect(bytes.includes(secret), `${secret} leaked`).toBe(false);
      }

      // The bad event alone: its own bytes (not the record's), the record's headers and position, its index in it.
      expect(dead?.value?.equals(BAD_EVENT)).toBe(true);
      expect(dead?.headers[DLQ_HEADERS.stage]?.toString()).toBe('parse-json');
      expect(dead?.headers[RAW_EVENT_INDEX_HEADER]?.toString()).toBe(String(before.length));
      expect(dead?.headers[DLQ_HEADERS.topic]?.toString()).toBe(input);
      expect(dead?.headers[DLQ_HEADERS.offset]?.toString()).toBe('0');
      for (const [name, value] of Object.entries(HEADERS)) expect(dead?.headers[name]?.toString()).toBe(value);
      expect(dead?.headers[RAW_HEADERS.truncated]).toBeUndefined();
    } finally {
      await lifecycle.stop();
      await admin.deleteTopics([input, output, dlq]).catch(() => undefined);
    }
  });

  it('reads v1 and v2 records at once — on two topics and mixed on one — and dead-letters a damaged frame whole', async () => {
    const [v1Topic, v2Topic, output, dlq, groupId] = [uniqueName('raw_v1'), uniqueName('raw_v2'), uniqueName('enriched'), uniqueName('dlq'), uniqueName('enrich')];
    await admin.ensureTopics([v1Topic, v2Topic, output, dlq].map((topic) => ({ topic, partitions: 3 })));
    const names = fixtureNames();
    const onV1 = names.slice(0, 5);
    const inV2 = names.slice(5, 12);
    const v1OnV2 = names.slice(12);
    const [damaged] = encodeRawBatches([{ value: fixtureBytes(names[0] as string) }]) as [Buffer];
    const damagedFrame = damaged.subarray(0, damaged.length - 7);
    await produce(v1Topic, onV1.map((n) => v1Record(fixtureBytes(n))));
    await produce(v2Topic, [v2Record(inV2.slice(0, 3).map((n) => ({ value: fixtureBytes(n) }))), ...v1OnV2.map((n) => v1Record(fixtureBytes(n))), v2Record(inV2.slice(3).map((n) => ({ value: fixtureBytes(n) }))), { ...v1Record(damagedFrame) }]);

    const lifecycle = await startEnrich([v2Topic, v1Topic], output, dlq, groupId, '0');
    try {
      const enriched = await consumeEnrichedEvents(client, output, names.length, 60_000);
      const dead = await consumeAll(client, dlq, 1, 60_000);
      await expectCommittedToEnd(groupId, v1Topic);
      await expectCommittedToEnd(groupId, v2Topic);
      expect(decodeAll(enriched).map((r) => r.auditID).sort()).toEqual(names.map((n) => String(loadFixture(n).auditID)).sort());
      expect(dead).toHaveLength(1);
      expect(dead[0]?.value?.equals(damagedFrame)).toBe(true);
      expect(dead[0]?.headers[DLQ_HEADERS.stage]?.toString()).toBe('read-frame');
      expect(dead[0]?.headers[RAW_EVENT_INDEX_HEADER]).toBeUndefined();
    } finally {
      await lifecycle.stop();
      await admin.deleteTopics([v1Topic, v2Topic, output, dlq]).catch(() => undefined);
    }
  });
});
