import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, alertRecordSchema, sampleAuditRecord, SCHEMA_FINGERPRINT_HEADER, type AuditRecord } from '@kaudit/audit-schema';
import { createKafkaClient, type KafkaAdmin, type KafkaClient, type Producer } from '@kaudit/kafka';
import { consumeAll, silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { alertTestTopics, createAlertTestTopics, startAlertInProcess, type AlertTestTopics } from '../test-support/alert-test-service.js';
import { caughtUp } from '../test-support/caught-up.js';

// issue 15 §2: a binding names only its role; what the role grants was in the role's own write,
// which another user made — another partition of the enriched topic, maybe another process.
const RULES = `rules:
  - id: custom-powerful-binding
    name: Binding to a custom powerful role
    severity: high
    output: "{actor.displayName} bound {objectRef.name}"
    match:
      all:
        - { field: objectRef.resource, in: [clusterrolebindings, rolebindings] }
        - { roleRefPowerful: true }
`;

/** Long enough never to run out in a test: the point is the order of reading, not the clock. */
const GRACE = { ALERT_ROLE_FACT_GRACE_MS: '600000' };

const codec = new AuditRecordCodec();
const base = sampleAuditRecord();

function write(o: { id: string; user: string; resource: string; namespace: string | null; name: string; body: object; code?: number }): AuditRecord {
  return {
    ...base,
    auditID: o.id,
    requestReceivedUs: Date.now() * 1000,
    verb: 'create',
    operation: 'rbac-change',
    response: { ...base.response, code: o.code ?? 201 },
    actor: { ...base.actor, id: `user:${o.user}`, displayName: o.user },
    objectRef: { ...base.objectRef, apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1', resource: o.resource, namespace: o.namespace, name: o.name },
    requestObject: JSON.stringify(o.body),
  };
}

const clusterRole = (id: string, name: string, verbs: string[], code?: number) =>
  write({ id, user: 'alice', resource: 'clusterroles', namespace: null, name, code, body: { kind: 'ClusterRole', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name }, rules: [{ apiGroups: [''], resources: ['pods'], verbs }] } });
const role = (id: string, namespace: string, name: string, verbs: string[]) =>
  write({ id, user: 'alice', resource: 'roles', namespace, name, body: { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name, namespace }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs }] } });
const clusterBinding = (id: string, name: string, roleName: string) =>
  write({ id, user: 'bob', resource: 'clusterrolebindings', namespace: null, name, body: { kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'mallory@example.com' }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName } } });
const roleBinding = (id: string, namespace: string, name: string, roleName: string) =>
  write({ id, user: 'bob', resource: 'rolebindings', namespace, name, body: { kind: 'RoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name, namespace }, subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace }], roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName } } });

/**
 * Writes to a chosen partition: alice's records to 0, bob's to 1, as enrich's cluster/user keys
 * would spread two users — made explicit so the cross-partition case is certain, not likely.
 */
async function produceTo(producer: Producer, topic: string, partition: number, records: readonly AuditRecord[]): Promise<void> {
  await producer.send(
    topic,
    records.map((r) => ({ key: `${r.cluster}/${r.actor.id}`, partition, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } })),
  );
}

async function alertsOn(kafka: KafkaClient, topic: string, count: number): Promise<string[]> {
  const records = await consumeAll(kafka, topic, count, 60_000);
  return records.map((r) => alertRecordSchema.parse(JSON.parse(r.value?.toString() ?? '')).objectRef.name ?? '').sort();
}

describe('a binding read before its role is known powerful (real Kafka)', () => {
  const logger = silentLogger('binding-before-role-fact');
  const { kafkaBrokers } = testEndpoints();
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: Producer;
  const stops: (() => Promise<void>)[] = [];

  const start = async (group: string, topics: AlertTestTopics) => {
    const s = await startAlertInProcess({ kafka, producer, kafkaBrokers, group, topics, rules: RULES, registry: new Registry(), logger, env: GRACE });
    stops.push(s.stop);
    return s.stop;
  };

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'binding-before-role-fact', logger });
    admin = kafka.admin();
    await admin.start();
    producer = kafka.producer();
    await producer.start();
  });

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await producer?.stop();
    await admin?.stop();
  });

  it('alerts once the role write, by another user on another partition and process, is read', async () => {
    const topics = alertTestTopics();
    const group = uniqueName('alert');
    await createAlertTestTopics(admin, topics, 2);
    // Two processes in one group share the two partitions.
    await start(group, topics);
    await start(group, topics);
    const id = (s: string) => `${group}-${s}`;
    // Bob's bindings are read and committed before any of alice's role writes exists.
    await produceTo(producer, topics.enriched, 1, [
      clusterBinding(id('b1'), 'ops-all-mallory', 'ops-all'),
      roleBinding(id('b2'), 'shop', 'role-writer-ci', 'role-writer'),
      clusterBinding(id('b3'), 'reader-mallory', 'reader'),
      clusterBinding(id('b4'), 'denied-mallory', 'denied'),
    ]);
    await caughtUp(admin, group, topics.enriched);
    await produceTo(producer, topics.enriched, 0, [
      clusterRole(id('r1'), 'ops-all', ['*']),
      role(id('r2'), 'shop', 'role-writer', ['get', 'escalate']),
      clusterRole(id('r3'), 'reader', ['get', 'list', 'watch']),
      clusterRole(id('r4'), 'denied', ['*'], 403),
    ]);
    await caughtUp(admin, group, topics.enriched);
    // The * verbs ClusterRole and the escalate Role alert; the read-only and the refused one do not.
    expect(await alertsOn(kafka, topics.alerts, 2)).toEqual(['ops-all-mallory', 'role-writer-ci']);
  });

  it('still alerts when the process holding the binding stopped before the role write was read', async () => {
    const topics = alertTestTopics();
    const group = uniqueName('alert');
    await createAlertTestTopics(admin, topics, 2);
    const id = (s: string) => `${group}-${s}`;
    const stopFirst = await start(group, topics);
    await produceTo(producer, topics.enriched, 1, [clusterBinding(id('b1'), 'impersonators-support', 'impersonator')]);
    await caughtUp(admin, group, topics.enriched);
    // Its offset is committed: only the held-bindings checkpoint remembers it now.
    await stopFirst();
    stops.splice(stops.indexOf(stopFirst), 1);
    await start(group, topics);
    await produceTo(producer, topics.enriched, 0, [clusterRole(id('r1'), 'impersonator', ['impersonate'])]);
    await caughtUp(admin, group, topics.enriched);
    expect(await alertsOn(kafka, topics.alerts, 1)).toEqual(['impersonators-support']);
    // Released with a tombstone, so compaction removes it: held bindings do not pile up in the state topic.
    const state = await consumeAll(kafka, topics.state, 1_000, 15_000);
    const held = state.filter((r) => r.key?.toString('utf8').startsWith('role-held:'));
    expect(held.map((r) => r.value === null)).toEqual([false, true]);
  });

  it('a role learnt by a process that has since stopped is known to the process that reads its binding', async () => {
    const topics = alertTestTopics();
    const group = uniqueName('alert');
    await createAlertTestTopics(admin, topics, 2);
    const id = (s: string) => `${group}-${s}`;
    const stopFirst = await start(group, topics);
    await produceTo(producer, topics.enriched, 0, [clusterRole(id('r1'), 'binder', ['bind', 'get'])]);
    await caughtUp(admin, group, topics.enriched);
    await stopFirst();
    stops.splice(stops.indexOf(stopFirst), 1);
    // Only the state topic carries what the first process learnt; the grace (10 min) would outlast the test.
    await start(group, topics);
    await produceTo(producer, topics.enriched, 1, [clusterBinding(id('b1'), 'binder-mallory', 'binder')]);
    await caughtUp(admin, group, topics.enriched);
    expect(await alertsOn(kafka, topics.alerts, 1)).toEqual(['binder-mallory']);
  });
});
