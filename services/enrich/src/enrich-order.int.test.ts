import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { createKafkaClient, RAW_HEADERS, type KafkaAdmin, type KafkaClient, type OutgoingRecord } from '@kaudit/kafka';
import { Lifecycle } from '@kaudit/runtime';
import { consumeAll, silentLogger, testEndpoints, uniqueName, consumeEnrichedEvents } from '@kaudit/testkit';
import { buildEnrich } from './build-enrich.js';
import { loadEnrichConfig } from './config.js';
import { loadFixture } from './fixtures/fixtures.js';

const logger = silentLogger('enrich-order-int');
let client: KafkaClient;
let admin: KafkaAdmin;

beforeAll(async () => {
  client = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'enrich-order-int-test', logger });
  admin = client.admin();
  await admin.start();
});
afterAll(async () => {
  await admin.stop();
});

/** Enrich as it ships (buildEnrich) on the test's own topics, without warm-up; `extra` adds settings. */
function enrichOn(topics: { input: string; output: string; dlq: string; groupId?: string }, extra: Record<string, string>): Lifecycle {
  const config = loadEnrichConfig({
    KAFKA_BROKERS: testEndpoints().kafkaBrokers,
    ENRICH_GROUP_ID: topics.groupId ?? uniqueName('enrich'),
    ENRICH_INPUT_TOPIC: topics.input,
    ENRICH_OUTPUT_TOPIC: topics.output,
    ENRICH_DLQ_TOPIC: topics.dlq,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    ENRICH_WARM_UP_EVENTS: '0',
    KAUDIT_RETENTION_DAYS: '3650', // the fixtures carry fixed dates (November 2026)
    ...extra,
  });
  return new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...buildEnrich(config, { logger, registry: new Registry(), kafka: client }).components);
}

describe('enrich keeps the order of a partition', () => {
  // Records whose identity waits for the HTTP directory finish after the ones resolved at once; what is produced
  // (and committed) must still follow the input order, not the order in which enrichment finished.
  it('records waiting for a (hanging) HTTP directory are produced in their place among those resolved at once', async () => {
    const input = uniqueName('raw');
    const output = uniqueName('enriched');
    const dlq = uniqueName('dlq');
    // One partition each: the output order is then the produced order.
    await admin.ensureTopics([input, output, dlq].map((topic) => ({ topic, partitions: 1 })));
    const hanging: ServerResponse[] = [];
    const directory = createServer((_req, res) => hanging.push(res));
    await new Promise<void>((resolve) => directory.listen(0, '127.0.0.1', resolve));
    const port = (directory.address() as AddressInfo).port;
    const lifecycle = enrichOn({ input, output, dlq }, { ENRICH_HTTP_DIRECTORY_URL: `http://127.0.0.1:${port}/identities/{id}`, ENRICH_HTTP_DIRECTORY_TIMEOUT_MS: '300' });

    // Every third user is a person (asked of the HTTP directory, which never answers in time), the others service
    // accounts (resolved from the username alone); every fifth record is not an audit event (dead-lettered).
    const base = loadFixture('gke-pod-delete-metadata');
    const n = 60;
    const records: OutgoingRecord[] = Array.from({ length: n }, (_, i) => {
      const username = i % 3 === 0 ? `person${i}@example.com` : `system:serviceaccount:ns${i}:sa`;
      const value = i % 5 === 4 ? JSON.stringify({ kind: 'Event', verb: 'get', auditID: `order-${i}` }) : JSON.stringify({ ...base, auditID: `order-${i}`, user: { username, groups: [] } });
      return { key: 'prod-eu-1', value, headers: { [RAW_HEADERS.cluster]: 'prod-eu-1', [RAW_HEADERS.receivedAt]: new Date().toISOString() } };
    });
    const producer = client.producer();
    await producer.start();
    await producer.send(input, records);
    await producer.stop();

    await lifecycle.start();
    try {
      const enrichedCount = records.filter((_, i) => i % 5 !== 4).length;
      const enriched = await consumeEnrichedEvents(client, output, enrichedCount, 60_000);
      const dead = await consumeAll(client, dlq, n - enrichedCount, 60_000);
      const codec = new AuditRecordCodec();
      const ids = enriched.map((r) => codec.decode(r.value as Buffer, r.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()).auditID);
      const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 4).map((i) => `order-${i}`);
      expect(ids).toEqual(expected);
      expect(dead.map((d) => (JSON.parse(d.value?.toString() ?? '{}') as { auditID?: string }).auditID)).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === 4).map((i) => `order-${i}`));
    } finally {
      await lifecycle.stop();
      for (const res of hanging) res.destroy();
      directory.closeAllConnections();
      await new Promise<void>((resolve) => directory.close(() => resolve()));
      await admin.deleteTopics([input, output, dlq]).catch(() => undefined);
    }
  }, 120_000);

  // A backlog over three partitions: the first fetch hands all three batches over at once, and they are produced
  // together (createEnrichHandler). Each user's events must still reach the enriched topic in their order, none
  // missing, and the group's committed offsets must cover the whole input.
  it("the batches of one fetch, produced together, keep each user's order across partitions and are committed", async () => {
    const input = uniqueName('raw');
    const output = uniqueName('enriched');
    const dlq = uniqueName('dlq');
    const groupId = uniqueName('enrich');
    await admin.ensureTopics([
      { topic: input, partitions: 3 },
      { topic: output, partitions: 2 },
      { topic: dlq, partitions: 1 },
    ]);
    const lifecycle = enrichOn({ input, output, dlq, groupId }, { ENRICH_PARTITIONS_CONCURRENTLY: '3' });
    // Twelve service accounts (one actor each), keyed by user as ingest keys them, so they spread over the partitions.
    const base = loadFixture('gke-pod-delete-metadata');
    const users = 12;
    const perUser = 40;
    const records: OutgoingRecord[] = Array.from({ length: users * perUser }, (_, i) => {
      const u = i % users;
      const username = `system:serviceaccount:ns${u}:sa`;
      return {
        key: `prod-eu-1/${username}`,
        value: JSON.stringify({ ...base, auditID: `u${u}-${String(Math.floor(i / users)).padStart(3, '0')}`, user: { username, groups: [] } }),
        headers: { [RAW_HEADERS.cluster]: 'prod-eu-1', [RAW_HEADERS.receivedAt]: new Date().toISOString() },
      };
    });
    const producer = client.producer();
    await producer.start();
    await producer.send(input, records);
    await producer.stop();
    const inputEnds = await admin.fetchTopicOffsets(input);
    expect(inputEnds.filter((p) => Number(p.high) > 0).length).toBeGreaterThan(1);

    await lifecycle.start();
    try {
      const enriched = await consumeEnrichedEvents(client, output, records.length, 60_000);
      const codec = new AuditRecordCodec();
      const byUser = new Map<string, string[]>();
      for (const r of enriched) {
        const id = codec.decode(r.value as Buffer, r.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()).auditID;
        const user = id.split('-')[0] as string;
        byUser.set(user, [...(byUser.get(user) ?? []), id]);
      }
      expect(byUser.size).toBe(users);
      for (const [user, ids] of byUser) expect(ids).toEqual(Array.from({ length: perUser }, (_, n) => `${user}-${String(n).padStart(3, '0')}`));
      const deadline = Date.now() + 30_000;
      let committed: { partition: number; offset: string }[] = [];
      while (Date.now() < deadline) {
        committed = await admin.fetchCommittedOffsets(groupId, input);
        if (inputEnds.every((e) => committed.find((c) => c.partition === e.partition)?.offset === e.high || e.high === '0')) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const e of inputEnds) if (e.high !== '0') expect(committed.find((c) => c.partition === e.partition)?.offset).toBe(e.high);
    } finally {
      await lifecycle.stop();
      await admin.deleteTopics([input, output, dlq]).catch(() => undefined);
    }
  }, 120_000);
});
