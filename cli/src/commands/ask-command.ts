import { Option, type Command } from 'commander';
import { toClickHouseError } from '@kaudit/clickhouse';
import { KauditError } from '@kaudit/errors';
import type { CliDeps } from '../build-program.js';
import {
  execQuery,
  forbiddenQuery,
  loadQuery,
  loadSource,
  LOAD_COUNTS_NOTE,
  LOAD_DIMENSIONS,
  parseObjectArg,
  whoCordonedQuery,
  whoDeletedQuery,
  type AskQuery,
  type AskScope,
  type LoadDimension,
} from './ask-queries.js';
import { renderTable } from './ask-table.js';
import { resolveTimeRange, toClickHouseTime } from './ask-time-range.js';
import { loadSeries, loadSeriesQuery } from './load-chart.js';
import { renderLoadChart } from './render-load-chart.js';
import { createQueryClickHouse } from './query-clickhouse.js';
import { explainAccessDenied } from './explain-access-denied.js';

export interface ScopeOptions {
  cluster?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

/** `--cluster --since --until --limit --json`, the options every question (and `sql`) takes. */
export function addScopeOptions(cmd: Command, defaultSince: string): Command {
  return cmd
    .option('--cluster <name>', 'only this cluster (default: every cluster)')
    .option('--since <when>', `start: a duration before now (30m, 1h, 7d) or an ISO time (default ${defaultSince})`)
    .option('--until <when>', 'end: a duration before now or an ISO time (default now)')
    .option('--limit <n>', 'at most this many rows', '50')
    .option('--json', 'print the rows as JSON');
}

export function scopeFrom(deps: CliDeps, opts: ScopeOptions, defaultSince: string, now = new Date()): AskScope {
  const range = resolveTimeRange(opts, now, defaultSince);
  const limit = Number(opts.limit ?? '50');
  if (!Number.isInteger(limit) || limit < 1) throw new KauditError('CONFIG_INVALID', `--limit "${opts.limit}" must be a positive integer`);
  const database = deps.env.CLICKHOUSE_DATABASE ?? 'kaudit';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new KauditError('CONFIG_INVALID', `CLICKHOUSE_DATABASE "${database}" must be a plain identifier`);
  return { database, cluster: opts.cluster ?? '', since: toClickHouseTime(range.since), until: toClickHouseTime(range.until), limit };
}

/** Runs one read-only query with parameters and returns its rows. */
export async function queryRows(deps: CliDeps, q: AskQuery): Promise<Record<string, unknown>[]> {
  // As the read-only query user: its server-side profile (readonly=1, constant) and grants (SELECT on
  // the kaudit database only) are what stop writes, DDL, file()/url()/remote() — not a client setting.
  const client = createQueryClickHouse(deps, 'kaudit-cli');
  try {
    const rs = await client.query({ query: q.query, query_params: q.params, format: 'JSONEachRow' });
    return await rs.json<Record<string, unknown>>();
  } catch (err) {
    throw explainAccessDenied(toClickHouseError(err, 'query failed'));
  } finally {
    await client.close();
  }
}

/** Runs one read-only query with parameters and prints a table (or JSON). */
export async function runAndPrint(deps: CliDeps, q: AskQuery, json: boolean | undefined): Promise<Record<string, unknown>[]> {
  const rows = await queryRows(deps, q);
  deps.out(json ? JSON.stringify(rows, null, 2) : renderTable(rows));
  return rows;
}

/** Series a chart shows unless --limit says otherwise: more sparklines than this stop being a glance. */
const CHART_DEFAULT_SERIES = 5;

/** `ask load --chart`: the top keys' per-minute series, as sparklines or (`--json`) as data. */
async function printLoadChart(deps: CliDeps, opts: ScopeOptions, by: LoadDimension, now = new Date()): Promise<void> {
  const range = resolveTimeRange(opts, now, '1h');
  const scope = scopeFrom(deps, opts, '1h', now);
  const series = loadSeries(await queryRows(deps, loadSeriesQuery(scope, by)));
  if (opts.json) deps.out(JSON.stringify({ by, since: range.since.toISOString(), until: range.until.toISOString(), series }, null, 2));
  else deps.out(withLoadNote(renderLoadChart({ by, ...range, series }), scope));
}

/** A table or chart of `ask load` over the counts rollup says so under it (--json is documented in docs/operating.md). */
function withLoadNote(text: string, scope: AskScope): string {
  return loadSource(scope) === 'counts' ? `${text}\n${LOAD_COUNTS_NOTE}` : text;
}

/** Registers `kaudit ask` and its canned questions; returns it so other modules add theirs. */
export function registerAskCommand(program: Command, deps: CliDeps): Command {
  const ask = program.command('ask').description('canned audit questions answered from ClickHouse as the read-only query user (CLICKHOUSE_URL, CLICKHOUSE_DATABASE, CLICKHOUSE_USER/PASSWORD or KAUDIT_QUERY_CLICKHOUSE_USER/PASSWORD)');

  addScopeOptions(ask.command('who-deleted').argument('<resource/name>', 'e.g. deployment/nginx, deploy/nginx, pods/web-0'), '30d')
    .description('who deleted an object, and when')
    .option('-n, --namespace <ns>', 'only in this namespace')
    .action(async (target: string, opts: ScopeOptions & { namespace?: string }) => {
      const obj = parseObjectArg(target);
      if (!obj) throw new KauditError('CONFIG_INVALID', `"${target}" is not <resource>/<name>, e.g. deployment/nginx`);
      const q = whoDeletedQuery(scopeFrom(deps, opts, '30d'), { ...obj, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
      await runAndPrint(deps, q, opts.json);
    });

  addScopeOptions(ask.command('who-cordoned').argument('<node>', 'node name, e.g. 172.16.18.13 or ip-10-0-1-2.ec2.internal'), '30d')
    .description('who cordoned, uncordoned or drained a node, and when')
    .action(async (node: string, opts: ScopeOptions) => {
      await runAndPrint(deps, whoCordonedQuery(scopeFrom(deps, opts, '30d'), node), opts.json);
    });

  addScopeOptions(ask.command('load'), '1h')
    .description('apiserver request load by user, verb, status code or user agent (with each one\'s busiest minute)')
    .addOption(new Option('--by <dimension>', 'what to group by').choices([...LOAD_DIMENSIONS]).default('user'))
    .option('--chart', `a per-minute sparkline of each of the top --limit keys (default ${CHART_DEFAULT_SERIES} with --chart); --json gives the series`)
    .action(async (opts: ScopeOptions & { by: LoadDimension; chart?: boolean }, cmd: Command) => {
      if (opts.chart) {
        const limit = cmd.getOptionValueSource('limit') === 'default' ? String(CHART_DEFAULT_SERIES) : opts.limit;
        await printLoadChart(deps, { ...opts, limit }, opts.by);
        return;
      }
      const scope = scopeFrom(deps, opts, '1h');
      const rows = await queryRows(deps, loadQuery(scope, opts.by));
      deps.out(opts.json ? JSON.stringify(rows, null, 2) : withLoadNote(renderTable(rows), scope));
    });

  addScopeOptions(ask.command('forbidden'), '24h')
    .description('who is getting 403s, and for what')
    .action(async (opts: ScopeOptions) => {
      await runAndPrint(deps, forbiddenQuery(scopeFrom(deps, opts, '24h')), opts.json);
    });

  addScopeOptions(ask.command('exec'), '7d')
    .description("who exec'd or attached into pods, with the command")
    .action(async (opts: ScopeOptions) => {
      await runAndPrint(deps, execQuery(scopeFrom(deps, opts, '7d')), opts.json);
    });
  return ask;
}
