import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { toAuditRow } from '@kaudit/sink';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('investigate-test');
let ch: ClickHouse;
let db: string;

const T0 = Date.parse('2026-03-10T09:00:00Z') * 1000; // µs
const at = (minutes: number, extraUs = 0) => T0 + minutes * 60_000_000 + extraUs;
const RANGE = ['--since', '2026-03-10T08:00:00Z', '--until', '2026-03-10T12:00:00Z'];

// Deng Wei has two accounts: a TKE sub-account on prod-eu-1 and an EKS role on prod-us-1; the directory gives both his email.
const deng = { id: 'tke:100012347138', kind: 'human', displayName: 'Deng Wei', email: 'deng.wei@example.com', team: 'web', account: '100012347138', resolvedBy: 'directory-file' } satisfies AuditRecord['actor'];
const dengAws = { ...deng, id: 'aws:111122223333:assumed-role/web-admin/deng', account: '111122223333' } satisfies AuditRecord['actor'];
const alice = { id: 'user:alice@example.com', kind: 'human', displayName: 'Alice Example', email: 'alice@example.com', team: 'platform', account: null, resolvedBy: 'directory-file' } satisfies AuditRecord['actor'];

const nginxRef = { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', subresource: null, namespace: 'web', name: 'nginx', uid: null };

// An apps/v1 Deployment as the apiserver answers it (Kubernetes API reference).
function deployment(replicas: number, image: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'web', resourceVersion: String(5000 + replicas), generation: 2 },
    spec: { replicas, selector: { matchLabels: { app: 'nginx' } }, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image }] } } },
    status: { replicas },
  });
}

let n = 0;
function ev(over: Partial<AuditRecord>): AuditRecord {
  n++;
  return sampleAuditRecord({ auditID: `inv-${n}`, cluster: 'prod-eu-1', actor: deng, user: { username: '100012347138', uid: null, groups: ['system:authenticated'], extra: {} }, client: { name: 'kubectl', version: 'v1.29.6' }, ...over });
}

const seed: AuditRecord[] = [
  ev({ verb: 'create', operation: 'create', level: 'RequestResponse', requestReceivedUs: at(0), objectRef: nginxRef, actor: alice, user: { username: 'alice@example.com', uid: null, groups: [], extra: {} }, response: { code: 201, status: null, reason: null, message: null }, requestObject: deployment(3, 'nginx:1.25'), responseObject: deployment(3, 'nginx:1.25') }),
  ev({ verb: 'patch', operation: 'image-change', level: 'RequestResponse', requestReceivedUs: at(10), objectRef: nginxRef, requestObject: '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}', responseObject: deployment(3, 'nginx:1.27') }),
  ev({ verb: 'get', operation: 'read', requestReceivedUs: at(11), objectRef: nginxRef, actor: alice, user: { username: 'alice@example.com', uid: null, groups: [], extra: {} } }),
  // Request level: the patch body only; the diff applies it to the state before.
  ev({ verb: 'patch', operation: 'scale', level: 'Request', requestReceivedUs: at(20), objectRef: nginxRef, requestObject: '{"spec":{"replicas":0}}' }),
  // Both stages of the delete: one row.
  ...['RequestReceived', 'ResponseComplete'].map((stage, s) =>
    sampleAuditRecord({ auditID: 'inv-delete', cluster: 'prod-eu-1', stage, verb: 'delete', operation: 'delete', level: 'Request', requestReceivedUs: at(30), stageUs: at(30, s * 1000), objectRef: nginxRef, actor: deng, user: { username: '100012347138', uid: null, groups: [], extra: {} }, client: { name: 'kubectl', version: 'v1.29.6' }, summary: 'Deng Wei deleted Deployment web/nginx in prod-eu-1', requestObject: '{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1","propagationPolicy":"Background"}' }),
  ),
  // Another namespace's nginx, and the Deng's other account on another cluster.
  ev({ verb: 'patch', operation: 'patch', requestReceivedUs: at(25), objectRef: { ...nginxRef, namespace: 'shop' }, actor: alice, user: { username: 'alice@example.com', uid: null, groups: [], extra: {} }, requestObject: '{"spec":{"paused":true}}', level: 'Request' }),
  ev({ cluster: 'prod-us-1', verb: 'update', operation: 'update', requestReceivedUs: at(40), actor: dengAws, user: { username: 'arn:aws:sts::111122223333:assumed-role/web-admin/deng', uid: null, groups: [], extra: {} }, objectRef: { ...nginxRef, resource: 'configmaps', apiGroup: '', name: 'web-config' } }),
  // A Secret patched at Request level: its value was redacted by enrich and stays so.
  ev({ verb: 'patch', operation: 'patch', level: 'Request', requestReceivedUs: at(45), objectRef: { ...nginxRef, resource: 'secrets', apiGroup: '', name: 'db' }, requestObject: '{"data":{"password":"[redacted]"}}' }),
  // Deng reads, and is refused twice.
  ...[0, 1, 2].map((k) => ev({ verb: 'list', operation: 'list', requestReceivedUs: at(50 + k), objectRef: { ...nginxRef, resource: 'pods', apiGroup: '', name: null } })),
  ...[0, 1].map((k) => ev({ verb: 'list', operation: 'secret-read', requestReceivedUs: at(55 + k), response: { code: 403, status: 'Failure', reason: 'Forbidden', message: 'forbidden' }, objectRef: { ...nginxRef, resource: 'secrets', apiGroup: '', name: null, namespace: 'kube-system' } })),
];

async function kaudit(...args: string[]): Promise<string> {
  const out: string[] = [];
  const program = buildProgram({
    // Own database, so as `default` (the query user's grants are role-users.int.test.ts).
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

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  db = uniqueName('investigate');
  await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
  await ch.command({ query: `SYSTEM STOP MERGES ${db}.audit_events` });
  await ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values: seed.map((r, i) => toAuditRow(r, { topic: 't', partition: 0, offset: String(i), timestamp: '0' })) });
  // The image change delivered twice (an apiserver retry): still one row of the history.
  await ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values: [toAuditRow(seed[1] as AuditRecord, { topic: 't', partition: 0, offset: String(seed.length), timestamp: '0' })] });
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

describe('kaudit ask history', () => {
  it('lists every request on the object oldest first, once each, with who, result, client and what changed', async () => {
    const rows = JSON.parse(await kaudit('ask', 'history', 'deploy/nginx', '-n', 'web', ...RANGE, '--json')) as Record<string, unknown>[];
    expect(rows.map((r) => [r.verb, r.operation, r.code, r.who, r.changes])).toEqual([
      ['create', 'create', 201, 'Alice Example', []],
      ['patch', 'image-change', 200, 'Deng Wei', ['spec.template.spec.containers[nginx].image nginx:1.25 → nginx:1.27']],
      ['get', 'read', 200, 'Alice Example', []],
      ['patch', 'scale', 200, 'Deng Wei', ['spec.replicas 3 → 0']],
      ['delete', 'delete', 200, 'Deng Wei', []],
    ]);
    expect(rows[4]).toMatchObject({ time: '2026-03-10T09:30:00.000000Z', cluster: 'prod-eu-1', namespace: 'web', email: 'deng.wei@example.com', account: 'tke:100012347138', username: '100012347138', client: 'kubectl/v1.29.6', summary: 'Deng Wei deleted Deployment web/nginx in prod-eu-1' });
    // Bodies stay out of the answer.
    expect(rows[0]).not.toHaveProperty('request_object');

    const text = await kaudit('ask', 'history', 'deployments/nginx', '-n', 'web', ...RANGE);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^TIME\s+CLUSTER\s+NAMESPACE\s+OPERATION\s+VERB\s+CODE\s+WHO\s+ACCOUNT\s+CLIENT\s+CHANGES$/);
    expect(lines.find((l) => l.includes('scale'))).toMatch(/Deng Wei.*spec\.replicas 3 → 0$/);
  });

  it('without -n shows the object in every namespace; --limit keeps the latest requests; --cluster narrows', async () => {
    const all = JSON.parse(await kaudit('ask', 'history', 'deploy/nginx', ...RANGE, '--json')) as Record<string, unknown>[];
    expect(all.map((r) => `${String(r.namespace)}:${String(r.verb)}`)).toEqual(['web:create', 'web:patch', 'web:get', 'web:patch', 'shop:patch', 'web:delete']);
    // The other namespace's patch is not diffed against web's state: it lists what it sets.
    expect(all[4]?.changes).toEqual(['spec.paused → true']);
    const last2 = JSON.parse(await kaudit('ask', 'history', 'deploy/nginx', '-n', 'web', ...RANGE, '--limit', '2', '--json')) as Record<string, unknown>[];
    expect(last2.map((r) => r.verb)).toEqual(['patch', 'delete']);
    const other = JSON.parse(await kaudit('ask', 'history', 'deploy/nginx', '--cluster', 'prod-us-1', ...RANGE, '--json')) as unknown[];
    expect(other).toEqual([]);
  });

  it('keeps a redacted Secret value redacted', async () => {
    const rows = JSON.parse(await kaudit('ask', 'history', 'secret/db', ...RANGE, '--json')) as Record<string, unknown>[];
    expect(rows.map((r) => r.changes)).toEqual([['data.password → [redacted]']]);
  });
});

describe('kaudit ask actor', () => {
  it('finds the person by email, name or any account and shows every account, cluster and count, mutations first', async () => {
    for (const who of ['deng.wei@example.com', 'Deng Wei', '100012347138', 'aws:111122223333:assumed-role/web-admin/deng']) {
      const answer = JSON.parse(await kaudit('ask', 'actor', who, ...RANGE, '--json')) as { people: Record<string, unknown>[]; mutations: Record<string, unknown>[] };
      expect(answer.people, JSON.stringify(answer.people)).toHaveLength(1);
      const [p] = answer.people;
      expect(p).toMatchObject({ who: 'Deng Wei', email: 'deng.wei@example.com', team: 'web', mutations: '5', reads: '5', denied: '2' });
      expect([...(p?.accounts as string[])].sort()).toEqual(['aws:111122223333:assumed-role/web-admin/deng', 'tke:100012347138']);
      expect([...(p?.clusters as string[])].sort()).toEqual(['prod-eu-1', 'prod-us-1']);
      expect(answer.mutations.map((m) => `${String(m.cluster)} ${String(m.verb)} ${String(m.object)}`)).toEqual([
        'prod-eu-1 patch secrets/db',
        'prod-us-1 update configmaps/web-config',
        'prod-eu-1 delete deployments/nginx',
        'prod-eu-1 patch deployments/nginx',
        'prod-eu-1 patch deployments/nginx',
      ]);
      expect(answer.mutations[2]?.summary).toBe('Deng Wei deleted Deployment web/nginx in prod-eu-1');
    }
  });

  it('prints the person, then the table of mutations; a name nobody has answers so; input stays a parameter', async () => {
    const text = await kaudit('ask', 'actor', 'DENG.WEI@example.com', ...RANGE, '--cluster', 'prod-us-1');
    expect(text).toContain('Deng Wei <deng.wei@example.com> team web');
    expect(text).toContain('1 mutations, 0 reads, 0 denied (403)');
    expect(text).toMatch(/Mutations \(newest first\):\nTIME\s+CLUSTER/);
    expect(text).not.toContain('prod-eu-1');
    expect(await kaudit('ask', 'actor', "x' OR 1=1 OR '", ...RANGE)).toBe('(nobody matching "x\' OR 1=1 OR \'" in this range)');
  });
});
