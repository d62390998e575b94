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

/**
 * Migration 0009 (audit_load_1m, the per-minute counts `ask load` reads over long ranges) on a database that already
 * holds events: the history is backfilled counting distinct requests — a request stored twice before the upgrade
 * counts once — and what arrives afterwards is counted by the view.
 */
const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const logger = silentLogger('load-backfill-test');
const db = uniqueName('load_backfill');
const before = mkdtempSync(join(tmpdir(), 'kaudit-migrations-'));
let ch: ClickHouse;

const T0 = Date.parse('2026-03-10T09:00:00Z') * 1000;
const WIDE = ['--since', '2026-03-10T00:00:00Z', '--until', '2026-03-11T00:00:00Z'];
const actor = (name: string): AuditRecord['actor'] => ({ id: `user:${name}`, kind: 'human', displayName: name, email: null, team: 'sre', account: null, resolvedBy: 'directory-file' });
const request = (id: string, who: string, minute: number, stage = 'ResponseComplete') =>
  sampleAuditRecord({ auditID: id, stage, actor: actor(who), requestReceivedUs: T0 + minute * 60_000_000, stageUs: T0 + minute * 60_000_000 });
let offset = 0;
const insert = (records: AuditRecord[]) =>
  ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values: records.map((r) => toAuditRow(r, { topic: 't', partition: 0, offset: String(offset++), timestamp: '0' })) });

async function loadByUser(): Promise<[unknown, unknown][]> {
  const out: string[] = [];
  const program = buildProgram({ env: { CLICKHOUSE_URL: testEndpoints().clickhouseUrl, CLICKHOUSE_DATABASE: db, CLICKHOUSE_USER: 'default' }, paths: repoPaths(), logger, out: (t) => out.push(t), setExitCode: () => undefined });
  program.exitOverride();
  await program.parseAsync(['ask', 'load', '--by', 'user', ...WIDE, '--json'], { from: 'user' });
  return (JSON.parse(out.join('\n')) as Record<string, unknown>[]).map((r) => [r.user, r.requests]);
}

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  // The database as it was before 0009: the same files, up to 0008.
  for (const f of readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql') && f < '0009')) copyFileSync(join(MIGRATIONS, f), join(before, f));
  await runMigrations({ client: ch, dir: before, database: db, logger, vars: { retention_days: 3650 } });
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
  rmSync(before, { recursive: true, force: true });
});

describe('migration 0009 on an existing database', () => {
  it('backfills the per-minute counts from the events stored before it, a request stored twice once, and counts new ones from then on', async () => {
    // Ana's first request in two stages, two more; then one of them delivered again in a later insert, and Ben's.
    await insert([request('a-1', 'ana', 1, 'RequestReceived'), request('a-1', 'ana', 1), request('a-2', 'ana', 2), request('a-3', 'ana', 2)]);
    await insert([request('a-2', 'ana', 2), request('b-1', 'ben', 3)]);
    const result = await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars: { retention_days: 3650 } });
    // 0009 first; the migrations after it (0010 on) apply too and are not what this test is about.
    expect(result.applied[0]).toBe('0009_create_audit_load_1m.sql');
    expect(await loadByUser()).toEqual([['user:ana', '3'], ['user:ben', '1']]);
    // After the upgrade the view counts what arrives (the backfill does not run again).
    await insert([request('a-4', 'ana', 5), request('b-2', 'ben', 5)]);
    expect(await loadByUser()).toEqual([['user:ana', '4'], ['user:ben', '2']]);
  });
});
