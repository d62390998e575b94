import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecordCodec, SCHEMA_FINGERPRINT_HEADER, sampleAuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, roleUserSpecs, roleUserStatements, runMigrations, sha256Hex, type ClickHouse } from '@kaudit/clickhouse';
import { clickhousePaths, freePort, readLocalRoleCredentials, startClickHouse, stopPid, type LocalRoleCredentials } from '@kaudit/stack';
import { auditEventsTarget, alertsTarget, BatchSink, SinkService, toAuditRow } from '@kaudit/sink';
import { createKafkaClient, DeadLetterWriter } from '@kaudit/kafka';
import { createTelemetry } from '@kaudit/logging';
import { Registry } from 'prom-client';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';
import { setupPipeline } from './setup-command.js';

/**
 * Issue 11 §2: nobody reading the audit record gets in where they don't belong. A private real
 * ClickHouse (the local engine, started with the role users exactly as `npm start` starts it) is
 * probed as the query user and as the sink user with what a live probe of main could do through
 * `kaudit sql`: read and write files on the server host, fetch URLs, remote() (which crashed the
 * server), lift readonly, read system tables, write to the audit tables.
 */
const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('role-users-test');
const paths = repoPaths();
const database = uniqueName('access');
const dir = join(paths.state, 'stack', uniqueName('access'), 'clickhouse');
const planted = join(dir, 'planted.txt');
let port: number;
let url: string;
let pid: number;
let creds: LocalRoleCredentials;
let admin: ClickHouse;
let asQuery: ClickHouse;
let asSink: ClickHouse;

/** The ClickHouse error code (e.g. '497' ACCESS_DENIED) a query fails with, or 'ok'. */
async function outcome(client: ClickHouse, query: string, settings: Record<string, string> = {}): Promise<string> {
  try {
    const rs = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: settings });
    await rs.json();
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}
async function commandOutcome(client: ClickHouse, query: string): Promise<string> {
  try {
    await client.command({ query });
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code ?? (err as Error).message);
  }
}

async function kaudit(env: Record<string, string>, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = buildProgram({ env: { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database, ...env }, paths, logger, out: (t) => out.push(t), setExitCode: () => undefined });
  program.exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return out.join('\n');
}

const T0 = Date.parse('2026-03-10T09:30:00Z') * 1000;
const RANGE = ['--since', '2026-03-10T08:00:00Z', '--until', '2026-03-10T12:00:00Z'];

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  pid = await startClickHouse({ dir, cacheDir: join(paths.state, 'cache'), httpPort: port, logger, roleUsers: { database } });
  const found = readLocalRoleCredentials(dir);
  if (!found) throw new Error('the local engine wrote no role-users file');
  creds = found;
  admin = createClickHouse({ url });
  asQuery = createClickHouse({ url, username: creds.query.user, password: creds.query.password });
  asSink = createClickHouse({ url, username: creds.sink.user, password: creds.sink.password });
  await runMigrations({ client: admin, dir: MIGRATIONS, database, logger, vars: { retention_days: 3650 } });
  const deleted = sampleAuditRecord({
    auditID: 'rbac-1', cluster: 'prod-eu-1', verb: 'delete', operation: 'delete', requestReceivedUs: T0, stageUs: T0,
    actor: { id: 'aws:123:role/admin/bob', kind: 'human', displayName: 'Bob Builder', email: 'bob@example.com', team: 'sre', account: '123', resolvedBy: 'directory-file' },
    objectRef: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'shop', name: 'nginx', uid: null },
  });
  await admin.insert({ table: `${database}.audit_events`, format: 'JSONEachRow', values: [toAuditRow(deleted, { topic: 't', partition: 0, offset: '0', timestamp: '0' })] });
}, 120_000);

afterAll(async () => {
  await Promise.all([admin, asQuery, asSink].filter(Boolean).map((c) => c.close()));
  if (pid) await stopPid(pid, clickhousePaths(dir).pid, 15_000);
  rmSync(join(dir, '..'), { recursive: true, force: true });
}, 60_000);

describe('the read-only query user (kaudit ask / sql / demo, Grafana)', () => {
  it('cannot read or write files on the server host, fetch URLs, or reach remote()/s3()', async () => {
    expect(await outcome(asQuery, "SELECT * FROM file('/etc/passwd', 'LineAsString')")).toBe('497');
    expect(await outcome(asQuery, `SELECT * FROM file('${join(dir, 'role-users.json')}', 'LineAsString')`)).toBe('497');
    expect(await commandOutcome(asQuery, `INSERT INTO FUNCTION file('${planted}', 'LineAsString') SELECT 'pwned'`)).toMatch(/^(497|164)$/);
    expect(existsSync(planted)).toBe(false);
    expect(await outcome(asQuery, `SELECT * FROM url('${url}/ping', 'LineAsString')`)).toBe('497');
    expect(await outcome(asQuery, `SELECT * FROM remote('127.0.0.1:${port}', system.one)`)).toBe('497');
    expect(await outcome(asQuery, `SELECT * FROM s3('${url}/bucket/key.csv', 'LineAsString')`)).toBe('497');
    // The server survived all of that.
    expect(await outcome(admin, 'SELECT 1')).toBe('ok');
  });

  it('cannot lift readonly, nor write, nor change the schema', async () => {
    expect(await commandOutcome(asQuery, 'SET readonly = 0')).toBe('164');
    expect(await outcome(asQuery, 'SELECT 1', { readonly: '0' })).toBe('164');
    expect(await outcome(asQuery, 'SELECT 1', { readonly: '2' })).toBe('164');
    expect(await outcome(asQuery, 'SELECT 1', { async_insert: '1' })).toBe('164');
    // What Grafana's datasource sends on every query is allowed, within bounds.
    expect(await outcome(asQuery, 'SELECT 1', { max_execution_time: '30' })).toBe('ok');
    expect(await outcome(asQuery, 'SELECT 1', { max_execution_time: '100000' })).toBe('452');
    expect(await commandOutcome(asQuery, `INSERT INTO ${database}.audit_events (cluster) VALUES ('x')`)).toMatch(/^(497|164)$/);
    expect(await commandOutcome(asQuery, `DROP TABLE ${database}.audit_events`)).toMatch(/^(497|164)$/);
    expect(await commandOutcome(asQuery, `CREATE TABLE ${database}.x (a UInt8) ENGINE = Memory`)).toMatch(/^(497|164)$/);
    const [left] = await (await admin.query({ query: `SELECT count() AS n FROM ${database}.audit_events`, format: 'JSONEachRow' })).json<{ n: string }>();
    expect(left?.n).toBe('1');
  });

  it('cannot read who has access, what runs, or other databases', async () => {
    for (const table of ['system.users', 'system.grants', 'system.processes', 'system.settings_profiles', 'system.disks', 'system.server_settings']) {
      expect(await outcome(asQuery, `SELECT * FROM ${table} LIMIT 1`), table).toBe('497');
    }
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}_other` });
    await admin.command({ query: `CREATE TABLE IF NOT EXISTS ${database}_other.t (a UInt8) ENGINE = Memory` });
    expect(await outcome(asQuery, `SELECT * FROM ${database}_other.t`)).toBe('497');
  });

  it('answers the canned questions through the CLI, which queries as this user (CLICKHOUSE_USER/PASSWORD honoured)', async () => {
    const env = { KAUDIT_QUERY_CLICKHOUSE_USER: creds.query.user, KAUDIT_QUERY_CLICKHOUSE_PASSWORD: creds.query.password };
    const rows = JSON.parse(await kaudit(env, 'ask', 'who-deleted', 'deployment/nginx', ...RANGE, '--json')) as Record<string, unknown>[];
    expect(rows).toEqual([expect.objectContaining({ who: 'Bob Builder', namespace: 'shop' })]);
    for (const args of [['who-cordoned', '172.16.18.13'], ['load', '--by', 'user'], ['load', '--by', 'code'], ['forbidden'], ['exec']]) {
      await expect(kaudit(env, 'ask', ...args, ...RANGE, '--json'), args.join(' ')).resolves.toMatch(/^\[/);
    }
    const viaGenericVars = JSON.parse(await kaudit({ CLICKHOUSE_USER: creds.query.user, CLICKHOUSE_PASSWORD: creds.query.password }, 'sql', 'SELECT currentUser() AS u', '--json')) as unknown[];
    expect(viaGenericVars).toEqual([{ u: creds.query.user }]);
    // The probes of issue 11, through `kaudit sql`, fail on the server.
    await expect(kaudit(env, 'sql', "SELECT * FROM file('/etc/passwd', 'LineAsString')")).rejects.toThrow(/READ ON FILE/);
    await expect(kaudit(env, 'sql', `INSERT INTO FUNCTION file('${planted}', 'LineAsString') SELECT 'pwned'`)).rejects.toThrow(/readonly|WRITE ON FILE/);
    await expect(kaudit(env, 'sql', `DROP TABLE ${database}.audit_events`)).rejects.toMatchObject({ code: expect.stringMatching(/CLICKHOUSE_/) });
    expect(existsSync(planted)).toBe(false);
    // A wrong password is refused, not silently downgraded to another user.
    await expect(kaudit({ CLICKHOUSE_USER: creds.query.user, CLICKHOUSE_PASSWORD: 'wrong' }, 'sql', 'SELECT 1')).rejects.toThrow(/Authentication failed/);
  });
});

describe('the insert-only sink user', () => {
  it('inserts (with the sink’s deduplication token) and reads its stored offsets, and the rollup views follow', async () => {
    const record = sampleAuditRecord({ auditID: 'rbac-sink-1', cluster: 'prod-eu-1', requestReceivedUs: T0, stageUs: T0 });
    await asSink.insert({
      table: `${database}.audit_events`,
      format: 'JSONEachRow',
      values: [toAuditRow(record, { topic: 'kaudit.audit.enriched.v1', partition: 3, offset: '41', timestamp: String(Date.now()) })],
      clickhouse_settings: { insert_deduplication_token: 'kaudit.audit.enriched.v1:3:41-41', input_format_parallel_parsing: 0 },
    });
    // The sink's exactly-once check (BatchSink.storedMaxOffset).
    const rs = await asSink.query({
      query: 'SELECT toString(maxOrNull(_offset)) AS m FROM {db:Identifier}.{table:Identifier} WHERE _topic = {topic:String} AND _partition = {partition:UInt16} AND _offset >= {from:UInt64}',
      query_params: { db: database, table: 'audit_events', topic: 'kaudit.audit.enriched.v1', partition: 3, from: '0' },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ m: '41' }]);
    expect(await outcome(asSink, `SELECT count() FROM ${database}.alerts`)).toBe('ok');
    // The views run as their definer: the sink needs no grant on the rollups they fill (v2, and audit_load_1m).
    const [rolled] = await (await admin.query({ query: `SELECT uniqExactMerge(requests) AS n FROM ${database}.audit_rollup_1m_v2 WHERE cluster = 'prod-eu-1'`, format: 'JSONEachRow' })).json<{ n: string }>();
    expect(Number(rolled?.n)).toBeGreaterThanOrEqual(1);
    const [counted] = await (await admin.query({ query: `SELECT sum(requests) AS n FROM ${database}.audit_load_1m WHERE cluster = 'prod-eu-1' AND dimension = 'verb'`, format: 'JSONEachRow' })).json<{ n: string }>();
    expect(Number(counted?.n)).toBeGreaterThanOrEqual(1);
    // The deprecated v1 rollup is no longer filled (migration 0010 dropped its view).
    const [v1] = await (await admin.query({ query: `SELECT count() AS n FROM ${database}.audit_rollup_1m`, format: 'JSONEachRow' })).json<{ n: string }>();
    expect(Number(v1?.n)).toBe(0);
  });

  it('is enough for the real sink: every query BatchSink makes (stored positions, running inserts, the insert) works as this user', async () => {
    // What ships is what runs: `npm start` and the chart run the sink as this user, so its grants must cover
    // every query the sink makes, not only the insert (system.processes for the previous-owner wait included).
    const kafka = createKafkaClient({ brokers: [testEndpoints().kafkaBrokers], clientId: 'role-users-sink', logger });
    const topics = { enriched: uniqueName('enriched'), alerts: uniqueName('alerts'), dlq: uniqueName('dlq') };
    const kadmin = kafka.admin();
    await kadmin.start();
    await kadmin.ensureTopics([{ topic: topics.enriched, partitions: 1 }, { topic: topics.alerts, partitions: 1 }, { topic: topics.dlq, partitions: 1 }]);
    await kadmin.stop();
    const producer = kafka.producer();
    await producer.start();
    const codec = new AuditRecordCodec();
    const records = Array.from({ length: 5 }, (_, i) => sampleAuditRecord({ auditID: `rbac-real-sink-${i}`, cluster: 'real-sink', requestReceivedUs: T0, stageUs: T0 }));
    await producer.send(topics.enriched, records.map((r) => ({ key: r.cluster, value: codec.encode(r), headers: { [SCHEMA_FINGERPRINT_HEADER]: codec.fingerprint } })));
    const telemetry = createTelemetry(logger, new Registry(), 'sink');
    const sink = new BatchSink({
      clickhouse: asSink,
      database,
      targets: new Map([[topics.enriched, auditEventsTarget(codec)], [topics.alerts, alertsTarget()]]),
      deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: topics.dlq }),
      telemetry,
    });
    const errors: unknown[] = [];
    const service = new SinkService({
      createConsumer: (hooks) =>
        kafka.consumer({ groupId: uniqueName('sink'), topics: [topics.enriched, topics.alerts], retryMaxMs: 500, ...hooks, onHandlerError: (err, batch, attempt) => { errors.push(err); hooks.onHandlerError(err, batch, attempt); } }),
      sink,
      telemetry,
    });
    try {
      await service.start();
      const deadline = Date.now() + 60_000;
      let stored = 0;
      while (Date.now() < deadline && stored < records.length && errors.length === 0) {
        const [row] = await (await admin.query({ query: `SELECT count() AS n FROM ${database}.audit_events WHERE cluster = 'real-sink'`, format: 'JSONEachRow' })).json<{ n: string }>();
        stored = Number(row?.n ?? 0);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(errors.map((e) => String((e as Error).message))).toEqual([]);
      expect(stored).toBe(records.length);
    } finally {
      await service.stop();
      await producer.stop();
    }
  });

  it('cannot read files, fetch URLs, reach remote(), read system tables, or change the schema', async () => {
    expect(await outcome(asSink, "SELECT * FROM file('/etc/passwd', 'LineAsString')")).toBe('497');
    expect(await commandOutcome(asSink, `INSERT INTO FUNCTION file('${planted}', 'LineAsString') SELECT 'pwned'`)).toBe('497');
    expect(existsSync(planted)).toBe(false);
    expect(await outcome(asSink, `SELECT * FROM url('${url}/ping', 'LineAsString')`)).toBe('497');
    expect(await outcome(asSink, `SELECT * FROM remote('127.0.0.1:${port}', system.one)`)).toBe('497');
    expect(await outcome(asSink, 'SELECT * FROM system.users')).toBe('497');
    // It may see which queries run (their ids, for the previous-owner wait), never what they say or who sent them.
    expect(await outcome(asSink, 'SELECT count() FROM system.processes WHERE startsWith(query_id, \'x\')')).toBe('ok');
    expect(await outcome(asSink, 'SELECT query FROM system.processes')).toBe('497');
    expect(await outcome(asSink, 'SELECT user FROM system.processes')).toBe('497');
    expect(await outcome(asSink, `SELECT * FROM ${database}.schema_migrations`)).toBe('497');
    expect(await commandOutcome(asSink, `DROP TABLE ${database}.audit_events`)).toBe('497');
    expect(await commandOutcome(asSink, `INSERT INTO ${database}.audit_rollup_1m (cluster) VALUES ('forged')`)).toBe('497');
  });
});

describe('kaudit setup and the role users', () => {
  const target = (roleUsers: Parameters<typeof setupPipeline>[0]['roleUsers']) => ({
    kafkaBrokers: testEndpoints().kafkaBrokers, clickhouse: { url }, database, retentionDays: 3650, migrationsDir: MIGRATIONS, ...(roleUsers ? { roleUsers } : {}),
  });

  it('checks each role user it has a password for, and says which it did not create', async () => {
    const result = await setupPipeline(target({ queryUser: creds.query.user, sinkUser: creds.sink.user, queryPassword: creds.query.password }), logger);
    expect(result.users).toEqual([
      { role: 'query', user: creds.query.user, outcome: 'server-config' },
      { role: 'sink', user: creds.sink.user, outcome: 'skipped' },
    ]);
    await expect(setupPipeline(target({ queryUser: creds.query.user, sinkUser: creds.sink.user, sinkPassword: 'not-the-password' }), logger)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  }, 60_000);

  it('prints SQL that the real engine parses, granting the query user SELECT on the kaudit database only', async () => {
    const out = await kaudit({ KAUDIT_QUERY_CLICKHOUSE_PASSWORD: 'q-secret' }, 'setup', '--print-sql');
    expect(out).toContain(`GRANT SELECT ON ${database}.* TO kaudit_query;`);
    expect(out).toContain('readonly = 1 CONST');
    expect(out).toContain(sha256Hex('q-secret'));
    expect(out).not.toContain('q-secret');
    expect(out).toMatch(/KAUDIT_SINK_CLICKHOUSE_PASSWORD not set/);
    for (const spec of roleUserSpecs({ database, queryUser: 'kaudit_query', sinkUser: 'kaudit_sink' })) {
      for (const statement of roleUserStatements(spec, sha256Hex('pw'))) {
        expect(await outcome(admin, `EXPLAIN AST ${statement}`), statement).toBe('ok');
      }
    }
  });
});
