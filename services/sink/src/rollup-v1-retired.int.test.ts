import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord, type AuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, loadMigrations, runMigrations, type ClickHouse } from '@kaudit/clickhouse';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { toAuditRow } from './audit-row.js';

/**
 * Migration 0010 on a database that already holds events (issue 16): the deprecated per-minute rollup
 * audit_rollup_1m stops being filled by inserts into audit_events — its materialized view cost every sink insert
 * while nothing reads it — but the table and the minutes it already holds stay, and audit_rollup_1m_v2 keeps
 * counting every request. An upgrade must not delete anyone's data.
 */
const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const RETIRING = '0010_drop_audit_rollup_1m_mv.sql';
const logger = silentLogger('rollup-v1-test');
const db = uniqueName('rollup_v1');
const before = mkdtempSync(join(tmpdir(), 'kaudit-migrations-'));
const vars = { retention_days: 3650 };
let ch: ClickHouse;

const T0 = Date.parse('2026-03-10T09:00:00Z') * 1000;
const request = (id: string, minute: number, stage = 'ResponseComplete') =>
  sampleAuditRecord({ auditID: id, cluster: 'prod-eu-1', stage, requestReceivedUs: T0 + minute * 60_000_000, stageUs: T0 + minute * 60_000_000 });
let offset = 0;
/** One insert as the sink makes it: a block of rows with its deduplication token. */
async function insert(records: AuditRecord[]): Promise<void> {
  const first = offset;
  const values = records.map((r) => toAuditRow(r, { topic: 't', partition: 0, offset: String(offset++), timestamp: '0' }));
  await ch.insert({ table: `${db}.audit_events`, format: 'JSONEachRow', values, clickhouse_settings: { insert_deduplication_token: `t:0:${first}-${offset - 1}` } });
}

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
}
/** The v1 rollup as a reader of it sees it: requests per minute (sum of the not yet merged parts). */
const v1 = () => rows<{ minute: string; n: string }>(`SELECT toString(minute) AS minute, toString(sum(requests)) AS n FROM ${db}.audit_rollup_1m GROUP BY minute ORDER BY minute`);
const v2 = async () => Number((await rows<{ n: string }>(`SELECT toString(uniqExactMerge(requests)) AS n FROM ${db}.audit_rollup_1m_v2`))[0]?.n);
const objects = async () => (await rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${db}' AND name LIKE 'audit_rollup_1m%' ORDER BY name`)).map((r) => r.name);

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  // The database as it was before 0010: the same files, up to 0009.
  for (const f of readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql') && f < '0010')) copyFileSync(join(MIGRATIONS, f), join(before, f));
  await runMigrations({ client: ch, dir: before, database: db, logger, vars });
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
  rmSync(before, { recursive: true, force: true });
});

describe('migration 0010 on an existing database', () => {
  it('stops filling audit_rollup_1m and keeps the minutes it holds, while audit_rollup_1m_v2 counts every request', async () => {
    // History written while the v1 view existed: a request in two stages (the final one is counted) and another.
    await insert([request('old-1', 1, 'RequestReceived'), request('old-1', 1), request('old-2', 2)]);
    const history = await v1();
    // The premise: before 0010 every insert reaches the v1 rollup.
    expect(history).toEqual([{ minute: '2026-03-10 09:01:00', n: '1' }, { minute: '2026-03-10 09:02:00', n: '1' }]);

    const result = await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars });

    // Inserts after the upgrade, in minutes the v1 rollup already holds and in new ones.
    await insert([request('new-1', 1), request('new-2', 2), request('new-3', 3)]);
    await insert([request('new-4', 4)]);
    expect(await v1()).toEqual(history);
    expect(await v2()).toBe(6);
    // The table stays (older readers during an upgrade get its history, not an error); only its view is gone.
    expect(await objects()).toEqual(['audit_rollup_1m', 'audit_rollup_1m_v2', 'audit_rollup_1m_v2_mv']);
    // A merge keeps those rows too (same TTL as before: 3650 days).
    await ch.command({ query: `OPTIMIZE TABLE ${db}.audit_rollup_1m FINAL` });
    expect(await v1()).toEqual(history);
    // 0010 first (later migrations apply after it).
    expect(result.applied[0]).toBe(RETIRING);
  });

  it('is idempotent: applied again it changes nothing, and its statement runs on a database without the view', async () => {
    const again = await runMigrations({ client: ch, dir: MIGRATIONS, database: db, logger, vars });
    expect(again.applied).toEqual([]);
    expect(again.skipped).toContain(RETIRING);
    // As if setup died after the drop but before recording it: the statement must not fail the second time.
    const retiring = (await loadMigrations(MIGRATIONS, { ...vars, database: db })).find((m) => m.name === RETIRING);
    expect(retiring?.statements).toHaveLength(1);
    for (const statement of retiring?.statements ?? []) await ch.command({ query: statement });
    expect(await objects()).toEqual(['audit_rollup_1m', 'audit_rollup_1m_v2', 'audit_rollup_1m_v2_mv']);
  });
});
