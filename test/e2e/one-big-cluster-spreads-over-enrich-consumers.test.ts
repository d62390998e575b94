/**
 * Issue 16 (one big cluster spreads): the traffic of a single cluster must not be bound to one
 * partition of the raw topic, hence to one enrich consumer. Ingest and two enrich services in one
 * consumer group run as real child processes on the suite's Kafka, as deployed; one cluster's webhook
 * traffic (the generator's mix of users) must land on several raw partitions, both enrich members must
 * enrich part of it, and nothing is lost or duplicated.
 *
 * What must not be given up for it: the alert windows (sequences, thresholds) read each actor's
 * records in the order the apiserver sent them, from the enriched topic keyed cluster/actor. So the
 * records of one user stay on one raw partition, and each enriched key sees its events in send order.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { auditTraffic, toEventList } from '@kaudit/audit-generator';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin } from '@kaudit/kafka';
import { freePort } from '@kaudit/stack';
import { consumeEnrichedEvents, consumeRawEvents, ServiceProcess, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';

const CLUSTER = 'one-big-cluster';
const work = mkdtempSync(join(tmpdir(), 'kaudit-spread-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Raw records an enrich process reports as enriched on its /metrics. */
async function enrichedBy(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('kaudit_enrich_records_total{outcome="enriched"}'));
  return Number(line?.split(' ')[1] ?? 0);
}

/** Waits until the group has `members` members and is stable, so both are assigned partitions before traffic starts. */
async function waitForMembers(admin: KafkaAdmin, groupId: string, members: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [group] = await admin.describeGroups([groupId]);
    if (group?.state === 'Stable' && group.members.length === members) return;
    await sleep(250);
  }
  throw new Error(`group ${groupId} did not settle with ${members} members`);
}

describe('one big cluster', () => {
  it('spreads over several raw partitions and two enrich consumers, each user on one partition, each enriched key in send order, nothing lost', async () => {
    const brokers = testEndpoints().kafkaBrokers;
    const kafka = createKafkaClient({ brokers: [brokers], clientId: uniqueName('spread'), logger: silentLogger() });
    const topics = { raw: uniqueName('raw'), enriched: uniqueName('enriched'), dlq: uniqueName('dlq') };
    const admin = kafka.admin();
    await admin.start();
    await admin.ensureTopics([
      { topic: topics.raw, partitions: 6 },
      { topic: topics.enriched, partitions: 6 },
      { topic: topics.dlq, partitions: 1 },
    ]);
    const token = randomBytes(18).toString('base64url');
    const clusters = join(work, 'clusters.yaml');
    writeFileSync(clusters, `clusters:\n  ${CLUSTER}:\n    tokens:\n      - sha256: ${createHash('sha256').update(token).digest('hex')}\n`);
    const ingestPort = await freePort();
    const ingest = new ServiceProcess({
      service: 'ingest',
      httpPort: ingestPort,
      logDir: join(work, 'logs'),
      env: { KAFKA_BROKERS: brokers, INGEST_RAW_TOPIC: topics.raw, INGEST_DLQ_TOPIC: topics.dlq, CLUSTERS_FILE: clusters },
    });
    const groupId = uniqueName('enrich');
    const enrichPorts = [await freePort(), await freePort()];
    const enrich = enrichPorts.map(
      (httpPort, i) =>
        new ServiceProcess({
          service: 'enrich',
          httpPort,
          logDir: join(work, `logs-enrich-${i}`),
          env: { KAFKA_BROKERS: brokers, ENRICH_GROUP_ID: groupId, ENRICH_INPUT_TOPIC: topics.raw, ENRICH_OUTPUT_TOPIC: topics.enriched, ENRICH_DLQ_TOPIC: topics.dlq },
        }),
    );
    try {
      await ingest.start(120_000);
      for (const e of enrich) await e.start(120_000);
      await waitForMembers(admin, groupId, 2);

      const traffic = auditTraffic({ seed: 16, clusters: [CLUSTER], startMs: Date.now() - 300_000, stepMs: 20 });
      const events = Array.from({ length: 1200 }, () => traffic.next().value?.event ?? {});
      for (let i = 0; i < events.length; i += 200) {
        const res = await fetch(`http://127.0.0.1:${ingestPort}/v1/clusters/${CLUSTER}/audit`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(toEventList(events.slice(i, i + 200))),
        });
        expect(res.status).toBe(200);
      }

      // The raw topic: one cluster over several partitions, one user on one partition.
      // Events, not records: a raw.v2 record holds many (one user's of one body).
      const raw = await consumeRawEvents(kafka, topics.raw, 60_000);
      expect(raw).toHaveLength(events.length);
      const partitionsOfUser = new Map<string, Set<number>>();
      for (const r of raw) {
        const user = (JSON.parse(r.value?.toString() ?? '{}') as { user: { username: string } }).user.username;
        partitionsOfUser.set(user, (partitionsOfUser.get(user) ?? new Set()).add(r.partition));
      }
      expect(new Set(raw.map((r) => r.partition)).size).toBeGreaterThan(1);
      for (const [user, partitions] of partitionsOfUser) expect([...partitions], user).toHaveLength(1);

      // Everything enriched once, by both members of the group.
      const enriched = await consumeEnrichedEvents(kafka, topics.enriched, events.length, 90_000);
      const codec = new AuditRecordCodec();
      const decoded = enriched
        .sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)))
        .map((r) => ({ key: r.key?.toString() ?? '', auditID: codec.decode(r.value ?? Buffer.alloc(0), r.headers[SCHEMA_FINGERPRINT_HEADER]?.toString() ?? '').auditID }));
      expect(decoded.map((d) => d.auditID).sort()).toEqual(events.map((e) => String(e.auditID)).sort());
      const counts = await Promise.all(enrichPorts.map(enrichedBy));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(events.length);
      for (const n of counts) expect(n).toBeGreaterThan(0);

      // Per enriched key (cluster/actor), the events in the order the webhook bodies carried them.
      const sentOrder = new Map(events.map((e, i) => [String(e.auditID), i]));
      const byKey = new Map<string, number[]>();
      for (const d of decoded) byKey.set(d.key, [...(byKey.get(d.key) ?? []), sentOrder.get(d.auditID) ?? -1]);
      expect(byKey.size).toBeGreaterThan(1);
      for (const [key, order] of byKey) expect(order, key).toEqual([...order].sort((a, b) => a - b));
    } finally {
      for (const e of enrich) await e.stop();
      await ingest.stop();
      await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
      await admin.stop();
    }
  }, 300_000);
});
