import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleAuditRecord } from '@kaudit/audit-schema';
import { createClickHouse, type ClickHouse } from '@kaudit/clickhouse';
import { RETENTION_DAYS_MAX } from '@kaudit/config';
import { isKauditError } from '@kaudit/errors';
import { toAuditRow } from '@kaudit/sink';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { repoPaths } from '../repo-paths.js';
import { setupPipeline, setupTargetFromEnv } from './setup-command.js';

const logger = silentLogger('setup-test');
let ch: ClickHouse;
const databases: string[] = [];

beforeAll(() => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
});
afterAll(async () => {
  for (const db of databases) await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` }).catch(() => undefined);
  await ch.close();
});

const deps = (env: Record<string, string>) => ({ env, paths: repoPaths(), logger, out: () => undefined, setExitCode: () => undefined });
const target = (retentionDays: number, database: string) => ({ ...setupTargetFromEnv(deps({}), { kafkaBrokers: testEndpoints().kafkaBrokers, clickhouseUrl: testEndpoints().clickhouseUrl }), database, retentionDays });

async function count(query: string): Promise<number> {
  const [row] = await (await ch.query({ query, format: 'JSONEachRow' })).json<{ n: string }>();
  return Number(row?.n ?? -1);
}

describe('kaudit setup and KAUDIT_RETENTION_DAYS', () => {
  it('refuses a retention it cannot honour with an error naming the variable, instead of falling back to 365', () => {
    for (const bad of ['0', 'a year', '2.5', String(RETENTION_DAYS_MAX + 1), '100000']) {
      let error: unknown;
      try {
        setupTargetFromEnv(deps({ KAUDIT_RETENTION_DAYS: bad }), { kafkaBrokers: 'k:9092', clickhouseUrl: 'http://c:8123' });
      } catch (err) {
        error = err;
      }
      expect(isKauditError(error, 'CONFIG_INVALID'), bad).toBe(true);
      expect((error as Error).message, bad).toContain('KAUDIT_RETENTION_DAYS');
    }
    expect(setupTargetFromEnv(deps({ KAUDIT_RETENTION_DAYS: '3650' }), { kafkaBrokers: 'k:9092', clickhouseUrl: 'http://c:8123' }).retentionDays).toBe(3650);
  });

  it('refuses an out-of-range retention before creating anything', async () => {
    const database = uniqueName('setup_refused');
    databases.push(database);
    const err = await setupPipeline(target(100_000, database), logger).catch((e: unknown) => e);
    expect(isKauditError(err, 'CONFIG_INVALID')).toBe(true);
    expect(await count(`SELECT count() AS n FROM system.databases WHERE name = '${database}'`)).toBe(0);
  });

  it('keeps rows through the TTL merge at the largest retention it accepts (the TTL date does not overflow)', async () => {
    const database = uniqueName('setup_max');
    databases.push(database);
    await setupPipeline(target(RETENTION_DAYS_MAX, database), logger);
    const nowUs = Date.now() * 1000;
    const rows = [1, 30, 364].map((daysAgo, i) => toAuditRow(sampleAuditRecord({ auditID: `ttl-${i}`, requestReceivedUs: nowUs - daysAgo * 86_400_000_000, stageUs: nowUs - daysAgo * 86_400_000_000 }), { topic: 't', partition: 0, offset: String(i), timestamp: String(Date.now()) }));
    await ch.insert({ table: `${database}.audit_events`, values: rows, format: 'JSONEachRow' });
    // The deprecated v1 rollup is no longer filled (0010) but keeps the minutes an older release wrote: one such row.
    await ch.insert({ table: `${database}.audit_rollup_1m`, values: [{ minute: Math.floor(nowUs / 1e6) - 30 * 86_400, cluster: 'old', requests: 7 }], format: 'JSONEachRow' });
    // FINAL merges apply the TTL now instead of at some later background merge.
    for (const table of ['audit_events', 'audit_rollup_1m', 'audit_rollup_1m_v2', 'audit_load_1m']) await ch.command({ query: `OPTIMIZE TABLE ${database}.${table} FINAL` });
    expect(await count(`SELECT count() AS n FROM ${database}.audit_events`)).toBe(3);
    expect(await count(`SELECT uniqExactMerge(requests) AS n FROM ${database}.audit_rollup_1m_v2`)).toBe(3);
    expect(await count(`SELECT sum(requests) AS n FROM ${database}.audit_load_1m WHERE dimension = 'verb'`)).toBe(3);
    expect(await count(`SELECT sum(requests) AS n FROM ${database}.audit_rollup_1m`)).toBe(7);
  });
});
