import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { toAuditRow } from '@kaudit/sink';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('ask-test');
let ch: ClickHouse;
let db: string;

const T0 = Date.parse('2026-03-10T09:00:00Z') * 1000; // µs
const at = (minutes: number, extraUs = 0) => T0 + minutes * 60_000_000 + extraUs;
const RANGE = ['--since', '2026-03-10T08:00:00Z', '--until', '2026-03-10T12:00:00Z'];

const people = {
  alice: { id: 'user:alice@example.com', kind: 'human', displayName: 'Alice Example', email: 'alice@example.com', team: 'platform', account: null, resolvedBy: 'directory-file' },
  bob: { id: 'aws:123:role/admin/bob', kind: 'human', displayName: 'Bob Builder', email: 'bob@example.com', team: 'sre', account: '123', resolvedBy: 'directory-file' },
  carol: { id: 'oidc:carol', kind: 'human', displayName: 'Carol Danvers', email: 'carol@example.com', team: 'infra', account: null, resolvedBy: 'http-directory' },
  dave: { id: 'sa:ci:deployer', kind: 'serviceaccount', displayName: 'ci/deployer', email: null, team: 'ci', account: null, resolvedBy: 'builtin' },
  erin: { id: 'user:erin', kind: 'human', displayName: 'Erin Hacker', email: 'erin@example.com', team: 'payments', account: null, resolvedBy: 'directory-file' },
} satisfies Record<string, AuditRecord['actor']>;

function ev(i: number, over: Partial<AuditRecord>): AuditRecord {
  return sampleAuditRecord({ auditID: `ask-${i}`, cluster: 'prod-eu-1', ...over });
}

const seed: AuditRecord[] = [
  // Bob deletes the nginx Deployment: two stages of one request must show as one row.
  ...['RequestReceived', 'ResponseComplete'].map((stage, s) =>
    ev(1, { stage, verb: 'delete', operation: 'delete', requestReceivedUs: at(30), stageUs: at(30, s * 1000), actor: people.bob, response: { code: 200, status: 'Success', reason: null, message: null },
      objectRef: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'shop', name: 'nginx', uid: null } }),
  ),
  // Someone reads it (not a delete), and another cluster deletes an nginx outside the range.
  ev(2, { verb: 'get', operation: 'read', requestReceivedUs: at(31), actor: people.alice, objectRef: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'shop', name: 'nginx', uid: null } }),
  ev(3, { cluster: 'prod-us-1', verb: 'delete', operation: 'delete', requestReceivedUs: at(-600), actor: people.alice, objectRef: { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'shop', name: 'nginx', uid: null } }),
  // Carol cordons the node.
  ev(4, { verb: 'patch', operation: 'cordon', requestReceivedUs: at(45), actor: people.carol, requestURI: '/api/v1/nodes/172.16.18.13',
    objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'nodes', subresource: null, namespace: null, name: '172.16.18.13', uid: null } }),
  // The CI service account keeps getting 403s on secrets.
  ...[0, 1, 2].map((k) =>
    ev(10 + k, { verb: 'list', operation: 'list', requestReceivedUs: at(50 + k), actor: people.dave, response: { code: 403, status: 'Failure', reason: 'Forbidden', message: 'forbidden' },
      authorization: { decision: 'forbid', reason: '' }, objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'secrets', subresource: null, namespace: 'shop', name: null, uid: null } }),
  ),
  // Erin execs into a pod.
  ev(20, { verb: 'create', operation: 'exec', requestReceivedUs: at(60), actor: people.erin, response: { code: 101, status: null, reason: null, message: null },
    requestURI: '/api/v1/namespaces/shop/pods/web-0/exec?command=sh&command=-c&command=id&container=web&stdin=true&tty=true',
    objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'pods', subresource: 'exec', namespace: 'shop', name: 'web-0', uid: null } }),
  // Hours before the other tests' range (so their counts stay): Erin, impersonating a service account,
  // is refused twice; Carol is refused a non-resource URL.
  ...[0, 1].map((k) =>
    ev(30 + k, { verb: 'get', operation: 'read', requestReceivedUs: at(-300 + k), actor: people.erin, response: { code: 403, status: 'Failure', reason: 'Forbidden', message: 'forbidden' },
      impersonatedUser: { username: 'system:serviceaccount:shop:admin', uid: null, groups: [], extra: {} },
      objectRef: { apiGroup: '', apiVersion: 'v1', resource: 'secrets', subresource: null, namespace: 'shop', name: 'db', uid: null } }),
  ),
  ev(32, { verb: 'get', operation: 'read', requestReceivedUs: at(-290), actor: people.carol, requestURI: '/metrics', response: { code: 403, status: 'Failure', reason: 'Forbidden', message: 'forbidden' },
    objectRef: { apiGroup: null, apiVersion: null, resource: null, subresource: null, namespace: null, name: null, uid: null } }),
  // Alice is the load: 20 gets.
  ...Array.from({ length: 20 }, (_, k) => ev(100 + k, { verb: 'get', requestReceivedUs: at(70, k), actor: people.alice })),
];

async function kaudit(...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = buildProgram({
    // The shared engine's role users are granted on `kaudit` only, and this test has its own database, so it
    // reads as `default`; what the query user may and may not do is role-users.int.test.ts.
    env: { CLICKHOUSE_URL: testEndpoints().clickhouseUrl, CLICKHOUSE_DATABASE: db, CLICKHOUSE_USER: 'default' },
    paths: repoPaths(),
    logger,
    out: (t) => out.push(t),
    setExitCode: () => undefined,
  });
  program.exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return out.join('\n');
}

async function askJson(...args: string[]): Promise<Record<string, unknown>[]> {
  return JSON.parse(await kaudit(...args, ...RANGE, '--json')) as Record<string, unknown>[];
}

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  db = uniqueName('ask');
  await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
  await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
  await ch.insert({
    table: `${db}.audit_events`,
    format: 'JSONEachRow',
    values: [
      ...seed.map((r, i) => toAuditRow(r, { topic: 't', partition: 0, offset: String(i), timestamp: '0' })),
      // Alice's first get twice in the same insert (enrich re-producing it within one fetch): one request.
      toAuditRow(seed.find((r) => r.auditID === 'ask-100') as AuditRecord, { topic: 't', partition: 0, offset: '1000', timestamp: '0' }),
    ],
  });
  // One of Alice's gets delivered twice (an apiserver retry after a lost 200): a second row, at another offset,
  // in a later insert. ReplacingMergeTree collapses it eventually; every count must already treat it as one.
  await ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values: [toAuditRow(seed[seed.length - 1] as AuditRecord, { topic: 't', partition: 0, offset: String(seed.length), timestamp: '0' })] });
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe('kaudit ask', () => {
  it('who-deleted names the person (not just the account) and the time, once per request', async () => {
    const rows = await askJson('ask', 'who-deleted', 'deployment/nginx');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ time: '2026-03-10T09:30:00.000000Z', cluster: 'prod-eu-1', namespace: 'shop', who: 'Bob Builder', email: 'bob@example.com', team: 'sre', account: 'aws:123:role/admin/bob' });
    const text = await kaudit('ask', 'who-deleted', 'deploy/nginx', ...RANGE);
    expect(text.split('\n')[0]).toMatch(/^TIME\s+CLUSTER\s+NAMESPACE/);
    expect(text).toContain('Bob Builder');
    // Widening the range finds the other cluster's delete too; --cluster narrows it again.
    const wide = JSON.parse(await kaudit('ask', 'who-deleted', 'deployments/nginx', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-11T00:00:00Z', '--json')) as unknown[];
    expect(wide).toHaveLength(2);
    const one = JSON.parse(await kaudit('ask', 'who-deleted', 'deployments/nginx', '--cluster', 'prod-us-1', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-11T00:00:00Z', '--json')) as Record<string, unknown>[];
    expect(one.map((r) => r.who)).toEqual(['Alice Example']);
  });

  it('who-cordoned names who cordoned the node and when', async () => {
    const rows = await askJson('ask', 'who-cordoned', '172.16.18.13');
    expect(rows).toEqual([expect.objectContaining({ time: '2026-03-10T09:45:00.000000Z', node: '172.16.18.13', operation: 'cordon', who: 'Carol Danvers', email: 'carol@example.com', team: 'infra' })]);
  });

  it('forbidden lists who is getting 403s and for what', async () => {
    const rows = await askJson('ask', 'forbidden');
    expect(rows).toEqual([expect.objectContaining({ who: 'ci/deployer', team: 'ci', account: 'sa:ci:deployer', denied: '3', last_time: '2026-03-10T09:52:00.000000Z', attempts: ['list secrets'] })]);
  });

  it('forbidden shows the impersonated user next to the impersonator, and the URL of a non-resource attempt (issue 15 §3)', async () => {
    const rows = JSON.parse(await kaudit('ask', 'forbidden', '--since', '2026-03-10T03:30:00Z', '--until', '2026-03-10T04:30:00Z', '--json')) as Record<string, unknown>[];
    expect(rows).toEqual([
      expect.objectContaining({ who: 'Erin Hacker', as_user: 'system:serviceaccount:shop:admin', denied: '2', attempts: ['get secrets'] }),
      expect.objectContaining({ who: 'Carol Danvers', as_user: '', denied: '1', attempts: ['get /metrics'] }),
    ]);
  });

  it("exec lists who exec'd into which pod with the command", async () => {
    const rows = await askJson('ask', 'exec');
    expect(rows).toEqual([expect.objectContaining({ time: '2026-03-10T10:00:00.000000Z', namespace: 'shop', pod: 'web-0', command: 'sh -c id', who: 'Erin Hacker', email: 'erin@example.com' })]);
  });

  it('load --by user|verb|code|useragent ranks from the rollup, with the person and the busiest minute, counting a duplicated event once', async () => {
    const [top] = await askJson('ask', 'load', '--by', 'user');
    expect(top).toMatchObject({ user: 'user:alice@example.com', who: 'Alice Example', team: 'platform', requests: '21', peak_per_minute: '20', peak_minute: '2026-03-10T10:10:00Z' });
    const verbs = await askJson('ask', 'load', '--by', 'verb');
    expect(verbs[0]).toMatchObject({ verb: 'get', requests: '21' });
    const codes = await askJson('ask', 'load', '--by', 'code');
    expect(codes.find((r) => r.code === '403')).toMatchObject({ requests: '3' });
    const agents = await askJson('ask', 'load', '--by', 'useragent');
    expect(agents[0]).toMatchObject({ useragent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46' });
  });

  it('load --chart gives the per-minute series of the top --limit keys, on the same counts as load, duplicate counted once', async () => {
    const users = JSON.parse(await kaudit('ask', 'load', '--chart', '--by', 'user', '--limit', '2', ...RANGE, '--json')) as { by: string; series: unknown[] };
    expect(users.by).toBe('user');
    expect(users.series).toEqual([
      { key: 'user:alice@example.com', who: 'Alice Example', requests: 21, peakPerMinute: 20, peakMinute: '2026-03-10T10:10:00Z',
        points: [{ minute: '2026-03-10T09:31:00Z', requests: 1 }, { minute: '2026-03-10T10:10:00Z', requests: 20 }] },
      { key: 'sa:ci:deployer', who: 'ci/deployer', requests: 3, peakPerMinute: 1, peakMinute: '2026-03-10T09:52:00Z',
        points: ['09:50', '09:51', '09:52'].map((m) => ({ minute: `2026-03-10T${m}:00Z`, requests: 1 })) },
    ]);
    // Without --limit a chart shows five series; every verb of the range here, ranked like `ask load`, ties by key.
    const verbs = JSON.parse(await kaudit('ask', 'load', '--chart', '--by', 'verb', ...RANGE, '--json')) as { series: { key: string; who: string; requests: number }[] };
    expect(verbs.series.map((s) => [s.key, s.requests, s.who])).toEqual([['get', 21, ''], ['list', 3, ''], ['create', 1, ''], ['delete', 1, ''], ['patch', 1, '']]);
    const codes = JSON.parse(await kaudit('ask', 'load', '--chart', '--by', 'code', '--cluster', 'prod-eu-1', ...RANGE, '--json')) as { series: { key: string; requests: number; points: unknown[] }[] };
    expect(codes.series.map((s) => [s.key, s.requests])).toEqual([['200', 23], ['403', 3], ['101', 1]]);
    // --cluster and --since/--until narrow the series like every question.
    const none = JSON.parse(await kaudit('ask', 'load', '--chart', '--cluster', 'prod-us-1', ...RANGE, '--json')) as { series: unknown[] };
    expect(none.series).toEqual([]);
    const late = JSON.parse(await kaudit('ask', 'load', '--chart', '--since', '2026-03-10T10:00:00Z', '--until', '2026-03-10T12:00:00Z', '--json')) as { series: { key: string; requests: number }[] };
    expect(late.series.map((s) => [s.key, s.requests])).toEqual([['user:alice@example.com', 20], ['user:erin', 1]]);

    // The chart: 240 minutes in 60 columns of 4; Alice's one get at 09:31 is the lowest bar, her burst at 10:10 the top.
    const text = (await kaudit('ask', 'load', '--chart', '--limit', '1', ...RANGE)).split('\n');
    expect(text[0]).toBe('Requests per minute by user, 2026-03-10T08:00Z to 2026-03-10T12:00Z; one column = 4 min (its busiest minute); █ = 20/min');
    expect(text[2]).toBe(`Alice Example  ${'·'.repeat(22)}▁${'·'.repeat(9)}█${'·'.repeat(27)}  21 requests, peak 20/min at 2026-03-10T10:10Z  [user:alice@example.com]`);
  });

  // Over 6 h (LOAD_DISTINCT_MAX_MS) `ask load` reads audit_load_1m's per-minute counts (migration 0009) instead of the
  // distinct requests of audit_rollup_1m_v2. Two days cover every seeded request: 31 of them, once each, except the
  // one re-delivered in a later insert, which a count cannot recognise and counts again (documented in the output).
  const WIDE = ['--since', '2026-03-09T00:00:00Z', '--until', '2026-03-11T00:00:00Z'];
  it('load over a long range counts each request of an insert once, per user, verb, code and user agent, from the per-minute counts', async () => {
    const wide = async (...args: string[]) => JSON.parse(await kaudit('ask', 'load', ...args, ...WIDE, '--json')) as Record<string, unknown>[];
    const pick = (rows: Record<string, unknown>[], by: string) => rows.map((r) => [r[by], r.requests, r.peak_per_minute, r.peak_minute]);
    expect(pick(await wide('--by', 'user'), 'user')).toEqual([
      ['user:alice@example.com', '23', '21', '2026-03-10T10:10:00Z'],
      ['sa:ci:deployer', '3', '1', '2026-03-10T09:52:00Z'],
      ['user:erin', '3', '1', '2026-03-10T10:00:00Z'],
      ['oidc:carol', '2', '1', '2026-03-10T09:45:00Z'],
      ['aws:123:role/admin/bob', '1', '1', '2026-03-10T09:30:00Z'],
    ]);
    const [alice] = await wide('--by', 'user', '--limit', '1');
    expect(alice).toMatchObject({ who: 'Alice Example', email: 'alice@example.com', team: 'platform', per_second: 0 });
    expect(pick(await wide('--by', 'verb'), 'verb')).toEqual([
      ['get', '25', '21', '2026-03-10T10:10:00Z'],
      ['list', '3', '1', '2026-03-10T09:52:00Z'],
      ['delete', '2', '1', '2026-03-10T09:30:00Z'],
      ['create', '1', '1', '2026-03-10T10:00:00Z'],
      ['patch', '1', '1', '2026-03-10T09:45:00Z'],
    ]);
    expect(pick(await wide('--by', 'code'), 'code')).toEqual([
      ['200', '25', '21', '2026-03-10T10:10:00Z'],
      ['403', '6', '1', '2026-03-10T09:52:00Z'],
      ['101', '1', '1', '2026-03-10T10:00:00Z'],
    ]);
    expect(pick(await wide('--by', 'useragent'), 'useragent')).toEqual([['kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46', '32', '21', '2026-03-10T10:10:00Z']]);
    // --cluster narrows it: Alice's delete in prod-us-1 is the only request there.
    expect(pick(await wide('--by', 'user', '--cluster', 'prod-us-1'), 'user')).toEqual([['user:alice@example.com', '1', '1', '2026-03-09T23:00:00Z']]);
    // The table says which counting it is.
    expect(await kaudit('ask', 'load', ...WIDE)).toMatch(/a request delivered twice in separate inserts .* counts twice here/);
    expect(await kaudit('ask', 'load', ...RANGE)).not.toMatch(/counts twice/);
  });

  it('load --chart over a long range draws the same counts per minute', async () => {
    const users = JSON.parse(await kaudit('ask', 'load', '--chart', '--by', 'user', '--limit', '2', ...WIDE, '--json')) as { series: unknown[] };
    expect(users.series).toEqual([
      { key: 'user:alice@example.com', who: 'Alice Example', requests: 23, peakPerMinute: 21, peakMinute: '2026-03-10T10:10:00Z',
        points: [{ minute: '2026-03-09T23:00:00Z', requests: 1 }, { minute: '2026-03-10T09:31:00Z', requests: 1 }, { minute: '2026-03-10T10:10:00Z', requests: 21 }] },
      { key: 'sa:ci:deployer', who: 'ci/deployer', requests: 3, peakPerMinute: 1, peakMinute: '2026-03-10T09:52:00Z',
        points: ['09:50', '09:51', '09:52'].map((m) => ({ minute: `2026-03-10T${m}:00Z`, requests: 1 })) },
    ]);
    const codes = JSON.parse(await kaudit('ask', 'load', '--chart', '--by', 'code', ...WIDE, '--json')) as { series: { key: string; who: string; requests: number }[] };
    expect(codes.series.map((x) => [x.key, x.requests, x.who])).toEqual([['200', 25, ''], ['403', 6, ''], ['101', 1, '']]);
    expect((await kaudit('ask', 'load', '--chart', ...WIDE)).split('\n').at(-1)).toMatch(/^Counted from per-minute request counts/);
  });

  it('sql runs a query with the scope as parameters', async () => {
    const rows = JSON.parse(
      await kaudit('sql', 'SELECT actor_display_name AS who, count() AS n FROM {db:Identifier}.audit_events WHERE event_time >= {since:DateTime64(6)} AND verb = {verb:String} GROUP BY who ORDER BY n DESC', ...RANGE, '--param', 'verb=list', '--json'),
    ) as unknown[];
    expect(rows).toEqual([{ who: 'ci/deployer', n: '3' }]);
    // Refusing writes is the query user's server-side profile now (role-users.int.test.ts), not a client setting.
  });
});
