import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { clickhousePaths, freePort, startClickHouse, stopPid } from '@kaudit/stack';
import { toAuditRow } from '@kaudit/sink';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';

/**
 * Cluster mode's Distributed layer on real engines (issue 13): two bundled engines (clickhouse-local), each
 * started privately with a `remote_servers` config naming both as two shards and serving the native TCP port
 * a Distributed table uses. The cluster rendering of the migrations runs on each (no Keeper here, so plain
 * engines and no ON CLUSTER — replication itself is not exercised), the same rows go in through the
 * Distributed table on one node and into one single-node database, and every `kaudit ask` question must
 * answer the same from both.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MIGRATIONS = join(REPO, 'migrations', 'clickhouse');
const CLUSTER = 'kaudit_two_shards';
const logger = silentLogger('ask-distributed-test');
const database = uniqueName('dist');
const root = join(REPO, '.kaudit', 'test-cluster', database);
interface Engine { dir: string; pid: number; url: string; client: ClickHouse }
const engines: Engine[] = [];
let single: ClickHouse;

const T0 = Date.parse('2026-03-10T09:00:00Z') * 1000;
const at = (minute: number, us = 0) => T0 + minute * 60_000_000 + us;
const RANGE = ['--since', '2026-03-10T08:00:00Z', '--until', '2026-03-10T12:00:00Z'];
const actor = (n: number): AuditRecord['actor'] => ({ id: `user:u${n}`, kind: 'human', displayName: `User ${n}`, email: `u${n}@example.com`, team: `team-${n % 3}`, account: null, resolvedBy: 'directory-file' });
const obj = (resource: string, name: string, namespace: string | null, subresource: string | null = null): AuditRecord['objectRef'] => ({ apiGroup: resource === 'deployments' ? 'apps' : '', apiVersion: 'v1', resource, subresource, namespace, name, uid: null });

/** Many requests over three clusters, so the rows spread over both shards; deletes and cordons in two stages. */
function seed(): AuditRecord[] {
  const rows: AuditRecord[] = [];
  const ev = (id: string, o: Partial<AuditRecord>) => rows.push(sampleAuditRecord({ auditID: id, ...o }));
  for (let i = 0; i < 8; i++) {
    for (const [s, stage] of ['RequestReceived', 'ResponseComplete'].entries()) {
      ev(`del-${i}`, { cluster: `c${i % 3}`, stage, verb: 'delete', operation: 'delete', requestReceivedUs: at(10 + i), stageUs: at(10 + i, s * 1000), actor: actor(i), objectRef: obj('deployments', 'nginx', `ns${i % 2}`) });
    }
  }
  for (let i = 0; i < 5; i++) ev(`cordon-${i}`, { cluster: `c${i % 3}`, verb: 'patch', operation: 'cordon', requestReceivedUs: at(30 + i), actor: actor(10 + i), requestURI: '/api/v1/nodes/node-7', objectRef: obj('nodes', 'node-7', null) });
  for (let i = 0; i < 12; i++) {
    ev(`forbid-${i}`, { cluster: `c${i % 3}`, verb: 'list', operation: 'list', requestReceivedUs: at(40, i), actor: actor(20 + (i % 4)), response: { code: 403, status: 'Failure', reason: 'Forbidden', message: 'forbidden' }, authorization: { decision: 'forbid', reason: '' }, objectRef: obj('secrets', '', 'shop') });
  }
  for (let i = 0; i < 6; i++) {
    ev(`exec-${i}`, { cluster: `c${i % 3}`, verb: 'create', operation: 'exec', requestReceivedUs: at(50 + i), actor: actor(30 + i), response: { code: 101, status: null, reason: null, message: null }, requestURI: `/api/v1/namespaces/shop/pods/web-${i}/exec?command=sh&container=web&stdin=true&tty=true`, objectRef: obj('pods', `web-${i}`, 'shop', 'exec') });
  }
  for (let i = 0; i < 90; i++) ev(`get-${i}`, { cluster: `c${i % 3}`, verb: 'get', requestReceivedUs: at(60 + (i % 7), i), actor: actor(40 + (i % 5)), response: { code: i % 10 === 0 ? 404 : 200, status: null, reason: null, message: null } });
  return rows;
}

const remoteServers = (tcpPorts: number[]) =>
  `  <remote_servers><${CLUSTER}>${tcpPorts.map((p) => `<shard><replica><host>127.0.0.1</host><port>${p}</port></replica></shard>`).join('')}</${CLUSTER}></remote_servers>\n`;

beforeAll(async () => {
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const [httpA, tcpA, httpB, tcpB] = ports as [number, number, number, number];
  for (const [name, httpPort, tcpPort] of [['a', httpA, tcpA], ['b', httpB, tcpB]] as const) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const pid = await startClickHouse({ dir, cacheDir: join(REPO, '.kaudit', 'cache'), httpPort, tcpPort, serverConfigXml: remoteServers([tcpA, tcpB]), logger });
    const url = `http://127.0.0.1:${httpPort}`;
    engines.push({ dir, pid, url, client: createClickHouse({ url }) });
  }
  // What ON CLUSTER would do: the cluster rendering on every node.
  for (const e of engines) {
    await runMigrations({ client: e.client, dir: MIGRATIONS, database, logger, vars: { retention_days: 3650 }, cluster: { cluster: CLUSTER, replicated: false, onCluster: false } });
  }
  single = createClickHouse({ url: testEndpoints().clickhouseUrl });
  await runMigrations({ client: single, dir: MIGRATIONS, database, logger, vars: { retention_days: 3650 } });

  const rows = seed().map((r, i) => toAuditRow(r, { topic: 't', partition: 0, offset: String(i), timestamp: '0' }));
  // Two deliveries of the same requests (an apiserver retry): a second insert, at other offsets.
  const again = rows.slice(0, 20).map((r, i) => ({ ...r, _offset: String(rows.length + i) }));
  const [a] = engines as [Engine];
  for (const batch of [rows, again]) {
    await single.insert({ table: `${database}.audit_events`, values: batch, format: 'JSONEachRow' });
    await a.client.insert({ table: `${database}.audit_events`, values: batch, format: 'JSONEachRow' });
  }
}, 240_000);

afterAll(async () => {
  await single?.command({ query: `DROP DATABASE IF EXISTS ${database}` }).catch(() => undefined);
  await single?.close();
  for (const e of engines) {
    await e.client.close();
    await stopPid(e.pid, clickhousePaths(e.dir).pid, 20_000);
  }
  rmSync(root, { recursive: true, force: true });
});

/**
 * Over 6 h `ask load` reads the per-minute counts of audit_load_1m instead of the distinct-request rollup. Eight hours
 * from 06:00, so the retried insert's rows (05:40, on the Distributed side only) stay out.
 */
const WIDE = ['--since', '2026-03-10T06:00:00Z', '--until', '2026-03-10T14:00:00Z'];

async function ask(url: string, ...args: string[]): Promise<Record<string, unknown>[]> {
  return askOver(RANGE, url, ...args);
}

async function askOver(range: string[], url: string, ...args: string[]): Promise<Record<string, unknown>[]> {
  const out: string[] = [];
  const program = buildProgram({ env: { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database, CLICKHOUSE_USER: 'default' }, paths: repoPaths(), logger, out: (t) => out.push(t), setExitCode: () => undefined });
  program.exitOverride();
  await program.parseAsync([...args, ...range, '--json'], { from: 'user' });
  return JSON.parse(out.join('\n')) as Record<string, unknown>[];
}

async function count(client: ClickHouse, query: string): Promise<number> {
  const [row] = await (await client.query({ query, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(row?.n ?? -1);
}

describe('a Distributed table over two engines (two shards) answers like one node', () => {
  it('spreads the rows over both shards by (cluster, audit_id), every copy of a request on one shard', async () => {
    const perShard = await Promise.all(engines.map((e) => count(e.client, `SELECT count() AS n FROM ${database}.audit_events_local`)));
    expect(perShard.every((n) => n > 0), String(perShard)).toBe(true);
    expect(perShard.reduce((x, y) => x + y, 0)).toBe(await count(single, `SELECT count() AS n FROM ${database}.audit_events`));
    const [a] = engines as [Engine];
    // Dedup is per shard: no (cluster, audit_id) is on both shards.
    expect(await count(a.client, `SELECT count() AS n FROM (SELECT cluster, audit_id FROM ${database}.audit_events GROUP BY cluster, audit_id HAVING uniqExact(_shard_num) > 1)`)).toBe(0);
    // The views ran on each shard's local table.
    expect(await Promise.all(engines.map((e) => count(e.client, `SELECT count() AS n FROM ${database}.audit_rollup_1m_v2_local`)))).not.toContain(0);
    expect(await Promise.all(engines.map((e) => count(e.client, `SELECT count() AS n FROM ${database}.audit_load_1m_local`)))).not.toContain(0);
  });

  it("a retried insert through the Distributed table with the same insert_deduplication_token (the sink's exactly-once) is stored once", async () => {
    const [a] = engines as [Engine];
    const rows = Array.from({ length: 40 }, (_, i) => toAuditRow(sampleAuditRecord({ cluster: `c${i % 3}`, auditID: `retry-${i}`, requestReceivedUs: at(-200, i) }), { topic: 'retry', partition: 0, offset: String(i), timestamp: '0' }));
    for (let attempt = 0; attempt < 2; attempt++) {
      await a.client.insert({ table: `${database}.audit_events`, values: rows, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'retry:0:0-39' } });
    }
    const perShard = await Promise.all(engines.map((e) => count(e.client, `SELECT count() AS n FROM ${database}.audit_events_local WHERE _topic = 'retry'`)));
    expect(perShard.every((n) => n > 0), String(perShard)).toBe(true);
    expect(perShard.reduce((x, y) => x + y, 0)).toBe(40);
  });

  const questions: [string, string[]][] = [
    ['who-deleted', ['ask', 'who-deleted', 'deployment/nginx']],
    ['who-cordoned', ['ask', 'who-cordoned', 'node-7']],
    ['forbidden', ['ask', 'forbidden']],
    ['exec', ['ask', 'exec']],
    ['load by user', ['ask', 'load', '--by', 'user']],
    ['load by verb', ['ask', 'load', '--by', 'verb']],
    ['load by code', ['ask', 'load', '--by', 'code']],
  ];
  for (const by of ['user', 'verb', 'code']) {
    it(`kaudit ask load --chart --by ${by}: the same per-minute series from the Distributed table as from one node`, async () => {
      const [a] = engines as [Engine];
      const args = ['ask', 'load', '--chart', '--by', by, '--limit', '3'];
      const one = (await ask(testEndpoints().clickhouseUrl, ...args)) as unknown as { series: unknown[] };
      const distributed = (await ask(a.url, ...args)) as unknown as { series: unknown[] };
      expect(one.series).toHaveLength(3);
      // The series are ordered by requests, ties by key: the whole answer must be equal, order included.
      expect(distributed).toEqual(one);
    });
  }
  for (const by of ['user', 'verb', 'code']) {
    it(`kaudit ask load --by ${by} over a long range (the per-minute counts): the same rows, chart included, from the Distributed table as from one node`, async () => {
      const [a] = engines as [Engine];
      for (const args of [['ask', 'load', '--by', by], ['ask', 'load', '--chart', '--by', by, '--limit', '3']]) {
        const one = await askOver(WIDE, testEndpoints().clickhouseUrl, ...args);
        const distributed = await askOver(WIDE, a.url, ...args);
        // Ranked by requests, ties by key: the whole answer must be equal, order included.
        expect(distributed).toEqual(one);
      }
      // Every request of the first insert counted once (the deletes' RequestReceived stage not at all); the second
      // insert's 20 rows (8 deletes in two stages, 4 cordons) are 12 requests a count cannot recognise, counted again.
      const total = (await askOver(WIDE, a.url, 'ask', 'load', '--by', by)).reduce((n, r) => n + Number(r.requests), 0);
      expect(total).toBe(8 + 5 + 12 + 6 + 90 + 12);
    });
  }
  for (const [name, args] of questions) {
    it(`kaudit ask ${name}: the same rows from the Distributed table as from one node`, async () => {
      const [a] = engines as [Engine];
      const one = await ask(testEndpoints().clickhouseUrl, ...args);
      const distributed = await ask(a.url, ...args);
      expect(one.length).toBeGreaterThan(0);
      // Rows that tie in the ORDER BY may come in either order on either side; the set and the count must match.
      const key = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
      expect(key(distributed)).toEqual(key(one));
    });
  }
});
