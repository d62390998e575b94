import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord, type AlertRecord, type AuditRecord } from '@kaudit/audit-schema';
import { runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { DLQ_HEADERS, headerString, type KafkaClient, type Producer } from '@kaudit/kafka';
import { consumeAll, silentLogger, uniqueName } from '@kaudit/testkit';
import { startSinkUnderTest, sinkTestConfig, openSinkTestClients, type SinkTestClients } from './test-support/sink-under-test.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('sink-test');
const codec = new AuditRecordCodec();
let ch: ClickHouse;
let kafka: KafkaClient;
let producer: Producer;
let clients: SinkTestClients;

beforeAll(async () => {
  clients = await openSinkTestClients('sink-test', logger);
  ({ ch, kafka, producer } = clients);
});
afterAll(() => clients.close());

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  return (await ch.query({ query, query_params: params, format: 'JSONEachRow' })).json<T>();
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A fresh database + topics and an in-process sink built by buildSink, as main.ts builds it. */
async function startSink() {
  const db = uniqueName('sink');
  await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
  const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
  const admin = kafka.admin();
  await admin.start();
  await admin.ensureTopics([
    { topic: topics.enriched, partitions: 3 },
    { topic: topics.alerts, partitions: 1 },
    { topic: topics.dlq, partitions: 1 },
  ]);
  await admin.stop();
  const service = await startSinkUnderTest(sinkTestConfig({ database: db, topics, env: { SINK_RETRY_MAX_MS: '1000' } }), { logger, kafka, clickhouse: ch });
  await service.service.waitForAssignment(60_000);
  return { db, topics, service };
}

const full: AuditRecord = sampleAuditRecord({
  cluster: 'prod-us-2',
  provider: 'eks',
  auditID: 'a1b2c3d4-0000-4000-8000-000000000001',
  stage: 'ResponseComplete',
  level: 'RequestResponse',
  requestReceivedUs: 1_763_800_123_456_789,
  stageUs: 1_763_800_123_556_790,
  ingestedUs: 1_763_800_124_000_001,
  latencyMs: 100.25,
  verb: 'patch',
  requestURI: '/apis/apps/v1/namespaces/shop/deployments/nginx?fieldManager=kubectl',
  objectRef: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: 'scale', namespace: 'shop', name: 'nginx', uid: 'uid-1' },
  response: { code: 201, status: 'Success', reason: 'Created', message: 'ok' },
  authorization: { decision: 'allow', reason: 'RBAC: allowed by ClusterRoleBinding "admins"' },
  annotations: { 'pod-security.kubernetes.io/enforce-policy': 'restricted:latest' },
  user: { username: 'arn:aws:sts::123:assumed-role/admin/alice', uid: 'aws-iam-authenticator:123:AROA', groups: ['system:authenticated', 'admins'], extra: { sessionName: 'alice', accessKeyId: 'AKIA' } },
  impersonatedUser: { username: 'bob', uid: 'u-bob', groups: ['devs'], extra: { scope: 'x,y' } },
  sourceIPs: ['10.1.2.3', '2001:db8::1'],
  userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46',
  client: { name: 'kubectl', version: 'v1.31.2' },
  actor: { id: 'aws:123:role/admin/alice', kind: 'human', displayName: 'Alice Liddell', email: 'alice@example.com', team: 'payments', account: '123', resolvedBy: 'directory-file' },
  ownerTeam: 'shop',
  operation: 'scale',
  security: {
    privileged: true, hostNetwork: true, hostPID: true, hostIPC: true, hostPaths: ['/var/run/docker.sock'], addedCapabilities: ['SYS_ADMIN'],
    images: ['nginx:1.27'], clusterAdminBinding: true, wildcardRole: true, podExecRole: true, credentialLikeKeys: ['password'],
  },
  requestObject: '{"spec":{"replicas":3}}',
  responseObject: '{"status":{"replicas":3}}',
  truncated: true,
  summary: 'Alice Liddell scaled Deployment shop/web in prod-eu-1',
});

interface StoredRow {
  [column: string]: unknown;
}

/** The inverse of toAuditRow for a record without nulls: what ClickHouse returns must rebuild the record exactly. */
function recordFromRow(r: StoredRow): AuditRecord {
  const us = (iso: unknown) => {
    const s = String(iso);
    const [whole, frac = '0'] = s.replace('Z', '').split('.');
    return (Date.parse(`${whole}Z`) / 1000) * 1_000_000 + Number(frac.padEnd(6, '0'));
  };
  const str = (k: string) => String(r[k]);
  return {
    cluster: str('cluster'), provider: str('provider') as AuditRecord['provider'], auditID: str('audit_id'), stage: str('stage'), level: str('level'),
    requestReceivedUs: us(r.event_time), stageUs: us(r.stage_time), ingestedUs: us(r.ingested_at), latencyMs: Number(r.latency_ms),
    verb: str('verb'), requestURI: str('request_uri'),
    objectRef: { apiGroup: str('object_api_group'), apiVersion: str('object_api_version'), resource: str('object_resource'), subresource: str('object_subresource'), namespace: str('object_namespace'), name: str('object_name'), uid: str('object_uid') },
    response: { code: Number(r.response_code), status: str('response_status'), reason: str('response_reason'), message: str('response_message') },
    authorization: { decision: str('authz_decision'), reason: str('authz_reason') },
    annotations: r.annotations as Record<string, string>,
    user: { username: str('user_name'), uid: str('user_uid'), groups: r.user_groups as string[], extra: r.user_extra as Record<string, string> },
    impersonatedUser: r.impersonated ? { username: str('impersonated_user_name'), uid: str('impersonated_user_uid'), groups: r.impersonated_user_groups as string[], extra: r.impersonated_user_extra as Record<string, string> } : null,
    sourceIPs: r.source_ips as string[], userAgent: str('user_agent'), client: { name: str('client_name'), version: str('client_version') },
    actor: { id: str('actor_id'), kind: str('actor_kind') as AuditRecord['actor']['kind'], displayName: str('actor_display_name'), email: str('actor_email'), team: str('actor_team'), account: str('actor_account'), resolvedBy: str('actor_resolved_by') },
    ownerTeam: str('owner_team'), operation: str('operation') as AuditRecord['operation'],
    security: {
      privileged: r.sec_privileged as boolean, hostNetwork: r.sec_host_network as boolean, hostPID: r.sec_host_pid as boolean, hostIPC: r.sec_host_ipc as boolean,
      hostPaths: r.sec_host_paths as string[], addedCapabilities: r.sec_added_capabilities as string[], images: r.sec_images as string[],
      clusterAdminBinding: r.sec_cluster_admin_binding as boolean, wildcardRole: r.sec_wildcard_role as boolean, podExecRole: r.sec_pod_exec_role as boolean,
      credentialLikeKeys: r.sec_credential_like_keys as string[],
    },
    requestObject: str('request_object'), responseObject: str('response_object'), truncated: r.truncated as boolean, summary: str('summary'),
  };
}

const encoded = (r: AuditRecord) => ({ key: `${r.cluster}/${r.actor.id}`, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } });

describe('migrations', () => {
  it('create every table from an empty database, and re-applying changes nothing', async () => {
    const db = uniqueName('migr');
    const first = await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 30 } });
    expect(first.applied.length).toBeGreaterThanOrEqual(3);
    const tables = await rows<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name', { db });
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['alerts', 'audit_events', 'audit_rollup_1m', 'audit_rollup_1m_v2', 'audit_rollup_1m_v2_mv', 'audit_load_1m', 'audit_load_1m_mv', 'schema_migrations']));
    // The deprecated v1 rollup keeps its table (older readers) but no view: inserts no longer pay for it (0010).
    expect(tables.map((t) => t.name)).not.toContain('audit_rollup_1m_mv');
    const [create] = await rows<{ statement: string }>(`SHOW CREATE TABLE ${db}.audit_events`);
    expect(create?.statement).toContain('toIntervalDay(30)');
    const again = await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 30 } });
    expect(again).toEqual({ applied: [], skipped: first.applied });
    await ch.command({ query: `DROP DATABASE ${db}` });
  });
});

describe('the sink', () => {
  let ctx: Awaited<ReturnType<typeof startSink>>;
  beforeAll(async () => {
    ctx = await startSink();
  });
  afterAll(async () => {
    await ctx.service.lifecycle.stop();
    await ch.command({ query: `DROP DATABASE IF EXISTS ${ctx.db}` });
  });

  it('stores an enriched record as a row with every field, and the per-minute rollup counts it (the deprecated v1 rollup no longer)', async () => {
    await producer.send(ctx.topics.enriched, [encoded(full)]);
    await waitFor('the row', async () => (await rows(`SELECT 1 FROM ${ctx.db}.audit_events WHERE audit_id = {id:String}`, { id: full.auditID })).length === 1);
    const [row] = await rows<StoredRow>(`SELECT * FROM ${ctx.db}.audit_events WHERE audit_id = {id:String}`, { id: full.auditID });
    expect(recordFromRow(row as StoredRow)).toEqual(full);
    expect(row).toMatchObject({ _topic: ctx.topics.enriched });
    const rollup = await rows<{ n: string; who: string }>(
      `SELECT toString(uniqExactMerge(requests)) AS n, anyLast(actor_display_name) AS who FROM ${ctx.db}.audit_rollup_1m_v2 WHERE actor_id = {a:String}`,
      { a: full.actor.id },
    );
    expect(rollup).toEqual([{ n: '1', who: 'Alice Liddell' }]);
    expect(await rows(`SELECT requests FROM ${ctx.db}.audit_rollup_1m WHERE actor_id = {a:String}`, { a: full.actor.id })).toEqual([]);
  });

  it('dead-letters undecodable records and rows ClickHouse rejects (with its error), and stores the rest', async () => {
    const good = [1, 2, 3].map((i) => sampleAuditRecord({ auditID: `good-${i}`, cluster: 'dlq-test' }));
    const rejected = sampleAuditRecord({ auditID: 'rejected-1', cluster: 'dlq-test', response: { code: -5, status: null, reason: null, message: null } });
    await producer.send(ctx.topics.enriched, [
      { ...encoded(good[0] as AuditRecord), partition: 0 },
      { ...encoded(rejected), partition: 0 },
      { key: 'x', value: Buffer.from('not avro at all'), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint }, partition: 0 },
      { ...encoded(good[1] as AuditRecord), partition: 0 },
      { ...encoded(good[2] as AuditRecord), partition: 0 },
    ]);
    const dlq = await consumeAll(kafka, ctx.topics.dlq, 2);
    expect(dlq).toHaveLength(2);
    const byCode = new Map(dlq.map((d) => [headerString(d.headers, DLQ_HEADERS.code), d]));
    const chRejected = byCode.get('CLICKHOUSE_REJECTED');
    expect(headerString(chRejected?.headers ?? {}, DLQ_HEADERS.reason)).toMatch(/CANNOT_PARSE_NUMBER|response_code/);
    expect(codec.decode(chRejected?.value as Buffer, codec.fingerprint).auditID).toBe('rejected-1');
    const undecodable = byCode.get('INPUT_INVALID');
    expect(undecodable?.value?.toString()).toBe('not avro at all');
    await waitFor('the good rows', async () => (await rows(`SELECT 1 FROM ${ctx.db}.audit_events WHERE cluster = 'dlq-test'`)).length === 3);
    const ids = await rows<{ audit_id: string }>(`SELECT audit_id FROM ${ctx.db}.audit_events WHERE cluster = 'dlq-test' ORDER BY audit_id`);
    expect(ids.map((r) => r.audit_id)).toEqual(['good-1', 'good-2', 'good-3']);
  });

  it('an undecodable record in the middle of a streamed block leaves no partial block behind', async () => {
    // Big enough that the rows before the bad record fill several chunks of the insert's body: those are sent
    // before the bad record is reached, and must not be committed.
    const good = Array.from({ length: 200 }, (_, i) => sampleAuditRecord({ auditID: `stream-${i}`, cluster: 'stream-test', requestObject: JSON.stringify({ pad: 'p'.repeat(2000) }) }));
    await producer.send(ctx.topics.enriched, [
      ...good.slice(0, 150).map((r) => ({ ...encoded(r), partition: 1 })),
      { key: 'x', value: Buffer.from([0xff, 0xff, 0xff]), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint }, partition: 1 },
      ...good.slice(150).map((r) => ({ ...encoded(r), partition: 1 })),
    ]);
    await waitFor('the rows', async () => (await rows(`SELECT 1 FROM ${ctx.db}.audit_events WHERE cluster = 'stream-test'`)).length >= 200);
    const [stored] = await rows<{ n: string; u: string }>(`SELECT toString(count()) AS n, toString(uniqExact(audit_id)) AS u FROM ${ctx.db}.audit_events WHERE cluster = 'stream-test'`);
    expect(stored).toEqual({ n: '200', u: '200' });
  });

  it('stores alerts from the alerts topic, one row per alertId', async () => {
    const alert: AlertRecord = {
      alertId: 'al-1', ruleId: 'exec-into-pod', ruleName: 'Exec into pod', severity: 'high', tags: ['T1609'], cluster: 'prod-us-2',
      summary: 'Alice exec into shop/web-0', count: 2, firstSeenUs: 1_763_800_000_000_000, lastSeenUs: 1_763_800_060_000_000,
      actor: { id: 'user:alice', displayName: 'Alice', team: 'payments' }, objectRef: { resource: 'pods', namespace: 'shop', name: 'web-0' },
      ownerTeam: 'shop', auditIDs: ['x', 'y'], createdUs: 1_763_800_061_000_000,
    };
    await producer.send(ctx.topics.alerts, [{ key: alert.alertId, value: JSON.stringify(alert) }, { key: 'bad', value: '{"alertId":' }]);
    await waitFor('the alert', async () => (await rows(`SELECT 1 FROM ${ctx.db}.alerts`)).length === 1);
    const [row] = await rows<StoredRow>(`SELECT alert_id, rule_id, severity, tags, count, actor_display_name, object_name, audit_ids, first_seen FROM ${ctx.db}.alerts FINAL`);
    expect(row).toEqual({
      alert_id: 'al-1', rule_id: 'exec-into-pod', severity: 'high', tags: ['T1609'], count: 2, actor_display_name: 'Alice', object_name: 'web-0',
      audit_ids: ['x', 'y'], first_seen: '2025-11-22T08:26:40.000000Z',
    });
  });

  it('keeps a dedup window\'s follow-up next to its first alert (same alertId), and collapses a replayed copy of either', async () => {
    const first: AlertRecord = {
      alertId: 'al-2', ruleId: 'forbidden-storm', ruleName: '403 storm', severity: 'medium', tags: [], cluster: 'prod-us-2',
      summary: 'Bob got 403s', count: 1, firstSeenUs: 1_763_800_000_000_000, lastSeenUs: 1_763_800_000_000_000,
      actor: { id: 'user:bob', displayName: 'Bob', team: null }, objectRef: { resource: 'secrets', namespace: 'shop', name: 'db' },
      ownerTeam: null, auditIDs: ['a'], createdUs: 1_763_800_000_100_000,
    };
    const followUp: AlertRecord = { ...first, summary: 'Bob got 403s — and 999 more times in 1 minute', count: 1000, lastSeenUs: 1_763_800_059_000_000, createdUs: 1_763_800_060_000_000, followUp: true };
    // The follow-up twice (a producer retry): two Kafka records, one notification.
    const send = (a: AlertRecord) => ({ key: a.alertId, value: JSON.stringify(a) });
    await producer.send(ctx.topics.alerts, [send(first), send(followUp), send(followUp)]);
    await waitFor('the alerts', async () => (await rows(`SELECT 1 FROM ${ctx.db}.alerts WHERE alert_id = 'al-2'`)).length === 3);
    // A real merge, not only FINAL: it must collapse the replay and keep the first.
    await ch.command({ query: `OPTIMIZE TABLE ${ctx.db}.alerts FINAL` });
    const stored = await rows<{ alert_id: string; follow_up: boolean; count: number; summary: string }>(`SELECT alert_id, follow_up, count, summary FROM ${ctx.db}.alerts WHERE alert_id = 'al-2' ORDER BY follow_up`);
    expect(stored).toEqual([
      { alert_id: 'al-2', follow_up: false, count: 1, summary: 'Bob got 403s' },
      { alert_id: 'al-2', follow_up: true, count: 1000, summary: 'Bob got 403s — and 999 more times in 1 minute' },
    ]);
  });
});
