/**
 * The queries bench fills both rollups outside their materialized views (bench/queries.ts: the views are detached
 * while the copies are inserted; each copy's per-minute counts are the generated block's own counts shifted by the
 * copy's whole minutes, and its distinct-request states are built from the copy's own audit IDs per key of the
 * block). This check is what makes that honest: samples of the stored rows are inserted again into a database
 * built by the migrations, with every view attached, and the rollups the views produce there must equal, minute
 * by minute and key by key, what the bench stored for the same minutes — for audit_rollup_1m_v2 down to the hashes
 * in its uniqExact states (merged together, the two sides count no request more than either alone). It throws
 * when they differ.
 */
import type { ClickHouse } from '@kaudit/clickhouse';

export interface RollupCheckOptions {
  ch: ClickHouse;
  /** The bench's database (rollups filled as the bench fills them). */
  db: string;
  /** A database built by the migrations, views attached, otherwise empty; dropped by the caller. */
  checkDb: string;
  /** Sample ranges [fromSec, toSec), disjoint: whole minutes, so that every rollup minute of a range comes only from its own rows. */
  ranges: readonly { fromSec: number; toSec: number }[];
}

export interface RollupCheckResult {
  /** Rows of the samples inserted through the views. */
  sampleRows: number;
  /** Merged rollup rows compared, per table, over all ranges. */
  loadRows: number;
  distinctRows: number;
}

/** One merged row per key of each rollup over [from, to): what a reader sees once parts are merged. */
function mergedLoad(database: string, from: number, to: number): string {
  return `SELECT dimension, minute, cluster, key, anyLast(actor_display_name) AS who, anyLast(actor_email) AS email,
      anyLast(actor_team) AS team, sum(requests) AS requests
    FROM ${database}.audit_load_1m WHERE minute >= toDateTime(${from}, 'UTC') AND minute < toDateTime(${to}, 'UTC')
    GROUP BY dimension, minute, cluster, key`;
}

function mergedDistinct(database: string, from: number, to: number): string {
  return `SELECT minute, cluster, actor_id, verb, response_code, resource, client_name, user_agent,
      anyLast(actor_display_name) AS who, anyLast(actor_email) AS email, anyLast(actor_team) AS team,
      uniqExactMerge(requests) AS requests, avgMerge(latency_ms_avg) AS latency_avg, max(latency_ms_max) AS latency_max
    FROM ${database}.audit_rollup_1m_v2 WHERE minute >= toDateTime(${from}, 'UTC') AND minute < toDateTime(${to}, 'UTC')
    GROUP BY minute, cluster, actor_id, verb, response_code, resource, client_name, user_agent`;
}

async function count(ch: ClickHouse, query: string): Promise<number> {
  const rows = await (await ch.query({ query: `SELECT toString(count()) AS n FROM (${query})`, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(rows[0]?.n ?? 0);
}

const LOAD_KEYS = ['dimension', 'minute', 'cluster', 'key'];
const DISTINCT_KEYS = ['minute', 'cluster', 'actor_id', 'verb', 'response_code', 'resource', 'client_name', 'user_agent'];

/**
 * Rows of `stored` and `viewed` (merged rollups, one row per key) that differ: a key on one side only (the other
 * side's columns are then defaults: requests 0), or any value not equal. `approx` columns are float averages, whose
 * last bits depend on the order blocks were merged in (as in production), so they are equal within 1e-9.
 */
function differingSql(stored: string, viewed: string, keys: string[], exact: string[], approx: string[]): string {
  const unequal = [...exact.map((c) => `a.${c} != b.${c}`), ...approx.map((c) => `abs(a.${c} - b.${c}) > 1e-9 * greatest(1, abs(b.${c}))`)].join(' OR ');
  return `SELECT ${keys.join(', ')}, ${[...exact, ...approx].map((c) => `a.${c} AS stored_${c}, b.${c} AS viewed_${c}`).join(', ')}
    FROM (${stored}) AS a FULL OUTER JOIN (${viewed}) AS b USING (${keys.join(', ')})
    WHERE ${unequal}`;
}

async function compare(ch: ClickHouse, table: string, stored: string, viewed: string, keys: string[], exact: string[], approx: string[]): Promise<number> {
  const rows = await count(ch, stored);
  const viewRows = await count(ch, viewed);
  const diff = differingSql(stored, viewed, keys, exact, approx);
  const differing = await count(ch, diff);
  // Empty on both sides would compare equal while checking nothing.
  if (rows === 0 || viewRows === 0 || differing > 0) {
    const sample = await (await ch.query({ query: `${diff} LIMIT 3`, format: 'JSONEachRow' })).json();
    throw new Error(`queries bench: ${table} as the bench filled it differs from what its materialized view produces for the same rows (${rows} rows stored, ${viewRows} from the views, ${differing} differing, e.g. ${JSON.stringify(sample)}) — the figures would not describe the real schema`);
  }
  return rows;
}

/**
 * Keys of audit_rollup_1m_v2 over [from, to) whose uniqExact states, stored and viewed merged together, count more
 * requests than the stored ones alone: a state that holds other hashes than the view's for the same requests (the
 * per-key counts could still agree).
 */
function distinctHashesDiffer(db: string, checkDb: string, from: number, to: number): string {
  const range = `minute >= toDateTime(${from}, 'UTC') AND minute < toDateTime(${to}, 'UTC')`;
  const rows = (database: string) => `SELECT ${DISTINCT_KEYS.join(', ')}, requests FROM ${database}.audit_rollup_1m_v2 WHERE ${range}`;
  return `SELECT ${DISTINCT_KEYS.join(', ')}, uniqExactMerge(requests) AS together, a.requests AS stored
    FROM (${rows(db)} UNION ALL ${rows(checkDb)}) AS u
    JOIN (${mergedDistinct(db, from, to)}) AS a USING (${DISTINCT_KEYS.join(', ')})
    GROUP BY ${DISTINCT_KEYS.join(', ')}, a.requests
    HAVING together != stored`;
}

export async function checkRollupsAgainstViews(options: RollupCheckOptions): Promise<RollupCheckResult> {
  const { ch, db, checkDb, ranges } = options;
  if (ranges.length === 0) throw new Error('queries bench: the rollup check needs at least one range');
  const result: RollupCheckResult = { sampleRows: 0, loadRows: 0, distinctRows: 0 };
  for (const { fromSec, toSec } of ranges) {
    if (fromSec % 60 !== 0 || toSec % 60 !== 0 || toSec <= fromSec) throw new Error(`queries bench: the rollup check needs a range of whole minutes, got [${fromSec}, ${toSec})`);
    const range = `event_time >= toDateTime64(${fromSec}, 6, 'UTC') AND event_time < toDateTime64(${toSec}, 6, 'UTC')`;
    await ch.command({ query: `INSERT INTO ${checkDb}.audit_events SELECT * FROM ${db}.audit_events WHERE ${range} SETTINGS optimize_on_insert = 0` });
    result.sampleRows += await count(ch, `SELECT 1 FROM ${checkDb}.audit_events WHERE ${range}`);
    result.loadRows += await compare(ch, 'audit_load_1m', mergedLoad(db, fromSec, toSec), mergedLoad(checkDb, fromSec, toSec), LOAD_KEYS, ['who', 'email', 'team', 'requests'], []);
    result.distinctRows += await compare(ch, 'audit_rollup_1m_v2', mergedDistinct(db, fromSec, toSec), mergedDistinct(checkDb, fromSec, toSec), DISTINCT_KEYS, ['who', 'email', 'team', 'requests', 'latency_max'], ['latency_avg']);
    const hashes = distinctHashesDiffer(db, checkDb, fromSec, toSec);
    if ((await count(ch, hashes)) > 0) {
      const sample = await (await ch.query({ query: `${hashes} LIMIT 3`, format: 'JSONEachRow' })).json();
      throw new Error(`queries bench: audit_rollup_1m_v2 as the bench filled it holds other request hashes than its materialized view stores for the same rows (merged with the view's states they count more requests, e.g. ${JSON.stringify(sample)}) — a request stored again would be counted twice`);
    }
  }
  return result;
}
