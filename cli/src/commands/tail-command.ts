import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { toClickHouseError, type ClickHouse } from '@kaudit/clickhouse';
import { KauditError } from '@kaudit/errors';
import type { CliDeps } from '../build-program.js';
import { parseObjectArg } from './ask-queries.js';
import { parseTimeArg } from './ask-time-range.js';
import { createQueryClickHouse } from './query-clickhouse.js';
import { tailLine } from './tail-line.js';
import { advanceCursor, tailEndQuery, tailRowsQuery, type TailCursor, type TailFilters, type TailQuery, type TailWindow } from './tail-query.js';

export interface TailOptions {
  cluster?: string;
  namespace?: string;
  resource?: string;
  verb?: string;
  code?: string;
  operation?: string;
  actor?: string;
  json?: boolean;
  interval: string;
  lookback: string;
  settle: string;
}

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

function positiveInt(value: string, option: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new KauditError('CONFIG_INVALID', `${option} "${value}" must be an integer >= ${min}`);
  return n;
}

/** The options as filters; kubectl short names and singulars of resources are accepted (deploy, pod). */
export function tailFilters(o: TailOptions): TailFilters {
  const codes = list(o.code).map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 100 || n > 599) throw new KauditError('CONFIG_INVALID', `--code "${c}" is not an HTTP status code`);
    return n;
  });
  return {
    clusters: list(o.cluster),
    namespaces: list(o.namespace),
    resources: list(o.resource).map((r) => parseObjectArg(`${r}/x`)?.resource ?? r),
    verbs: list(o.verb).map((v) => v.toLowerCase()),
    codes,
    operations: list(o.operation),
    actor: o.actor ?? '',
  };
}

async function rows(client: ClickHouse, q: TailQuery): Promise<Record<string, unknown>[]> {
  try {
    const rs = await client.query({ query: q.query, query_params: q.params, format: 'JSONEachRow' });
    return await rs.json<Record<string, unknown>>();
  } catch (err) {
    throw toClickHouseError(err, 'tail query failed');
  }
}

async function storedEnd(client: ClickHouse, w: TailWindow): Promise<TailCursor> {
  const ends = await rows(client, tailEndQuery(w));
  return { next: new Map(ends.map((r) => [String(r.position), String(r.end)])) };
}

/**
 * Follows what is stored from now on until `signal` aborts: polls every `interval` ms, prints each matching
 * row once (tail-query.ts says why the cursor neither misses nor repeats), as a line or one JSON object per line.
 */
export async function runTail(deps: CliDeps, o: TailOptions, signal: AbortSignal): Promise<void> {
  const filters = tailFilters(o);
  const intervalMs = positiveInt(o.interval, '--interval', 100);
  const lookback = Math.round((Date.now() - parseTimeArg(o.lookback, new Date(), '--lookback').getTime()) / 1000);
  if (lookback < 60) throw new KauditError('CONFIG_INVALID', `--lookback "${o.lookback}" must be a duration of at least 1m, e.g. 24h`);
  const database = deps.env.CLICKHOUSE_DATABASE ?? 'kaudit';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new KauditError('CONFIG_INVALID', `CLICKHOUSE_DATABASE "${database}" must be a plain identifier`);
  const window: TailWindow = { database, lookbackSeconds: lookback, settleSeconds: positiveInt(o.settle, '--settle', 0) };
  const client = createQueryClickHouse(deps, 'kaudit-tail');
  try {
    // Start at the end: what was stored before `tail` started is `kaudit ask`'s job.
    let cursor = await storedEnd(client, window);
    deps.logger.debug({ event: 'tail_started', partitions: cursor.next.size }, 'tail_started');
    while (!signal.aborted) {
      const end = await storedEnd(client, window);
      for (const r of await rows(client, tailRowsQuery(window, cursor, end, filters))) {
        const { topic: _t, partition: _p, offset: _o, ...event } = r;
        deps.out(o.json ? JSON.stringify(event) : tailLine(event));
      }
      cursor = advanceCursor(cursor, end);
      try {
        await sleep(intervalMs, undefined, { signal });
      } catch {
        // Aborted while waiting: the loop condition ends it.
      }
    }
  } finally {
    await client.close();
  }
}

export function registerTailCommand(program: Command, deps: CliDeps): void {
  program
    .command('tail')
    .description('follow matching audit events as they are stored, one line each (Ctrl-C stops); filters take comma-separated lists')
    .option('--cluster <names>', 'only these clusters')
    .option('-n, --namespace <ns>', 'only these namespaces')
    .option('--resource <resources>', 'only these resources (deploy, pods, nodes…)')
    .option('--verb <verbs>', 'only these verbs (get, list, create, patch, delete…)')
    .option('--code <codes>', 'only these response codes (403, 404…)')
    .option('--operation <classes>', 'only these operation classes (delete, exec, cordon, image-change, secret-read…)')
    .option('--actor <who>', 'only this person or account: an email, display name, account ID or username')
    .option('--json', 'one JSON object per line')
    .option('--interval <ms>', 'poll interval', '1000')
    .option('--lookback <duration>', 'events whose own time is older than this when stored (an old file imported) are not followed', '24h')
    .option('--settle <seconds>', 'leave rows stored in the last N seconds to the next poll', '1')
    .action(async (opts: TailOptions) => {
      if (deps.signal) {
        await runTail(deps, opts, deps.signal);
        return;
      }
      // Ctrl-C / SIGTERM end the loop after the current poll; the client is closed and the exit code is 0.
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runTail(deps, opts, controller.signal);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
