import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, roleUserStatements, runMigrations, sha256Hex, teamDatabase, teamUserName, teamUserSpecs, teamViewStatements, type ClickHouse } from '@kaudit/clickhouse';
import { clickhousePaths, freePort, readLocalRoleCredentials, startClickHouse, stopPid, type LocalRoleCredentials } from '@kaudit/stack';
import { toAuditRow } from '@kaudit/sink';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';
import { setupPipeline } from './setup-command.js';
import { localTeamUsers, readNamespaceMap } from './team-users.js';

/**
 * Issue 17, team-scoped access: a team's ClickHouse user reads the audit trail (audit_events, alerts) of
 * the namespaces the directory's `namespaces:` map gives that team, and nothing else — no other namespace,
 * no cluster-scoped event, no other table, file, URL or server, by no query shape. A private real engine is
 * started with the team users exactly as `npm start` starts it (users.xml), `kaudit setup` creates the
 * team views as `npm start` does, and both are probed through the CLI (`kaudit ask`, `kaudit sql`) and directly.
 */
const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('team-users-test');
const paths = repoPaths();
const database = uniqueName('teams');
const dir = join(paths.state, 'stack', uniqueName('teams'), 'clickhouse');
const directoryFile = join(dir, '..', 'directory.yaml');
let port: number;
let url: string;
let pid: number;
let creds: LocalRoleCredentials;
let admin: ClickHouse;
const clients: ClickHouse[] = [];

// Exact names first, then globs in file order, first match wins (as enrich's teamForNamespace):
// web-shop is web's by glob, kube-system falls to the platform catch-all, and '' (cluster-scoped) is nobody's.
const DIRECTORY = `identities: []
namespaces:
  web: web
  "web-*": web
  payments: payments
  checkout: payments
  monitoring: sre
  "*": platform
`;
const SCOPE: Record<string, string[]> = { web: ['web', 'web-shop'], payments: ['checkout', 'payments'], platform: ['kube-system'] };

const T0 = Date.parse('2026-03-10T09:30:00Z') * 1000;
const RANGE = ['--since', '2026-03-10T08:00:00Z', '--until', '2026-03-10T12:00:00Z'];

interface Seed {
  id: string;
  ns: string;
  who: string;
  verb: string;
  resource: string;
  name: string;
  code?: number;
}
// Offsets grow down the list, so the highest offset (payments') tells whether a query saw past its filter.
const EVENTS: Seed[] = [
  { id: 'del-web', ns: 'web', who: 'Deng Wei', verb: 'delete', resource: 'deployments', name: 'nginx' },
  { id: 'del-web-shop', ns: 'web-shop', who: 'Erik Lindqvist', verb: 'delete', resource: 'deployments', name: 'nginx' },
  { id: 'del-kube-system', ns: 'kube-system', who: 'Alice Moreau', verb: 'delete', resource: 'deployments', name: 'nginx' },
  { id: 'del-monitoring', ns: 'monitoring', who: 'kube-state-metrics', verb: 'delete', resource: 'deployments', name: 'nginx' },
  { id: 'deny-web', ns: 'web', who: 'Deng Wei', verb: 'get', resource: 'secrets', name: 'db', code: 403 },
  { id: 'deny-cluster', ns: '', who: 'kube-state-metrics', verb: 'list', resource: 'nodes', name: '', code: 403 },
  { id: 'del-node', ns: '', who: 'Alice Moreau', verb: 'delete', resource: 'nodes', name: 'node-1' },
  { id: 'del-clusterrole', ns: '', who: 'Alice Moreau', verb: 'delete', resource: 'clusterroles', name: 'nginx' },
  { id: 'deny-checkout', ns: 'checkout', who: 'Bob Nakamura', verb: 'get', resource: 'secrets', name: 'stripe', code: 403 },
  { id: 'del-payments', ns: 'payments', who: 'Bob Nakamura', verb: 'delete', resource: 'deployments', name: 'nginx' },
];
const ALERTS = [
  { id: 'al-web', ns: 'web' },
  { id: 'al-web-shop', ns: 'web-shop' },
  { id: 'al-payments', ns: 'payments' },
  { id: 'al-kube-system', ns: 'kube-system' },
  { id: 'al-cluster-admin', ns: '' },
];

function record(s: Seed): AuditRecord {
  return sampleAuditRecord({
    auditID: s.id,
    cluster: 'prod-eu-1',
    verb: s.verb,
    operation: s.verb === 'delete' ? 'delete' : 'read',
    requestReceivedUs: T0,
    stageUs: T0,
    requestURI: `/api/v1/${s.ns ? `namespaces/${s.ns}/` : ''}${s.resource}${s.name ? `/${s.name}` : ''}`,
    response: { code: s.code ?? 200, status: null, reason: null, message: null },
    sourceIPs: ['10.0.0.7', '10.0.0.8'],
    actor: { id: `id:${s.who}`, kind: 'human', displayName: s.who, email: null, team: null, account: null, resolvedBy: 'directory-file' },
    objectRef: { apiGroup: '', apiVersion: 'v1', resource: s.resource, subresource: null, namespace: s.ns || null, name: s.name || null, uid: null },
  });
}

/** The ClickHouse error code a query fails with, or its rows. */
async function attempt(client: ClickHouse, query: string, settings: Record<string, string> = {}): Promise<{ code: string } | { rows: Record<string, unknown>[] }> {
  try {
    const rs = await client.query({ query, format: 'JSONEachRow', clickhouse_settings: settings });
    return { rows: await rs.json<Record<string, unknown>>() };
  } catch (err) {
    return { code: String((err as { code?: unknown }).code ?? (err as Error).message) };
  }
}
async function rows(client: ClickHouse, query: string): Promise<Record<string, unknown>[]> {
  const result = await attempt(client, query);
  if ('code' in result) throw new Error(`${query} failed with ${result.code}`);
  return result.rows;
}
async function failure(client: ClickHouse, query: string, settings: Record<string, string> = {}): Promise<string> {
  const result = await attempt(client, query, settings);
  return 'code' in result ? result.code : `ok: ${JSON.stringify(result.rows).slice(0, 300)}`;
}

function teamCredential(team: string): { user: string; password: string } {
  const found = creds.teams?.users[team];
  if (!found) throw new Error(`the local engine has no user for team ${team}`);
  return found;
}
function asTeam(team: string): ClickHouse {
  const c = teamCredential(team);
  const client = createClickHouse({ url, username: c.user, password: c.password });
  clients.push(client);
  return client;
}

async function kaudit(env: Record<string, string>, ...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = buildProgram({ env: { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database, ...env }, paths, logger, out: (t) => out.push(t), setExitCode: () => undefined });
  program.exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return out.join('\n');
}
const teamEnv = (team: string) => ({ CLICKHOUSE_USER: teamCredential(team).user, CLICKHOUSE_PASSWORD: teamCredential(team).password, CLICKHOUSE_DATABASE: teamDatabase(database, team) });
const namespacesOf = (list: Record<string, unknown>[], column = 'ns') => [...new Set(list.map((r) => String(r[column])))].sort();

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(directoryFile, DIRECTORY);
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  pid = await startClickHouse({ dir, cacheDir: join(paths.state, 'cache'), httpPort: port, logger, roleUsers: { database, teams: { namespaces: readNamespaceMap(directoryFile) } } });
  const found = readLocalRoleCredentials(dir);
  if (!found) throw new Error('the local engine wrote no role-users file');
  creds = found;
  admin = createClickHouse({ url });
  await runMigrations({ client: admin, dir: MIGRATIONS, database, logger, vars: { retention_days: 3650 } });
  await admin.insert({
    table: `${database}.audit_events`,
    format: 'JSONEachRow',
    values: EVENTS.map((s, i) => toAuditRow(record(s), { topic: 'kaudit.audit.enriched.v1', partition: 0, offset: String(i), timestamp: '0' })),
  });
  await admin.insert({
    table: `${database}.alerts`,
    format: 'JSONEachRow',
    values: ALERTS.map((a, i) => ({
      alert_id: a.id, rule_id: 'r', rule_name: 'rule', severity: 'high', tags: [], cluster: 'prod-eu-1', summary: `alert in ${a.ns || 'the cluster'}`, count: 1,
      first_seen: '2026-03-10 09:30:00', last_seen: '2026-03-10 09:30:00', object_namespace: a.ns, audit_ids: [], created_at: '2026-03-10 09:30:00', _offset: i,
    })),
  });
  // What `npm start` does after the engine is up: setup creates each local team's views and checks its login.
  const teamUsers = localTeamUsers(creds);
  if (!teamUsers) throw new Error('no local team users');
  await setupPipeline({ kafkaBrokers: testEndpoints().kafkaBrokers, clickhouse: { url }, database, retentionDays: 3650, migrationsDir: MIGRATIONS, teamUsers }, logger);
}, 120_000);

afterAll(async () => {
  await Promise.all([admin, ...clients].filter(Boolean).map((c) => c.close()));
  if (pid) await stopPid(pid, clickhousePaths(dir).pid, 15_000);
  rmSync(join(dir, '..'), { recursive: true, force: true });
}, 60_000);

describe('team-scoped users (issue 17)', () => {
  it('the local engine has one user per team of the directory, named kaudit_team_<team>', () => {
    expect(Object.fromEntries(Object.entries(creds.teams?.users ?? {}).map(([t, c]) => [t, c.user]))).toEqual({
      web: 'kaudit_team_web', payments: 'kaudit_team_payments', sre: 'kaudit_team_sre', platform: 'kaudit_team_platform',
    });
  });

  it('the same `kaudit ask` question as two teams gives two different answers, each exactly its own namespaces', async () => {
    const whoDeleted = async (env: Record<string, string>) =>
      (JSON.parse(await kaudit(env, 'ask', 'who-deleted', 'deployment/nginx', ...RANGE, '--json')) as { who: string; namespace: string }[]).map((r) => `${r.namespace}:${r.who}`).sort();
    expect(await whoDeleted(teamEnv('web'))).toEqual(['web-shop:Erik Lindqvist', 'web:Deng Wei']);
    expect(await whoDeleted(teamEnv('payments'))).toEqual(['payments:Bob Nakamura']);
    expect(await whoDeleted(teamEnv('platform'))).toEqual(['kube-system:Alice Moreau']);
    expect(await whoDeleted(teamEnv('sre'))).toEqual(['monitoring:kube-state-metrics']);
    // The fleet-wide query user still sees every namespace: the teams' filters hide nothing from it.
    const fleet = { CLICKHOUSE_USER: creds.query.user, CLICKHOUSE_PASSWORD: creds.query.password };
    expect(await whoDeleted(fleet)).toHaveLength(5);

    const forbidden = async (env: Record<string, string>) => (JSON.parse(await kaudit(env, 'ask', 'forbidden', ...RANGE, '--json')) as { who: string; attempts: string[] }[]).map((r) => `${r.who}:${r.attempts.join('|')}`);
    expect(await forbidden(teamEnv('web'))).toEqual(['Deng Wei:get secrets']);
    expect(await forbidden(teamEnv('payments'))).toEqual(['Bob Nakamura:get secrets']);
    // The investigations too: Alice's trail as platform shows only kube-system, none of her cluster-scoped deletions.
    const trail = JSON.parse(await kaudit(teamEnv('platform'), 'ask', 'actor', 'Alice Moreau', ...RANGE, '--json')) as unknown;
    expect(JSON.stringify(trail)).toContain('kube-system');
    expect(JSON.stringify(trail)).not.toMatch(/node-1|clusterroles/);
    const history = JSON.stringify(JSON.parse(await kaudit(teamEnv('payments'), 'ask', 'history', 'deployment/nginx', ...RANGE, '--json')));
    expect(history).toContain('Bob Nakamura');
    expect(history).not.toMatch(/Deng Wei|Erik Lindqvist|Alice Moreau/);
    // The refused cluster-wide `list nodes` is nobody's but the fleet's.
    expect(await forbidden(teamEnv('sre'))).toEqual([]);
    expect((await forbidden(fleet)).sort()).toEqual(['Bob Nakamura:get secrets', 'Deng Wei:get secrets', 'kube-state-metrics:list nodes']);
  });

  it('`kaudit sql` as a team user reads only its namespaces of audit_events and alerts, never a cluster-scoped row', async () => {
    for (const [team, scope] of Object.entries(SCOPE)) {
      const events = JSON.parse(await kaudit(teamEnv(team), 'sql', 'SELECT DISTINCT object_namespace AS ns FROM {db:Identifier}.audit_events', '--json')) as Record<string, unknown>[];
      expect(namespacesOf(events), team).toEqual(scope);
      const alerts = JSON.parse(await kaudit(teamEnv(team), 'sql', 'SELECT DISTINCT object_namespace AS ns FROM {db:Identifier}.alerts', '--json')) as Record<string, unknown>[];
      expect(namespacesOf(alerts), team).toEqual(ALERTS.map((a) => a.ns).filter((ns) => scope.includes(ns)).sort());
    }
    const cluster = JSON.parse(await kaudit(teamEnv('platform'), 'sql', "SELECT count() AS n FROM {db:Identifier}.audit_events WHERE object_namespace = ''", '--json')) as { n: string }[];
    expect(cluster).toEqual([{ n: '0' }]);
    // The kaudit database itself is not theirs to read, through `kaudit sql` either.
    await expect(kaudit(teamEnv('web'), 'sql', `SELECT count() FROM ${database}.audit_events`)).rejects.toThrow(/Not enough privileges|ACCESS_DENIED/);
  });

  it('no query shape reads past the filter: count(), offsets, subqueries, view(), JOINs, ARRAY JOIN, merge(), index and projection readers', async () => {
    const web = asTeam('web');
    const db = teamDatabase(database, 'web');
    const webRows = EVENTS.filter((e) => SCOPE.web?.includes(e.ns));
    const maxWebOffset = Math.max(...EVENTS.flatMap((e, i) => (SCOPE.web?.includes(e.ns) ? [i] : [])));
    // count() (answered from part metadata when unfiltered) and an offset lookup (served by the by_offset projection when unfiltered).
    expect(await rows(web, `SELECT count() AS n FROM ${db}.audit_events`)).toEqual([{ n: String(webRows.length) }]);
    expect(await rows(web, `SELECT toString(max(_offset)) AS m FROM ${db}.audit_events WHERE _topic = 'kaudit.audit.enriched.v1' AND _partition = 0`)).toEqual([{ m: String(maxWebOffset) }]);
    expect(await rows(web, `SELECT count() AS n FROM ${db}.alerts`)).toEqual([{ n: '2' }]);
    const shapes = [
      `SELECT object_namespace AS ns FROM ${db}.audit_events`,
      `SELECT object_namespace AS ns FROM ${db}.audit_events PREWHERE 1 WHERE 1`,
      `SELECT ns FROM (SELECT object_namespace AS ns FROM ${db}.audit_events UNION ALL SELECT object_namespace FROM ${db}.alerts)`,
      `WITH e AS (SELECT * FROM ${db}.audit_events) SELECT object_namespace AS ns FROM e`,
      `SELECT ns FROM view(SELECT object_namespace AS ns FROM ${db}.audit_events)`,
      `SELECT e.object_namespace AS ns FROM ${db}.audit_events AS e FULL OUTER JOIN ${db}.alerts AS a ON e.cluster = a.cluster`,
      `SELECT a.object_namespace AS ns FROM ${db}.audit_events AS e FULL OUTER JOIN ${db}.alerts AS a ON e.cluster = a.cluster`,
      `SELECT object_namespace AS ns FROM ${db}.audit_events ARRAY JOIN source_ips AS ip`,
      `SELECT object_namespace AS ns FROM ${db}.audit_events WHERE audit_id IN (SELECT audit_id FROM ${db}.audit_events)`,
      `SELECT arrayJoin(groupArray(object_namespace)) AS ns FROM ${db}.audit_events`,
      `SELECT object_namespace AS ns FROM merge('${db}', '.*')`,
      `SELECT object_namespace AS ns FROM merge('${database}', '^audit_events$')`,
      `SELECT object_namespace AS ns FROM merge('.*', '^audit_events$')`,
      `SELECT object_namespace AS ns FROM ${database}.audit_events`,
      `SELECT object_namespace AS ns FROM ${database}.alerts`,
      // Readers of a table's parts that skip row filters (ClickHouse#115230): on the tables they are not granted, on the views they do not apply.
      `SELECT object_namespace AS ns FROM mergeTreeIndex('${database}', 'audit_events', with_marks = true)`,
      `SELECT object_namespace AS ns FROM mergeTreeIndex('${db}', 'audit_events')`,
      `SELECT toString(_offset) AS ns FROM mergeTreeProjection('${database}', 'audit_events', 'by_offset')`,
      `SELECT part_name AS ns FROM mergeTreeAnalyzeIndexes('${database}', 'audit_events')`,
    ];
    for (const query of shapes) {
      const result = await attempt(web, query);
      if ('code' in result) expect(result.code, query).toMatch(/^(497|48|36|60|81|182|636)$/);
      else expect(namespacesOf(result.rows).filter((ns) => !SCOPE.web?.includes(ns)), query).toEqual([]);
    }
    // The view's definition, which the team may read, names no other team's namespaces that could not concern it.
    const definition = JSON.stringify(await rows(web, `SHOW CREATE TABLE ${db}.audit_events`));
    expect(definition).toContain("'web'");
    expect(definition).not.toMatch(/payments|checkout|monitoring/);
    // Not even the kaudit database's tables are listed (their row counts would tell the fleet's size).
    expect(await rows(web, `SELECT name FROM system.tables WHERE database = '${database}'`)).toEqual([]);
  });

  it('reads no other table of the kaudit database, no system table with data, no file, URL or server', async () => {
    const web = asTeam('web');
    // audit_rollup_1m keeps its table (no view since 0010); the rollups that are filled, and their views, are as closed.
    for (const table of ['audit_events', 'alerts', 'audit_rollup_1m', 'audit_rollup_1m_v2', 'audit_rollup_1m_v2_mv', 'audit_load_1m', 'audit_load_1m_mv', 'schema_migrations']) {
      expect(await failure(web, `SELECT * FROM ${database}.${table} LIMIT 1`), table).toBe('497');
    }
    for (const table of ['system.query_log', 'system.processes', 'system.parts', 'system.projection_parts', 'system.parts_columns', 'system.text_log', 'system.users', 'system.row_policies', 'system.grants']) {
      expect(await failure(web, `SELECT * FROM ${table} LIMIT 1`), table).toMatch(/^(497|60)$/);
    }
    expect(await failure(web, "SELECT * FROM file('/etc/passwd', 'LineAsString')")).toBe('497');
    expect(await failure(web, `SELECT * FROM url('${url}/?query=SELECT+1', 'LineAsString')`)).toBe('497');
    expect(await failure(web, `SELECT * FROM remote('127.0.0.1:${port}', ${database}.audit_events)`)).toBe('497');
    expect(await failure(web, `SELECT * FROM cluster('default', ${database}.audit_events)`)).toMatch(/^(497|701)$/);
    expect(await failure(web, `SELECT * FROM clusterAllReplicas('default', ${database}.audit_events)`)).toMatch(/^(497|701)$/);
    // The server survived all of that.
    expect(await rows(admin, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('cannot lift readonly, change a setting, write, or create a view to escape', async () => {
    const web = asTeam('web');
    expect(await failure(web, 'SELECT 1', { readonly: '0' })).toBe('164');
    expect(await failure(web, 'SELECT 1', { readonly: '2' })).toBe('164');
    expect(await failure(web, 'SELECT 1', { enable_analyzer: '0' })).toBe('164');
    expect(await failure(web, `SELECT 1 SETTINGS additional_table_filters = {'${database}.audit_events': '1'}`)).toBe('164');
    for (const statement of [
      'SET readonly = 0',
      `CREATE VIEW ${database}.leak AS SELECT * FROM ${database}.audit_events`,
      `CREATE OR REPLACE VIEW ${teamDatabase(database, 'web')}.audit_events AS SELECT * FROM ${database}.audit_events`,
      `INSERT INTO ${database}.audit_events (cluster, object_namespace) VALUES ('x', 'payments')`,
      `ALTER TABLE ${database}.audit_events DELETE WHERE 1`,
    ]) {
      try {
        await web.command({ query: statement });
        throw new Error(`${statement} succeeded`);
      } catch (err) {
        expect(String((err as { code?: unknown }).code), statement).toMatch(/^(164|497)$/);
      }
    }
  });

  it('`kaudit ask load` (the per-minute rollups, which have no namespace) is refused for a team user with the reason', async () => {
    await expect(kaudit(teamEnv('web'), 'ask', 'load', '--by', 'user', ...RANGE)).rejects.toThrow(/Team-scoped users .* read only audit_events and alerts[\s\S]*no namespace column/);
    // Also when pointed at the kaudit database itself.
    await expect(kaudit({ ...teamEnv('web'), CLICKHOUSE_DATABASE: database }, 'ask', 'load', '--by', 'user', ...RANGE)).rejects.toThrow(/Team-scoped users/);
    await expect(kaudit({ CLICKHOUSE_USER: creds.query.user, CLICKHOUSE_PASSWORD: creds.query.password }, 'ask', 'load', '--by', 'user', ...RANGE, '--json')).resolves.toMatch(/^\[/);
  });

  it('the fleet-wide query and sink users still see every row (the teams’ filters hide nothing from them)', async () => {
    const query = createClickHouse({ url, username: creds.query.user, password: creds.query.password });
    const sink = createClickHouse({ url, username: creds.sink.user, password: creds.sink.password });
    clients.push(query, sink);
    expect(await rows(query, `SELECT count() AS n FROM ${database}.audit_events`)).toEqual([{ n: String(EVENTS.length) }]);
    expect(await rows(query, `SELECT count() AS n FROM ${database}.alerts`)).toEqual([{ n: String(ALERTS.length) }]);
    // The sink's exactly-once lookup must see its own rows of every namespace.
    expect(await rows(sink, `SELECT toString(maxOrNull(_offset)) AS m FROM ${database}.audit_events WHERE _topic = 'kaudit.audit.enriched.v1' AND _partition = 0`)).toEqual([{ m: String(EVENTS.length - 1) }]);
  });
});

describe('kaudit setup and the team users', () => {
  const env = (extra: Record<string, string> = {}) => ({ KAUDIT_TEAM_USERS: 'web,payments', ENRICH_DIRECTORY_FILE: directoryFile, ...extra });

  it('checks each team user it has a password for (the local engine defines them in users.xml), and says which it skipped', async () => {
    const target = {
      kafkaBrokers: testEndpoints().kafkaBrokers, clickhouse: { url }, database, retentionDays: 3650, migrationsDir: MIGRATIONS,
      teamUsers: { teams: ['web', 'payments'], namespaces: readNamespaceMap(directoryFile), directoryFile, passwords: { web: teamCredential('web').password } },
    };
    const result = await setupPipeline(target, logger);
    expect(result.teams).toEqual([
      { team: 'web', user: 'kaudit_team_web', database: `${database}_team_web`, outcome: 'server-config', variable: 'KAUDIT_TEAM_WEB_CLICKHOUSE_PASSWORD' },
      { team: 'payments', user: 'kaudit_team_payments', database: `${database}_team_payments`, outcome: 'skipped', variable: 'KAUDIT_TEAM_PAYMENTS_CLICKHOUSE_PASSWORD' },
    ]);
    await expect(setupPipeline({ ...target, teamUsers: { ...target.teamUsers, passwords: { web: 'wrong' } } }, logger)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(setupPipeline({ ...target, teamUsers: { ...target.teamUsers, teams: ['marketing'] } }, logger)).rejects.toThrow(/team "marketing" owns no namespace/);
  }, 60_000);

  it('--print-sql prints the team views before the grants, which the real engine parses, and only password hashes', async () => {
    const out = await kaudit(env({ KAUDIT_TEAM_WEB_CLICKHOUSE_PASSWORD: 'w-secret' }), 'setup', '--print-sql');
    const webDb = teamDatabase(database, 'web');
    expect(out).toContain(`CREATE OR REPLACE VIEW ${webDb}.audit_events DEFINER = CURRENT_USER SQL SECURITY DEFINER AS SELECT * FROM ${database}.audit_events WHERE object_namespace != '' AND multiIf(`);
    expect(out).toContain(`GRANT SELECT ON ${webDb}.alerts TO ${teamUserName('web')};`);
    // Nothing of the kaudit database itself is granted to a team.
    expect(out).not.toMatch(new RegExp(`GRANT .* ON ${database}\\..* TO kaudit_team_`));
    expect(out).toContain(sha256Hex('w-secret'));
    expect(out).not.toContain('w-secret');
    expect(out).toMatch(/KAUDIT_TEAM_PAYMENTS_CLICKHOUSE_PASSWORD not set/);
    expect(out.indexOf(`CREATE OR REPLACE VIEW ${webDb}.alerts`)).toBeLessThan(out.indexOf(`GRANT SELECT ON ${webDb}.audit_events TO kaudit_team_web;`));
    const statements = out.split('\n').filter((l) => /^(CREATE|ALTER|REVOKE|GRANT)/.test(l));
    expect(statements.length).toBeGreaterThan(10);
    // The cluster-mode form (CLICKHOUSE_CLUSTER) parses too.
    const [spec] = teamUserSpecs({ database, teams: ['web'], namespaces: readNamespaceMap(directoryFile) });
    if (!spec) throw new Error('no spec');
    statements.push(...teamViewStatements(spec, 'prod'), ...roleUserStatements(spec, sha256Hex('pw'), 'prod'));
    for (const statement of statements) {
      const ast = await (await admin.query({ query: `EXPLAIN AST ${statement.replace(/;$/, '')}`, format: 'TabSeparatedRaw' })).text();
      expect(ast, statement).toMatch(/Query/);
    }
  });
});
