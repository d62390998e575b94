/**
 * The canned questions over the largest audit_events table this machine builds in a few minutes (issues 5 and 16:
 * aim for 50M rows; "who deleted X" under 200 ms, trend queries under 1 s), asked through the real CLI (`kaudit
 * ask …`: its own SQL builders and parameters, a fresh client per question as a user's command would have).
 *
 * Built inside ClickHouse, through the real schema: one block of realistic rows is generated from numbers() once —
 * the per-row generation (hashes, UUIDs, string building) costs as much as the insert itself — and copied into the
 * table again and again, each copy shifted by whole minutes to its own stretch of the 7 days with its own audit IDs
 * and offsets. Copying stops at the target or when the build budget (240 s) is spent, whichever comes first; the
 * figures say how far it got and how long it took.
 *
 * The rollups hold what the pipeline would have stored for those rows, built without running the views on every
 * copy (buildQueryTable): audit_load_1m counts requests per minute, which do not depend on the audit IDs, so each
 * copy adds the block's counts shifted by its minutes; audit_rollup_1m_v2's uniqExact states hash each copy's own
 * audit IDs, so the block is grouped once by the view's own keys keeping the list of what each state hashes, and
 * each copy builds its states from that list with its own IDs. Measured here per copy of 1M rows: 3.2 CPU-s for
 * audit_events, 2.9 more through the v2 view, 0.7–0.9 this way. Both views are attached again before the needles
 * and the questions, and the bench fails unless (a) the per-minute counts add up to every stored request and (b)
 * two sample hours of stored rows, inserted again through the views into a database built by the migrations, yield
 * the same rollups, down to the hashes in the uniqExact states (bench/check-rollups-against-views.ts).
 *
 * Each question: the first run after the mark and uncompressed caches were dropped (cold; the OS page cache is
 * not dropped), beside p50 and p99 of the next WARM_RUNS (warm; with 10 runs p99 is the slowest of them).
 * `ask load` over more than 6 h reads the per-minute counts of audit_load_1m (migration 0009), up to 6 h the
 * distinct-request rollup audit_rollup_1m_v2: the 6 h question is the distinct path at its longest.
 *
 * Default target: 50M rows; `--scale 0.1` for 5M.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { buildProgram } from 'kaudit';
import { z } from 'zod';
import type { BenchContext, BenchFigure, BenchRun } from './bench-types.js';
import { checkRollupsAgainstViews, type RollupCheckResult } from './check-rollups-against-views.js';

const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const MIGRATIONS = fileURLToPath(new URL('../migrations/clickhouse/', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));
const DAYS = 7;
/** Rows generated once and copied (at most); a million keeps generation to seconds and the block's memory small. */
const BASE_ROWS = 1_000_000;
/**
 * Copying stops once the build took this long. 50M rows cost about 280 ClickHouse CPU-s here (generation and the
 * checks included), about 140 s of both cores on a quiet machine; the budget leaves room for a slower one.
 */
const BUILD_BUDGET_S = 240;

/**
 * One generated row per number: hashes of the number pick realistic distributions. 70% of requests come from 60
 * controllers (service accounts), each in its own cluster, with its own user agent and three resources it works
 * on; 30% from 300 people using kubectl (or helm), on any resource; 1% are 403s, some 404/409; 1 in 12 verbs is a
 * delete. Built as SQL text only from constants — nothing user-supplied — since it is INSERT … SELECT
 * generation, not a question. Rows span [endSec - spanSec, endSec).
 */
function generateSql(table: string, rows: number, endSec: number, spanSec: number): string {
  const h = (k: number) => `cityHash64(number, ${k})`;
  const clusters = `['prod-eu-1', 'prod-eu-2', 'prod-us-1', 'prod-ap-1', 'staging']`;
  const resources = `['pods', 'deployments', 'configmaps', 'secrets', 'services', 'nodes', 'leases', 'events', 'replicasets', 'endpoints', 'statefulsets', 'jobs']`;
  return `INSERT INTO ${table}
    (cluster, provider, audit_id, stage, level, event_time, stage_time, ingested_at, latency_ms, verb, request_uri,
     object_api_group, object_api_version, object_resource, object_namespace, object_name, response_code, authz_decision,
     user_name, user_groups, source_ips, user_agent, client_name, client_version,
     actor_id, actor_kind, actor_display_name, actor_email, actor_team, actor_resolved_by, owner_team, operation,
     _topic, _partition, _offset)
  SELECT
    if(sa, ${clusters}[1 + u % 5], ${clusters}[1 + ${h(1)} % 5]) AS cluster,
    'eks', toString(generateUUIDv4(number)), 'ResponseComplete', 'Metadata',
    toDateTime64(${endSec} - ${spanSec} + number * ${spanSec} / ${rows}, 6) AS t,
    t + toIntervalMicrosecond(${h(2)} % 50000), t + toIntervalMillisecond(300), (${h(2)} % 50000) / 1000,
    ['get', 'get', 'get', 'get', 'list', 'list', 'watch', 'watch', 'update', 'patch', 'create', 'delete'][1 + ${h(3)} % 12] AS v,
    concat('/api/v1/namespaces/', ns, '/', res, '/', nm),
    if(res IN ('deployments', 'replicasets', 'statefulsets'), 'apps', ''), 'v1',
    if(sa, ${resources}[1 + (u + ${h(4)} % 3) % 12], ${resources}[1 + ${h(4)} % 12]) AS res,
    if(res = 'nodes', '', concat('team-', toString(${h(5)} % 40))) AS ns,
    concat(if(res = 'nodes', 'ip-10-0-', concat(substring(res, 1, 3), '-')), toString(${h(6)} % 20000)) AS nm,
    multiIf(${h(7)} % 100 = 0, 403, ${h(7)} % 100 < 3, 404, ${h(7)} % 100 = 3, 409, v = 'create', 201, 200) AS code,
    if(code = 403, 'forbid', 'allow'),
    if(sa, concat('system:serviceaccount:kube-system:controller-', toString(u)), concat('user', toString(u), '@example.com')) AS uname,
    ['system:authenticated'], [concat('10.', toString(u % 256), '.', toString(${h(10)} % 256), '.7')],
    if(sa, ['kube-controller-manager/v1.31.2', 'argocd-application-controller/v2.12', 'Go-http-client/2.0'][1 + u % 3],
       if(${h(11)} % 10 = 0, 'helm/v3.15.4', 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46')) AS ua,
    splitByChar('/', ua)[1], '',
    if(sa, concat('sa:kube-system:controller-', toString(u)), concat('user:', uname)) AS aid,
    if(sa, 'serviceaccount', 'human'), if(sa, concat('kube-system/controller-', toString(u)), concat('User ', toString(u))),
    if(sa, '', uname), concat('team-', toString(u % 20)), 'directory-file', ns,
    multiIf(v IN ('get'), 'read', v = 'list', 'list', v = 'watch', 'watch', v) AS op,
    'bench', toUInt16(number % 6), number
  -- u: the acting identity; sa: a controller (busy), or else a person
  FROM (SELECT number, ${h(8)} % 10 < 7 AS sa, toUInt32(if(sa, 300 + ${h(12)} % 60, ${h(12)} % 300)) AS u FROM numbers_mt(${rows}))
  SETTINGS max_insert_threads = 2`;
}

/** The audit ID of copy `k` of a base row whose audit ID (or its part after the first 8 characters) is `idTail`. */
function copyAuditId(k: number, idTail: string): string {
  return `concat(leftPad(lower(hex(toUInt32(${k}))), 8, '0'), ${idTail})`;
}

/**
 * Copy `k` of the base block: shifted `k * spanSec` into the past, with its own audit IDs and offsets. Inserted as
 * the sink inserts (optimize_on_insert = 0, see INSERT_SETTINGS in services/sink/src/batch-sink.ts): with
 * ReplacingMergeTree's default of collapsing rows while writing the part, an insert took 9× as long here.
 */
function copySql(db: string, k: number, baseRows: number, spanSec: number): string {
  const shift = `toIntervalSecond(${k * spanSec})`;
  return `INSERT INTO ${db}.audit_events
    SELECT * REPLACE (event_time - ${shift} AS event_time, stage_time - ${shift} AS stage_time, ingested_at - ${shift} AS ingested_at,
      ${copyAuditId(k, 'substring(audit_id, 9)')} AS audit_id, _offset + ${k * baseRows} AS _offset)
    FROM ${db}.bench_base
    SETTINGS max_insert_threads = 1, optimize_on_insert = 0`;
}

/**
 * audit_load_1m for copy `k`: the base block's counts (bench_base_load, the view's SELECT over the block) shifted by
 * the copy's whole minutes. The view counts each request of an insert once (LIMIT 1 BY cluster, audit_id) and the
 * block's audit IDs are distinct UUIDs, so a copy's counts are the block's, minute for minute.
 */
function copyLoadSql(db: string, k: number, spanSec: number): string {
  return `INSERT INTO ${db}.audit_load_1m
    SELECT * REPLACE (minute - toIntervalSecond(${k * spanSec}) AS minute) FROM ${db}.bench_base_load
    SETTINGS optimize_on_insert = 0`;
}

/**
 * What audit_rollup_1m_v2's view stores as a request's identity: the arguments of its uniqExactState. The bench's
 * base of that rollup keeps, per key, the list of those arguments instead of their hashes (see DISTINCT_IDS), so a
 * copy's states can be built from its own audit IDs without grouping the copy's rows again.
 */
const DISTINCT_STATE = 'uniqExactState(cluster, audit_id) AS requests';
const DISTINCT_IDS = 'groupArray((cluster, substring(audit_id, 9))) AS request_ids';

/**
 * The view's SELECT with its uniqExact state replaced by the list of what it hashes: grouped exactly as the view
 * groups, with the view's own person columns and latency states. Fails if the view no longer builds its state that
 * way — the copies would then not be what the view stores.
 */
function distinctBaseSelect(viewSelect: string): string {
  if (viewSelect.split(DISTINCT_STATE).length !== 2) throw new Error(`queries bench: the view of audit_rollup_1m_v2 no longer has exactly one "${DISTINCT_STATE}": ${viewSelect}`);
  return viewSelect.replace(DISTINCT_STATE, DISTINCT_IDS);
}

/**
 * audit_rollup_1m_v2 for copy `k`: per key of the base block, shifted by the copy's whole minutes, the uniqExact
 * state of the copy's own (cluster, audit ID) pairs — the same state the view builds from the copy's rows (checked by
 * bench/check-rollups-against-views.ts, hashes included). The latency states and person columns do not depend on
 * the audit IDs and are the base's. Grouping a copy's million rows by eight columns, which the view does on every
 * insert, is what this saves (2.9 CPU-s per copy through the view's SELECT, 0.7–0.9 this way, measured here).
 */
function copyDistinctSql(db: string, k: number, spanSec: number, columns: readonly string[]): string {
  const copied = columns.filter((c) => c !== 'request_ids');
  const ids = `arrayMap(p -> ${copyAuditId(k, 'p.2')}, request_ids)`;
  return `INSERT INTO ${db}.audit_rollup_1m_v2 (${copied.join(', ')}, requests)
    SELECT * EXCEPT (request_ids) REPLACE (minute - toIntervalSecond(${k * spanSec}) AS minute),
      arrayReduce('uniqExactState', arrayMap(p -> p.1, request_ids), ${ids}) AS requests
    FROM ${db}.bench_base_distinct
    SETTINGS optimize_on_insert = 0`;
}

/** The SELECT a materialized view runs on each inserted block, as ClickHouse stored it. */
async function viewSelect(ch: ReturnType<typeof createClickHouse>, db: string, view: string): Promise<string> {
  const rows = await (
    await ch.query({ query: 'SELECT as_select FROM system.tables WHERE database = {db:String} AND name = {view:String}', query_params: { db, view }, format: 'JSONEachRow' })
  ).json<{ as_select: string }>();
  const select = rows[0]?.as_select ?? '';
  if (!select.includes(`${db}.audit_events`)) throw new Error(`queries bench: the SELECT of ${db}.${view} does not read ${db}.audit_events: ${select}`);
  return select;
}

/**
 * Runs `ask` against a local proxy to `clickhouseUrl` and returns the rows ClickHouse says the queries read (the
 * X-ClickHouse-Summary header of each response, complete because the proxy asks for wait_end_of_query).
 */
async function countRowsRead(clickhouseUrl: string, ask: (url: string) => Promise<unknown>): Promise<number> {
  const target = new URL(clickhouseUrl);
  let readRows = 0;
  const proxy = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    url.searchParams.set('wait_end_of_query', '1');
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
      const summary = z.object({ read_rows: z.coerce.number() }).safeParse(JSON.parse(String(up.headers['x-clickhouse-summary'] ?? '{}')));
      if (summary.success) readRows += summary.data.read_rows;
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  try {
    const address = proxy.address();
    if (address === null || typeof address === 'string') throw new Error('queries bench: the counting proxy has no port');
    await ask(`http://127.0.0.1:${address.port}`);
    return readRows;
  } finally {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  }
}

/** Warm runs per question after the cold one. */
const WARM_RUNS = 10;

/** The q-quantile (0..1) of xs, nearest rank. */
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
}

/** The bench's tables whose merges are held off while it builds and asks (see buildQueryTable). */
const MERGED_TABLES = ['audit_events', 'audit_rollup_1m_v2', 'audit_load_1m', 'audit_forbidden'] as const;

export interface QueryTableOptions {
  ch: ClickHouse;
  /** A database built by the migrations, empty. */
  db: string;
  /** A database name for the rollup check (created by the migrations and dropped here). */
  checkDb: string;
  target: number;
  budgetS: number;
  logger: BenchContext['logger'];
}

export interface QueryTable {
  /** Rows stored in audit_events by the build (the needles not included). */
  rows: number;
  copies: number;
  baseRows: number;
  spanSec: number;
  /** The end of the covered range (a whole minute) and how many seconds before it the copies reach. */
  endSec: number;
  coveredSec: number;
  generatedS: number;
  buildS: number;
  check: RollupCheckResult;
}

/**
 * Builds audit_events (and its rollups) to `target` rows or until `budgetS` is spent. The views are detached while
 * copying and each copy's rollup rows are derived from the base block's (copyLoadSql, copyDistinctSql); merges of
 * the bench's tables are stopped for the build and stay stopped for the questions: on this machine merging these
 * parts costs more CPU than writing them (about 7 CPU-s per million rows against 3), so with merges on the build
 * ran at half speed and the questions were timed against merges still running. The questions therefore read the
 * parts as inserted — one or two per copy, never fewer than a merged table would have — and the figures say how
 * many. Afterwards the views are attached again and (a) the per-minute counts add up to every stored request, (b)
 * two sample hours of stored rows, inserted again through the views into a database built by the migrations, give
 * the same rollups (bench/check-rollups-against-views.ts). Throws if either check fails.
 */
export async function buildQueryTable(o: QueryTableOptions): Promise<QueryTable> {
  const { ch, db, checkDb, target } = o;
  const copies = Math.ceil(target / BASE_ROWS);
  // Every copy whole (the last one reaches the target or passes it by less than one row per copy).
  const baseRows = Math.ceil(target / copies);
  // Whole minutes, from a whole minute: each rollup minute belongs to one copy, and shifting a minute stays one.
  const spanSec = Math.floor((DAYS * 86400) / copies / 60) * 60;
  const endSec = Math.floor(Date.now() / 60_000) * 60;
  const loadSelect = await viewSelect(ch, db, 'audit_load_1m_mv');
  const distinctSelect = distinctBaseSelect(await viewSelect(ch, db, 'audit_rollup_1m_v2_mv'));
  const fromBase = (select: string) => select.replaceAll(`${db}.audit_events`, `${db}.bench_base`);
  for (const table of MERGED_TABLES) await ch.command({ query: `SYSTEM STOP MERGES ${db}.${table}` });
  const began = performance.now();
  await ch.command({ query: `CREATE TABLE ${db}.bench_base AS ${db}.audit_events ENGINE = MergeTree ORDER BY tuple()` });
  await ch.command({ query: generateSql(`${db}.bench_base`, baseRows, endSec, spanSec) });
  await ch.command({ query: `CREATE TABLE ${db}.bench_base_load AS ${db}.audit_load_1m ENGINE = MergeTree ORDER BY tuple()` });
  await ch.command({ query: `INSERT INTO ${db}.bench_base_load ${fromBase(loadSelect)}` });
  await ch.command({ query: `CREATE TABLE ${db}.bench_base_distinct ENGINE = MergeTree ORDER BY tuple() AS ${fromBase(distinctSelect)}` });
  const distinctColumns = (
    await (
      await ch.query({ query: `SELECT name FROM system.columns WHERE database = {db:String} AND table = 'bench_base_distinct' ORDER BY position`, query_params: { db }, format: 'JSONEachRow' })
    ).json<{ name: string }>()
  ).map((c) => c.name);
  const generatedS = (performance.now() - began) / 1000;
  let rows = 0;
  let copied = 0;
  let next = 0;
  // Two copies at a time: one INSERT … SELECT writing one part keeps about one core busy.
  // A copy is started only if one more (as long as this lane's last) still ends within the budget.
  const lane = async () => {
    let lastS = 0;
    while (next < copies && (performance.now() - began) / 1000 + lastS < o.budgetS) {
      const k = next++;
      const t0 = performance.now();
      await ch.command({ query: copySql(db, k, baseRows, spanSec) });
      await ch.command({ query: copyDistinctSql(db, k, spanSec, distinctColumns) });
      await ch.command({ query: copyLoadSql(db, k, spanSec) });
      lastS = (performance.now() - t0) / 1000;
      rows += baseRows;
      copied++;
    }
  };
  await ch.command({ query: `DETACH TABLE ${db}.audit_load_1m_mv` });
  await ch.command({ query: `DETACH TABLE ${db}.audit_rollup_1m_v2_mv` });
  try {
    await Promise.all([lane(), lane()]);
  } finally {
    // The schema as the migrations leave it, before anything else is inserted or asked.
    await ch.command({ query: `ATTACH TABLE ${db}.audit_rollup_1m_v2_mv` });
    await ch.command({ query: `ATTACH TABLE ${db}.audit_load_1m_mv` });
  }
  const buildS = (performance.now() - began) / 1000;
  for (const t of ['bench_base', 'bench_base_load', 'bench_base_distinct']) await ch.command({ query: `DROP TABLE ${db}.${t}` });
  process.stderr.write(`queries: built ${rows} of ${target} rows in ${buildS.toFixed(1)} s (${copied} copies of ${baseRows}, generated in ${generatedS.toFixed(1)} s)\n`);
  // (a) Every stored request is counted once in each dimension, none missing, none twice.
  const counted = await (
    await ch.query({ query: `SELECT dimension, toString(sum(requests)) AS n FROM ${db}.audit_load_1m GROUP BY dimension ORDER BY dimension`, format: 'JSONEachRow' })
  ).json<{ dimension: string; n: string }>();
  const dimensions = counted.map((c) => c.dimension).join(',');
  if (dimensions !== 'code,user,useragent,verb' || counted.some((c) => Number(c.n) !== rows)) {
    throw new Error(`queries bench: audit_load_1m counts ${JSON.stringify(counted)} requests per dimension, audit_events holds ${rows}`);
  }
  // (b) Sample hours against what the views make of their rows: the first hour of the last copy (shifted the most)
  // and of the first (not shifted).
  const coveredSec = copied * spanSec;
  const hour = Math.min(3600, spanSec);
  await runMigrations({ client: ch, dir: MIGRATIONS, database: checkDb, logger: o.logger, vars: { retention_days: 3650 } });
  try {
    const check = await checkRollupsAgainstViews({
      ch,
      db,
      checkDb,
      ranges: [
        { fromSec: endSec - coveredSec, toSec: endSec - coveredSec + hour },
        { fromSec: endSec - spanSec, toSec: endSec - spanSec + hour },
      ],
    });
    process.stderr.write(`queries: rollups equal the views' over two sample hours (${check.sampleRows} rows: ${check.loadRows} audit_load_1m rows, ${check.distinctRows} audit_rollup_1m_v2 rows)\n`);
    return { rows, copies: copied, baseRows, spanSec, endSec, coveredSec, generatedS, buildS, check };
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${checkDb}` });
  }
}

export const run: BenchRun = async (ctx) => {
  const target = Math.max(100_000, Math.round(50_000_000 * ctx.scale));
  const db = uniqueName('bench_queries');
  const checkDb = `${db}_check`;
  const ch = createClickHouse({ url: ctx.clickhouseUrl, requestTimeoutMs: 600_000 });
  const figures: BenchFigure[] = [];
  try {
    await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger: ctx.logger, vars: { retention_days: 3650 } });
    const built = await buildQueryTable({ ch, db, checkDb, target, budgetS: BUILD_BUDGET_S, logger: ctx.logger });
    const { rows, copies: copied, baseRows, buildS, check } = built;
    // The needles the questions look for, as the sink would have stored them.
    await ch.command({
      query: `INSERT INTO ${db}.audit_events (cluster, audit_id, stage, event_time, verb, operation, object_resource, object_namespace, object_name, object_subresource, response_code, request_uri, actor_id, actor_display_name, actor_email, actor_team, _topic, _offset)
        VALUES ('prod-eu-1', 'needle-1', 'ResponseComplete', now64(6) - INTERVAL 2 HOUR, 'delete', 'delete', 'deployments', 'web', 'nginx', '', 200, '/apis/apps/v1/namespaces/web/deployments/nginx', 'user:deng', 'Deng Wei', 'deng@example.com', 'payments', 'bench', ${rows}),
               ('prod-eu-1', 'needle-2', 'ResponseComplete', now64(6) - INTERVAL 1 HOUR, 'patch', 'cordon', 'nodes', '', '172.16.18.13', '', 200, '/api/v1/nodes/172.16.18.13', 'user:ana', 'Ana Lima', 'ana@example.com', 'infra', 'bench', ${rows + 1}),
               ('prod-eu-1', 'needle-3', 'ResponseComplete', now64(6) - INTERVAL 3 HOUR, 'create', 'exec', 'pods', 'web', 'web-0', 'exec', 101, '/api/v1/namespaces/web/pods/web-0/exec?command=sh', 'user:eve', 'Eve', 'eve@example.com', 'red', 'bench', ${rows + 2})`,
    });
    const sizes = await (
      await ch.query({
        query: `SELECT table, toString(sum(rows)) AS r, toString(sum(data_compressed_bytes)) AS c, toString(sum(bytes_on_disk)) AS d, toString(count()) AS p
                FROM system.parts WHERE database = {db:String} AND active GROUP BY table`,
        query_params: { db },
        format: 'JSONEachRow',
      })
    ).json<{ table: string; r: string; c: string; d: string; p: string }>();
    const events = sizes.find((t) => t.table === 'audit_events');
    const storedRows = Number(events?.r ?? 0);
    const covered = Math.min(DAYS, built.coveredSec / 86400);
    figures.push({ name: `audit_events rows (target ${target.toLocaleString('en-US')}, ${covered.toFixed(1)} of ${DAYS} days)`, value: storedRows, unit: 'rows' });
    figures.push({
      name: `build rate (${copied} copies of a ${baseRows.toLocaleString('en-US')}-row generated block, rollups derived from the block's per copy and checked against the views; budget ${BUILD_BUDGET_S} s)`,
      value: rows / buildS,
      unit: 'rows/s',
      goal: '> 42k rows/s',
    });
    figures.push({ name: `build time (generation of the block ${built.generatedS.toFixed(1)} s included)`, value: buildS, unit: 's', goal: '< 250 s' });
    figures.push({ name: `rollup rows checked equal to the views' (two sample hours, ${check.sampleRows.toLocaleString('en-US')} rows)`, value: check.loadRows + check.distinctRows, unit: 'rows' });
    figures.push({ name: 'parts of audit_events the questions read (as inserted, merges stopped; a merged table has fewer)', value: Number(events?.p ?? 0), unit: 'parts' });
    figures.push({ name: 'stored bytes per event (audit_events, compressed)', value: Number(events?.c ?? 0) / Math.max(1, storedRows), unit: 'B' });
    figures.push({ name: 'on disk, all tables (audit_events + rollups)', value: sizes.reduce((a, t) => a + Number(t.d), 0) / 2 ** 20, unit: 'MiB' });

    const out: string[] = [];
    const program = (url = ctx.clickhouseUrl) =>
      buildProgram({
        // As the engine's default user: the local query user is granted on `kaudit` only, not on this bench database.
        env: { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: db, CLICKHOUSE_USER: 'default' },
        paths: { root: REPO, state: `${REPO}.kaudit` } as Parameters<typeof buildProgram>[0]['paths'],
        logger: ctx.logger,
        out: (t) => out.push(t),
        setExitCode: () => undefined,
      });
    const questions: { name: string; args: string[]; goal?: string; expect?: string }[] = [
      { name: 'ask who-deleted deployment/nginx --since 7d', args: ['ask', 'who-deleted', 'deployment/nginx', '--since', '7d', '--json'], goal: '< 200 ms', expect: 'Deng Wei' },
      { name: 'ask who-cordoned 172.16.18.13 --since 7d', args: ['ask', 'who-cordoned', '172.16.18.13', '--since', '7d', '--json'], expect: 'Ana Lima' },
      { name: 'ask exec --since 7d', args: ['ask', 'exec', '--since', '7d', '--json'], expect: 'Eve' },
      { name: 'ask forbidden --since 24h (audit_forbidden, migration 0011)', args: ['ask', 'forbidden', '--since', '24h', '--json'], goal: '< 1 s', expect: '"denied"' },
      { name: 'ask load --by user --since 1h', args: ['ask', 'load', '--by', 'user', '--since', '1h', '--json'], goal: '< 1 s' },
      { name: 'ask load --by user --since 6h (distinct requests, audit_rollup_1m_v2)', args: ['ask', 'load', '--by', 'user', '--since', '6h', '--json'], goal: '< 1 s' },
      { name: 'ask load --by user --since 7d', args: ['ask', 'load', '--by', 'user', '--since', '7d', '--json'], goal: '< 1 s' },
      { name: 'ask load --by verb --since 7d', args: ['ask', 'load', '--by', 'verb', '--since', '7d', '--json'], goal: '< 1 s' },
      { name: 'ask load --by code --since 7d', args: ['ask', 'load', '--by', 'code', '--since', '7d', '--json'], goal: '< 1 s' },
      { name: 'ask load --chart --by user --since 7d', args: ['ask', 'load', '--chart', '--by', 'user', '--since', '7d', '--json'], goal: '< 1 s' },
      { name: 'sql: what did user U do (7d, bloom filter)', args: ['sql', `SELECT event_time, verb, object_resource, object_name FROM {db:Identifier}.audit_events WHERE actor_id = 'user:user7@example.com' AND event_time >= {since:DateTime64(6)} ORDER BY event_time DESC LIMIT 100`, '--since', '7d', '--json'] },
    ];
    for (const q of questions) {
      // Cold: nothing of this table in ClickHouse's own caches (marks, uncompressed blocks).
      for (const cache of ['MARK CACHE', 'UNCOMPRESSED CACHE']) await ch.command({ query: `SYSTEM DROP ${cache}` });
      const times: number[] = [];
      for (let i = 0; i <= WARM_RUNS; i++) {
        out.length = 0;
        const t0 = performance.now();
        await program().parseAsync(q.args, { from: 'user' });
        times.push(performance.now() - t0);
        if (q.expect && !out.join('').includes(q.expect)) throw new Error(`${q.name} did not find ${q.expect}`);
      }
      const goal = q.goal ? { goal: q.goal } : {};
      figures.push({ name: `${q.name}, cold (first run)`, value: times[0] ?? 0, unit: 'ms', ...goal });
      figures.push({ name: `${q.name}, warm p50 (next ${WARM_RUNS} runs)`, value: quantile(times.slice(1), 0.5), unit: 'ms', ...goal });
      figures.push({ name: `${q.name}, warm p99 (next ${WARM_RUNS} runs)`, value: quantile(times.slice(1), 0.99), unit: 'ms', ...goal });
      // One more run, untimed, through a proxy that reads ClickHouse's own account of the rows the question read.
      const counted = await countRowsRead(ctx.clickhouseUrl, (url) => program(url).parseAsync(q.args, { from: 'user' }));
      figures.push({ name: `${q.name}: rows ClickHouse read for it, any table (audit_events holds ${storedRows.toLocaleString("en-US")})`, value: counted, unit: 'rows' });
    }
    return figures;
  } finally {
    await ch.command({ query: `DROP DATABASE IF EXISTS ${checkDb}` });
    await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await ch.close();
  }
};
