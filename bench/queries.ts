/**
 * The canned questions over a large generated audit_events table (issue 5: aim for 50M rows; "who deleted X"
 * under 200 ms). The table is built inside ClickHouse with INSERT … SELECT FROM numbers(N) — millions of rows in
 * seconds, through the real schema, so the per-minute rollup is filled by its materialized view as in
 * production — and the questions are asked through the real CLI (`kaudit ask …`, parameterised queries, a
 * fresh client per question as a user's command would have).
 *
 * Default scale: 3M rows over 7 days (about a minute to build on a shared 2-core machine); `--scale 17` is ~50M.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createClickHouse, runMigrations } from '@kaudit/clickhouse';
import { buildProgram } from 'kaudit';
import type { BenchFigure, BenchRun } from './bench-types.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const MIGRATIONS = fileURLToPath(new URL('../migrations/clickhouse/', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));
const DAYS = 7;

/**
 * One generated row per number: hashes of the number pick realistic distributions (2% writes get deleted, 1% are
 * 403s, 300 people + 60 service accounts, 12 resources, 40 namespaces, a few user agents). Built as SQL text only
 * from constants — nothing user-supplied — since it is INSERT … SELECT generation, not a question.
 */
function generateSql(db: string, rows: number, first: number, endSec: number, spanSec: number): string {
  const h = (k: number) => `cityHash64(number, ${k})`;
  return `INSERT INTO ${db}.audit_events
    (cluster, provider, audit_id, stage, level, event_time, stage_time, ingested_at, latency_ms, verb, request_uri,
     object_api_group, object_api_version, object_resource, object_namespace, object_name, response_code, authz_decision,
     user_name, user_groups, source_ips, user_agent, client_name, client_version,
     actor_id, actor_kind, actor_display_name, actor_email, actor_team, actor_resolved_by, owner_team, operation,
     _topic, _partition, _offset)
  SELECT
    ['prod-eu-1', 'prod-eu-2', 'prod-us-1', 'prod-ap-1', 'staging'][1 + ${h(1)} % 5] AS cluster,
    'eks', toString(generateUUIDv4(number)), 'ResponseComplete', 'Metadata',
    toDateTime64(${endSec} - ${spanSec} + number * ${spanSec} / ${rows}, 6) AS t,
    t + toIntervalMicrosecond(${h(2)} % 50000), t + toIntervalMillisecond(300), (${h(2)} % 50000) / 1000,
    ['get', 'get', 'get', 'get', 'list', 'list', 'watch', 'watch', 'update', 'patch', 'create', 'delete'][1 + ${h(3)} % 12] AS v,
    concat('/api/v1/namespaces/', ns, '/', res, '/', nm),
    if(res IN ('deployments', 'replicasets', 'statefulsets'), 'apps', ''), 'v1',
    ['pods', 'deployments', 'configmaps', 'secrets', 'services', 'nodes', 'leases', 'events', 'replicasets', 'endpoints', 'statefulsets', 'jobs'][1 + ${h(4)} % 12] AS res,
    if(res = 'nodes', '', concat('team-', toString(${h(5)} % 40))) AS ns,
    concat(if(res = 'nodes', 'ip-10-0-', concat(substring(res, 1, 3), '-')), toString(${h(6)} % 20000)) AS nm,
    [200, 200, 200, 200, 200, 200, 200, 200, 201, 404, 409, 403][1 + ${h(7)} % 12] AS code,
    if(code = 403, 'forbid', 'allow'),
    concat('user', toString(u), '@example.com') AS uname, ['system:authenticated'], [concat('10.', toString(${h(9)} % 256), '.', toString(${h(10)} % 256), '.7')],
    ['kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46', 'kube-controller-manager/v1.31.2', 'argocd-application-controller/v2.12', 'helm/v3.15.4', 'Go-http-client/2.0'][1 + ${h(11)} % 5] AS ua,
    splitByChar('/', ua)[1], '',
    if(u >= 300, concat('sa:kube-system:controller-', toString(u)), concat('user:', uname)) AS aid,
    if(u >= 300, 'serviceaccount', 'human'), if(u >= 300, concat('kube-system/controller-', toString(u)), concat('User ', toString(u))),
    if(u >= 300, '', uname), concat('team-', toString(u % 20)), 'directory-file', ns,
    multiIf(v IN ('get'), 'read', v = 'list', 'list', v = 'watch', 'watch', v) AS op,
    'bench', toUInt16(number % 6), number + ${first}
  -- u: the acting identity, skewed so a few are busy (like real controllers)
  FROM (SELECT number, toUInt32(if(${h(8)} % 10 < 6, ${h(12)} % 20, ${h(12)} % 360)) AS u FROM numbers(${rows}))
  SETTINGS max_insert_threads = 2`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export const run: BenchRun = async (ctx) => {
  const rows = Math.max(100_000, Math.round(3_000_000 * ctx.scale));
  const db = uniqueName('bench_queries');
  const ch = createClickHouse({ url: ctx.clickhouseUrl, requestTimeoutMs: 600_000 });
  const figures: BenchFigure[] = [];
  try {
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger: ctx.logger, vars: { retention_days: 3650 } });
    const endSec = Math.floor(Date.now() / 1000);
    const began = performance.now();
    // In slices of ≤ 5M rows so one INSERT never needs the whole table's memory at once.
    for (let done = 0; done < rows; done += 5_000_000) {
      const slice = Math.min(5_000_000, rows - done);
      const sliceEnd = endSec - Math.floor(((rows - done - slice) * DAYS * 86400) / rows);
      await ch.command({ query: generateSql(db, slice, done, sliceEnd, Math.floor((slice * DAYS * 86400) / rows)) });
    }
    const buildS = (performance.now() - began) / 1000;
    // The needles the questions look for, as the sink would have stored them.
    await ch.command({
      query: `INSERT INTO ${db}.audit_events (cluster, audit_id, stage, event_time, verb, operation, object_resource, object_namespace, object_name, object_subresource, response_code, request_uri, actor_id, actor_display_name, actor_email, actor_team, _topic, _offset)
        VALUES ('prod-eu-1', 'needle-1', 'ResponseComplete', now64(6) - INTERVAL 2 DAY, 'delete', 'delete', 'deployments', 'web', 'nginx', '', 200, '/apis/apps/v1/namespaces/web/deployments/nginx', 'user:deng', 'Deng Wei', 'deng@example.com', 'payments', 'bench', ${rows}),
               ('prod-eu-1', 'needle-2', 'ResponseComplete', now64(6) - INTERVAL 1 DAY, 'patch', 'cordon', 'nodes', '', '172.16.18.13', '', 200, '/api/v1/nodes/172.16.18.13', 'user:ana', 'Ana Lima', 'ana@example.com', 'infra', 'bench', ${rows + 1}),
               ('prod-eu-1', 'needle-3', 'ResponseComplete', now64(6) - INTERVAL 3 HOUR, 'create', 'exec', 'pods', 'web', 'web-0', 'exec', 101, '/api/v1/namespaces/web/pods/web-0/exec?command=sh', 'user:eve', 'Eve', 'eve@example.com', 'red', 'bench', ${rows + 2})`,
    });
    const [size] = await (
      await ch.query({
        query: `SELECT sum(rows) AS r, sum(data_compressed_bytes) AS c FROM system.parts WHERE database = {db:String} AND table = 'audit_events' AND active`,
        query_params: { db },
        format: 'JSONEachRow',
      })
    ).json<{ r: string; c: string }>();
    figures.push({ name: `generated audit_events rows (${DAYS} days)`, value: Number(size?.r ?? 0), unit: 'rows' });
    figures.push({ name: 'build rate (INSERT … SELECT numbers(), incl. rollup MV)', value: rows / buildS, unit: 'rows/s' });
    figures.push({ name: 'stored bytes per generated event', value: Number(size?.c ?? 0) / Math.max(1, Number(size?.r ?? 1)), unit: 'B' });

    const out: string[] = [];
    const program = () =>
      buildProgram({
        env: { CLICKHOUSE_URL: ctx.clickhouseUrl, CLICKHOUSE_DATABASE: db },
        paths: { root: REPO, state: `${REPO}.kaudit` } as Parameters<typeof buildProgram>[0]['paths'],
        logger: ctx.logger,
        out: (t) => out.push(t),
        setExitCode: () => undefined,
      });
    const questions: { name: string; args: string[]; goal?: string; expect?: string }[] = [
      { name: 'ask who-deleted deployment/nginx --since 7d', args: ['ask', 'who-deleted', 'deployment/nginx', '--since', '7d', '--json'], goal: '< 200 ms', expect: 'Deng Wei' },
      { name: 'ask who-cordoned 172.16.18.13 --since 7d', args: ['ask', 'who-cordoned', '172.16.18.13', '--since', '7d', '--json'], expect: 'Ana Lima' },
      { name: 'ask exec --since 7d', args: ['ask', 'exec', '--since', '7d', '--json'], expect: 'Eve' },
      { name: 'ask forbidden --since 24h', args: ['ask', 'forbidden', '--since', '24h', '--json'] },
      { name: 'ask load --by user --since 1h', args: ['ask', 'load', '--by', 'user', '--since', '1h', '--json'] },
      { name: 'ask load --by verb --since 7d', args: ['ask', 'load', '--by', 'verb', '--since', '7d', '--json'] },
      { name: 'sql: what did user U do (7d, bloom filter)', args: ['sql', `SELECT event_time, verb, object_resource, object_name FROM {db:Identifier}.audit_events WHERE actor_id = 'user:user7@example.com' AND event_time >= {since:DateTime64(6)} ORDER BY event_time DESC LIMIT 100`, '--since', '7d', '--json'] },
    ];
    for (const q of questions) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        out.length = 0;
        const t0 = performance.now();
        await program().parseAsync(q.args, { from: 'user' });
        times.push(performance.now() - t0);
        if (q.expect && !out.join('').includes(q.expect)) throw new Error(`${q.name} did not find ${q.expect}`);
      }
      figures.push({ name: `${q.name} (median of 5)`, value: median(times.slice(1)), unit: 'ms', ...(q.goal ? { goal: q.goal } : {}) });
    }
    return figures;
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
  }
};
