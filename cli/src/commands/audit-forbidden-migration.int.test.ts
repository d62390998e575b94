import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { toAuditRow } from '@kaudit/sink';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildProgram } from '../build-program.js';
import { repoPaths } from '../repo-paths.js';
import { forbiddenQuery } from './ask-queries.js';

/**
 * Migration 0011 (audit_forbidden, the 403 rows `ask forbidden` reads) on a database that already holds events: the
 * answer is the one the question gave over audit_events before the upgrade — for the history (backfilled) and for
 * what arrives afterwards (the view), impersonation, non-resource URLs, stages and copies of a request included.
 */
const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('forbidden-migration-test');
const db = uniqueName('forbidden_migration');
const before = mkdtempSync(join(tmpdir(), 'kaudit-migrations-'));
let ch: ClickHouse;

const T0 = Date.parse('2026-03-10T09:00:00Z') * 1000;
const SINCE = '2026-03-10T00:00:00Z';
const UNTIL = '2026-03-11T00:00:00Z';
const actor = (name: string): AuditRecord['actor'] => ({ id: `user:${name}`, kind: 'human', displayName: name, email: `${name}@example.com`, team: 'sre', account: null, resolvedBy: 'directory-file' });
const refused = { code: 403, status: 'Failure', reason: 'Forbidden', message: 'forbidden' };
const secrets = (ns: string): AuditRecord['objectRef'] => ({ apiGroup: '', apiVersion: 'v1', resource: 'secrets', subresource: null, namespace: ns, name: 'db', uid: null });
const request = (id: string, who: string, minute: number, over: Partial<AuditRecord> = {}) =>
  sampleAuditRecord({ auditID: id, cluster: 'prod-eu-1', verb: 'get', actor: actor(who), response: refused, objectRef: secrets('shop'), requestReceivedUs: T0 + minute * 60_000_000, stageUs: T0 + minute * 60_000_000, ...over });
let offset = 0;
const insert = (records: AuditRecord[]) =>
  ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values: records.map((r) => toAuditRow(r, { topic: 't', partition: 0, offset: String(offset++), timestamp: '0' })) });

/** What `ask forbidden` answered before 0011: its query as it was, over audit_events. */
async function forbiddenOverEvents(): Promise<unknown[]> {
  const q = forbiddenQuery({ database: db, cluster: '', since: '2026-03-10 00:00:00.000000', until: '2026-03-11 00:00:00.000000', limit: 50 });
  if (!q.query.includes('{db:Identifier}.audit_forbidden')) throw new Error('the forbidden query no longer reads audit_forbidden: update this test');
  const rs = await ch.query({ query: q.query.replace('{db:Identifier}.audit_forbidden', '{db:Identifier}.audit_events'), query_params: q.params, format: 'JSONEachRow' });
  return rs.json();
}

async function askForbidden(): Promise<unknown[]> {
  const out: string[] = [];
  const program = buildProgram({ env: { CLICKHOUSE_URL: testEndpoints().clickhouseUrl, CLICKHOUSE_DATABASE: db, CLICKHOUSE_USER: 'default' }, paths: repoPaths(), logger, out: (t) => out.push(t), setExitCode: () => undefined });
  program.exitOverride();
  await program.parseAsync(['ask', 'forbidden', '--since', SINCE, '--until', UNTIL, '--json'], { from: 'user' });
  return JSON.parse(out.join('\n')) as unknown[];
}

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  // The database as it was before 0011: the same files, up to 0010.
  for (const f of readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql') && f < '0011')) copyFileSync(join(MIGRATIONS, f), join(before, f));
  await runMigrations({ client: ch, dir: before, database: db, logger, vars: { retention_days: 3650 } });
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
  rmSync(before, { recursive: true, force: true });
});

describe('migration 0011 on an existing database', () => {
  it('answers ask forbidden as audit_events did, for the history and for what arrives afterwards', async () => {
    // Ana refused once in two stages and once more; Ben impersonating a service account; Cy refused a non-resource
    // URL; a request that succeeded; Ana's second refusal delivered again in a later insert.
    await insert([
      request('a-1', 'ana', 1, { stage: 'RequestReceived', response: { code: 0, status: null, reason: null, message: null } }),
      request('a-1', 'ana', 1),
      request('a-2', 'ana', 2, { verb: 'list', objectRef: secrets('web') }),
      request('b-1', 'ben', 3, { impersonatedUser: { username: 'system:serviceaccount:shop:admin', uid: null, groups: [], extra: {} } }),
      request('c-1', 'cy', 4, { requestURI: '/metrics', objectRef: { apiGroup: null, apiVersion: null, resource: null, subresource: null, namespace: null, name: null, uid: null } }),
      request('d-1', 'dee', 5, { response: { code: 200, status: 'Success', reason: null, message: null } }),
    ]);
    await insert([request('a-2', 'ana', 2, { verb: 'list', objectRef: secrets('web') })]);
    const answer = await forbiddenOverEvents();
    expect(answer).toHaveLength(3);
    const result = await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
    expect(result.applied[0]).toBe('0011_create_audit_forbidden.sql');
    expect(await askForbidden()).toEqual(answer);
    // After the upgrade the view copies what arrives: a new refusal, and one of before delivered again.
    await insert([request('e-1', 'eve', 6, { cluster: 'prod-us-1' }), request('b-1', 'ben', 3, { impersonatedUser: { username: 'system:serviceaccount:shop:admin', uid: null, groups: [], extra: {} } })]);
    const later = await forbiddenOverEvents();
    expect(later).toHaveLength(4);
    expect(await askForbidden()).toEqual(later);
  });
});
