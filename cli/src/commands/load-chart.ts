import { z } from 'zod';
import { KauditError } from '@kaudit/errors';
import { LOAD_COUNTS_PER_MINUTE, LOAD_COUNTS_TOP, LOAD_KEY, loadSource, type AskQuery, type AskScope, type LoadDimension, type LoadSource } from './ask-queries.js';

/**
 * `kaudit ask load --chart`: the per-minute series of the busiest keys (issue 17: "trend by user / verb / status
 * code" as a chart). The top `limit` keys are ranked the way `ask load` ranks them (requests summed over the
 * minutes of the range), then each key's per-minute counts are read from the same rollup. Only minutes with
 * requests come back; the renderer fills the rest with zero. Like `ask load`, a long range reads the per-minute counts
 * of audit_load_1m instead of the distinct requests of audit_rollup_1m_v2 (ask-queries.ts, LOAD_DISTINCT_MAX_MS).
 */
export function loadSeriesQuery(s: AskScope, by: LoadDimension, source: LoadSource = loadSource(s)): AskQuery {
  if (source === 'counts') {
    return {
      query: `SELECT key, anyLast(${by === 'user' ? 'who' : "''"}) AS who, minute, sum(n) AS requests
      FROM (${LOAD_COUNTS_PER_MINUTE})
      WHERE key IN (${LOAD_COUNTS_TOP})
      GROUP BY key, minute
      ORDER BY key, minute`,
      params: { db: s.database, cluster: s.cluster, since: s.since, until: s.until, limit: s.limit, dimension: by },
    };
  }
  const key = LOAD_KEY[by];
  // The person's name only means something per user; another dimension's key is its own label.
  const who = by === 'user' ? 'anyLast(actor_display_name)' : "''";
  const perMinute = `SELECT minute, ${key} AS key, ${who} AS who, uniqExactMerge(requests) AS n
        FROM {db:Identifier}.audit_rollup_1m_v2
        WHERE minute >= toStartOfMinute({since:DateTime64(6)}) AND minute < {until:DateTime64(6)}
          AND ({cluster:String} = '' OR cluster = {cluster:String})
        GROUP BY minute, key`;
  return {
    query: `SELECT key, anyLast(who) AS who, minute, sum(n) AS requests
      FROM (${perMinute})
      WHERE key IN (
        SELECT key FROM (${perMinute}) GROUP BY key ORDER BY sum(n) DESC, key ASC LIMIT {limit:UInt32}
      )
      GROUP BY key, minute
      ORDER BY key, minute`,
    params: { db: s.database, cluster: s.cluster, since: s.since, until: s.until, limit: s.limit },
  };
}

const pointRowSchema = z.object({
  key: z.string(),
  who: z.string(),
  minute: z.string(),
  requests: z.coerce.number().int().nonnegative(),
});

export interface LoadSeries {
  key: string;
  /** The person's display name for `--by user` ('' when unknown or another dimension). */
  who: string;
  requests: number;
  peakPerMinute: number;
  /** ISO time of the busiest minute (of equally busy minutes the latest, as `ask load` picks). */
  peakMinute: string;
  /** Minutes with requests, oldest first. */
  points: { minute: string; requests: number }[];
}

/** The query's rows as one series per key, busiest first (ties by key, so the order never depends on storage). */
export function loadSeries(rows: readonly Record<string, unknown>[]): LoadSeries[] {
  const byKey = new Map<string, LoadSeries>();
  rows.forEach((r, i) => {
    const parsed = pointRowSchema.safeParse(r);
    if (!parsed.success) throw new KauditError('INPUT_INVALID', `load chart row ${i} is not what the query returns: ${parsed.error.message}`);
    const p = parsed.data;
    const series = byKey.get(p.key) ?? { key: p.key, who: '', requests: 0, peakPerMinute: 0, peakMinute: '', points: [] };
    byKey.set(p.key, series);
    if (p.who !== '') series.who = p.who;
    series.requests += p.requests;
    series.points.push({ minute: p.minute, requests: p.requests });
    if (p.requests > series.peakPerMinute || (p.requests === series.peakPerMinute && Date.parse(p.minute) > Date.parse(series.peakMinute))) {
      series.peakPerMinute = p.requests;
      series.peakMinute = p.minute;
    }
  });
  for (const s of byKey.values()) s.points.sort((a, b) => Date.parse(a.minute) - Date.parse(b.minute));
  return [...byKey.values()].sort((a, b) => b.requests - a.requests || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
