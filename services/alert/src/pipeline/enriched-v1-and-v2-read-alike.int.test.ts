import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertRecordSchema, AuditRecordCodec, sampleAuditRecord, SCHEMA_FINGERPRINT_HEADER, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, DLQ_HEADERS, encodeEnrichedBatches, ENRICHED_EVENT_INDEX_HEADER, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { alertTestTopics, createAlertTestTopics, startAlertInProcess } from '../test-support/alert-test-service.js';
import { caughtUp } from '../test-support/caught-up.js';
import { produceEnriched } from '../test-support/enriched-producer.js';

const RULES = `rules:
  - id: deploy-deleted
    name: Deployment deleted
    severity: high
    output: "{actor.displayName} deleted {objectRef.resource}/{objectRef.name}"
    match: { all: [{ field: verb, equals: delete }, { field: objectRef.resource, equals: deployments }] }
`;

/**
 * Upgrade safety (issue 16): alert subscribes to kaudit.audit.enriched.v2 AND .v1 and tells the layouts apart by the
 * value's magic, so what an older enrich wrote and what a newer one writes are evaluated alike; a bad event inside
 * a v2 record is dead-lettered alone (its bytes, the record's headers, its index) while its neighbours alert.
 */
describe('alert reads both enriched layouts (real Kafka)', () => {
  const logger = silentLogger('enriched-v1-v2');
  const topics = alertTestTopics();
  const v1Topic = uniqueName('enriched_v1');
  const group = uniqueName('alert');
  const codec = new AuditRecordCodec();
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  let stopService: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const { kafkaBrokers } = testEndpoints();
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'enriched-v1-v2', logger });
    admin = kafka.admin();
    await admin.start();
    await createAlertTestTopics(admin, topics, 2);
    await admin.ensureTopics([{ topic: v1Topic, partitions: 2 }]);
    producer = kafka.producer();
    await producer.start();
    stopService = (await startAlertInProcess({ kafka, producer, kafkaBrokers, group, topics, rules: RULES, registry: new Registry(), logger, env: { ALERT_ENRICHED_TOPIC: `${topics.enriched},${v1Topic}` } })).stop;
  });

  afterAll(async () => {
    await stopService?.();
    await producer?.stop();
    await admin?.stop();
  });

  it('alerts on v1 records, v2 records and v1 records on the v2 topic; a bad event of a v2 record is dead-lettered alone, a damaged frame whole', async () => {
    const base = sampleAuditRecord();
    const now = Date.now() * 1000;
    const deleted = (who: string, name: string): AuditRecord => ({
      ...base,
      auditID: `${group}-${who}-${name}`,
      requestReceivedUs: now,
      verb: 'delete',
      operation: 'delete',
      actor: { ...base.actor, id: `user:${who}`, displayName: who },
      objectRef: { ...base.objectRef, resource: 'deployments', name, namespace: 'web' },
    });
    // v1 topic, v1 layout (an older enrich); v2 topic, both layouts (a rolling enrich upgrade writes either).
    await produceEnriched(producer, v1Topic, [deleted('old', 'a')], { layout: 'v1' });
    await produceEnriched(producer, topics.enriched, [deleted('rolling', 'b')], { layout: 'v1' });
    await produceEnriched(producer, topics.enriched, [deleted('grouped', 'c'), deleted('grouped', 'd')]);
    // One v2 record: good, bad, good — the bad one alone goes to the DLQ.
    const bad = Buffer.from('not avro');
    const [mixed] = encodeEnrichedBatches([codec.encode(deleted('mixed', 'e')), bad, codec.encode(deleted('mixed', 'f'))]);
    const headers = { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint, cluster: base.cluster };
    await producer.send(topics.enriched, [{ key: `${base.cluster}/user:mixed`, value: mixed as Buffer, headers }]);
    // A damaged frame: dead-lettered whole (its event bounds are unknown).
    const [whole] = encodeEnrichedBatches([codec.encode(deleted('damaged', 'g'))]);
    const damaged = (whole as Buffer).subarray(0, (whole as Buffer).length - 3);
    await producer.send(topics.enriched, [{ key: `${base.cluster}/user:damaged`, value: damaged, headers }]);

    await caughtUp(admin, group, topics.enriched);
    await caughtUp(admin, group, v1Topic);
    const alerts = (await consumeAll(kafka, topics.alerts, 6, 60_000)).map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')));
    expect(alerts.map((a) => a.summary.split(' deleted ')[1]).sort()).toEqual(['deployments/a', 'deployments/b', 'deployments/c', 'deployments/d', 'deployments/e', 'deployments/f']);
    expect(new Set(alerts.map((a) => a.alertId)).size).toBe(6);

    const dead = await consumeAll(kafka, topics.dlq, 2, 60_000);
    expect(dead).toHaveLength(2);
    const one = dead.find((d) => d.headers[DLQ_HEADERS.stage]?.toString() === 'decode-avro');
    expect(one?.value?.equals(bad)).toBe(true);
    expect(one?.headers[ENRICHED_EVENT_INDEX_HEADER]?.toString()).toBe('1');
    expect(one?.headers[SCHEMA_FINGERPRINT_HEADER]?.toString()).toBe(String(codec.fingerprint));
    expect(one?.headers[DLQ_HEADERS.topic]?.toString()).toBe(topics.enriched);
    const frame = dead.find((d) => d.headers[DLQ_HEADERS.stage]?.toString() === 'read-frame');
    expect(frame?.value?.equals(damaged)).toBe(true);
    expect(frame?.headers[ENRICHED_EVENT_INDEX_HEADER]).toBeUndefined();
  });
});
