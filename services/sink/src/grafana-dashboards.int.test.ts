import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { toAuditRow } from './audit-row.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DASHBOARDS = join(REPO, 'deploy', 'grafana', 'dashboards');
const logger = silentLogger('dashboards-test');

const targetSchema = z.object({ refId: z.string(), rawSql: z.string().min(1), datasource: z.object({ type: z.literal('grafana-clickhouse-datasource') }) });
interface PanelJson {
  title?: string;
  type?: string;
  targets?: unknown[];
  panels?: PanelJson[];
}
const dashboardSchema = z.object({
  uid: z.string(),
  title: z.string(),
  templating: z.object({ list: z.array(z.object({ name: z.string() }).passthrough()) }),
  panels: z.array(z.custom<PanelJson>((v) => typeof v === 'object' && v !== null)),
});

/** Every panel with its SQL, including panels nested in collapsed rows. */
function panelQueries(panels: readonly PanelJson[]): { title: string; sql: string }[] {
  return panels.flatMap((p) => [
    ...(p.targets ?? []).map((t) => ({ title: p.title ?? '(untitled)', sql: targetSchema.parse(t).rawSql })),
    ...panelQueries(p.panels ?? []),
  ]);
}

/**
 * What grafana-clickhouse-datasource does to a query before sending it: its time macros and the dashboard's
 * template variables. Anything `$…` left over afterwards would reach ClickHouse verbatim in Grafana too.
 */
function expandMacros(sql: string, from: Date, to: Date, vars: Record<string, string>): string {
  const f = Math.floor(from.getTime() / 1000);
  const t = Math.floor(to.getTime() / 1000);
  let out = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, col: string) => `${col.trim()} >= toDateTime(${f}) AND ${col.trim()} <= toDateTime(${t})`)
    .replace(/\$__timeInterval\(([^)]+)\)/g, (_, col: string) => `toStartOfInterval(toDateTime(${col.trim()}), INTERVAL 60 second)`)
    .replace(/\$__fromTime/g, `toDateTime(${f})`)
    .replace(/\$__toTime/g, `toDateTime(${t})`)
    .replace(/\$__interval_s/g, '60');
  out = out.replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (whole, a: string | undefined, format: string | undefined, b: string | undefined) => {
    const value = vars[a ?? b ?? ''];
    return value === undefined ? whole : formatVariable(value, format);
  });
  return out;
}

/** Grafana's variable formats (its formatRegistry) that the dashboards use: none (raw) or percentencode. */
function formatVariable(value: string, format: string | undefined): string {
  if (format === undefined) return value;
  // encodeURIComponentStrict: encodeURIComponent plus !'()*, so only [A-Za-z0-9._~%-] remain.
  if (format === 'percentencode') return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  throw new Error(`the test does not know Grafana's ${format} format`);
}

/** Variables whose values a viewer controls (typed, or set in the URL as var-<name>=…). */
const USER_VARIABLES = ['cluster', 'resource', 'name', 'namespace', 'node'];
/**
 * Values that break out of a quoted string: a plain quote, and one that defeats Grafana's `sqlstring` format
 * (it doubles `'` but leaves `\`, which ClickHouse reads as an escape, so `\''` closes the string).
 */
const HOSTILE = ["nginx' OR '1'='1", "\\' OR 1=1 OR '", "x') OR 1=1 OR ('", "x' UNION ALL SELECT line FROM file('/etc/passwd', 'LineAsString') --"];

const dashboards = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, dashboard: dashboardSchema.parse(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8'))) }));

let ch: ClickHouse;
let db: string;
const now = new Date();
const us = (minutesAgo: number) => (now.getTime() - minutesAgo * 60_000) * 1000;
const seed: AuditRecord[] = [
  sampleAuditRecord({ auditID: 'd1', requestReceivedUs: us(30), verb: 'delete', operation: 'delete', objectRef: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'shop', name: 'nginx', uid: null } }),
  sampleAuditRecord({ auditID: 'd2', requestReceivedUs: us(20), verb: 'patch', operation: 'cordon', objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'nodes', subresource: null, namespace: null, name: '172.16.18.13', uid: null } }),
  sampleAuditRecord({ auditID: 'd3', requestReceivedUs: us(10), verb: 'list', response: { code: 403, status: 'Failure', reason: 'Forbidden', message: null }, objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'secrets', subresource: null, namespace: 'shop', name: null, uid: null } }),
  sampleAuditRecord({ auditID: 'd4', requestReceivedUs: us(5), verb: 'create', operation: 'exec', requestURI: '/api/v1/namespaces/shop/pods/web-0/exec?command=sh', objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: 'exec', namespace: 'shop', name: 'web-0', uid: null } }),
  sampleAuditRecord({ auditID: 'd5', requestReceivedUs: us(3), actor: { id: 'anonymous', kind: 'anonymous', displayName: 'system:anonymous', email: null, team: null, account: null, resolvedBy: 'builtin' }, response: { code: 401, status: null, reason: null, message: null } }),
];

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  db = uniqueName('dash');
  await runMigrations({ client: ch, dir: join(REPO, 'migrations', 'clickhouse'), database: db, logger, vars: { retention_days: 3650 } });
  await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
  await ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values: seed.map((r, i) => toAuditRow(r, { topic: 't', partition: 0, offset: String(i), timestamp: '0' })) });
  // The delete delivered twice (an apiserver retry after a lost 200): a second row at another offset, later.
  await ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values: [toAuditRow(seed[0] as AuditRecord, { topic: 't', partition: 0, offset: String(seed.length), timestamp: '0' })] });
});

/** The rows of one panel's first query over the last hour, for every cluster. */
async function panelRows(file: string, title: string): Promise<Record<string, unknown>[]> {
  const found = dashboards.find((d) => d.file === file);
  const panel = panelQueries(found?.dashboard.panels ?? []).find((q) => q.title === title);
  if (!panel) throw new Error(`no panel "${title}" in ${file}`);
  const sql = expandMacros(panel.sql, new Date(now.getTime() - 3_600_000), now, { database: db, cluster: '__all' });
  return (await ch.query({ query: sql, format: 'JSONEachRow' })).json();
}
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

async function panelResults(vars: Record<string, string>): Promise<Map<string, string>> {
  const results = new Map<string, string>();
  for (const { file, dashboard } of dashboards) {
    for (const { title, sql } of panelQueries(dashboard.panels)) {
      const key = `${file} / ${title}: ${sql.slice(0, 40)}`;
      try {
        const rows = await (await ch.query({ query: expandMacros(sql, new Date(now.getTime() - 3_600_000), now, vars), format: 'JSONEachRow', clickhouse_settings: { readonly: '2' } })).json();
        results.set(key, JSON.stringify(rows));
      } catch (err) {
        results.set(key, `error: ${(err as Error).message.slice(0, 160)}`);
      }
    }
  }
  return results;
}

describe('Grafana dashboards (deploy/grafana/dashboards)', () => {
  it('quote every value a viewer controls with ${var:percentencode} (decoded in SQL), never raw or sqlstring', () => {
    const unsafe = dashboards.flatMap(({ file, dashboard }) =>
      panelQueries(dashboard.panels).flatMap(({ title, sql }) =>
        [...sql.matchAll(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g)]
          .filter((m) => USER_VARIABLES.includes(m[1] ?? m[3] ?? '') && m[2] !== 'percentencode')
          .map((m) => `${file} / ${title}: ${m[0]}`),
      ),
    );
    expect(unsafe).toEqual([]);
  });

  it('treat a hostile textbox or URL value exactly like a harmless value that matches nothing', async () => {
    const base = { database: db, resource: 'deployments', name: '', namespace: '', node: '', cluster: '__all' };
    for (const variable of USER_VARIABLES) {
      const harmless = await panelResults({ ...base, [variable]: 'no-such-value' });
      for (const hostile of HOSTILE) {
        const got = await panelResults({ ...base, [variable]: hostile });
        const differing = [...got].filter(([key, rows]) => harmless.get(key) !== rows).map(([key, rows]) => `${variable}=${hostile} → ${key} → ${rows.slice(0, 200)}`);
        expect(differing).toEqual([]);
      }
    }
  }, 120_000);

  it('exist for overview, objects, nodes, trends and security, each with cluster and time-range variables', () => {
    expect(dashboards.map((d) => d.dashboard.uid).sort()).toEqual(['kaudit-nodes', 'kaudit-objects', 'kaudit-overview', 'kaudit-security', 'kaudit-trends']);
    for (const { dashboard } of dashboards) {
      expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(['datasource', 'database', 'cluster']));
      expect(panelQueries(dashboard.panels).length).toBeGreaterThan(0);
    }
  });

  it('count a request stored twice once (the rollup keeps distinct requests, not rows)', async () => {
    expect(await panelRows('overview.json', 'Requests')).toEqual([{ requests: String(seed.length) }]);
    const perCluster = await panelRows('overview.json', 'Requests per cluster');
    expect(perCluster.reduce((n, r) => n + Number(r.requests), 0)).toBe(seed.length);
    const verbs = await panelRows('aggregation-trends.json', 'Requests by verb');
    expect(verbs.filter((r) => r.verb === 'delete').reduce((n, r) => n + Number(r.requests), 0)).toBe(1);
  });

  for (const cluster of ['__all', 'prod-eu-1']) {
    it(`every panel query runs on real ClickHouse with seeded data (cluster=${cluster})`, async () => {
      const vars = { database: db, cluster, resource: 'deployments', name: 'nginx', namespace: '', node: '' };
      const failures: string[] = [];
      let withRows = 0;
      let total = 0;
      for (const { file, dashboard } of dashboards) {
        for (const variable of dashboard.templating.list) {
          const query = typeof variable.query === 'string' && variable.type === 'query' ? variable.query : undefined;
          if (query) await ch.query({ query: expandMacros(query, new Date(now.getTime() - 3_600_000), now, vars), format: 'JSONEachRow' }).then((r) => r.json());
        }
        for (const { title, sql } of panelQueries(dashboard.panels)) {
          total++;
          const expanded = expandMacros(sql, new Date(now.getTime() - 3_600_000), now, vars);
          if (/\$/.test(expanded)) {
            failures.push(`${file} / ${title}: unexpanded ${/\$\{?\w+/.exec(expanded)?.[0]}`);
            continue;
          }
          try {
            const rows = await (await ch.query({ query: expanded, format: 'JSONEachRow', clickhouse_settings: { readonly: '2' } })).json();
            if (rows.length > 0) withRows++;
          } catch (err) {
            failures.push(`${file} / ${title}: ${(err as Error).message}`);
          }
        }
      }
      expect(failures).toEqual([]);
      // The seed covers each dashboard's subject, so most panels must show something, not just parse.
      expect(withRows).toBeGreaterThanOrEqual(Math.ceil(total * 0.75));
    });
  }
});
