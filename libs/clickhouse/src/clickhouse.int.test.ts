import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { silentLogger, testEndpoints, uniqueName } from '@kaudit/testkit';
import { createClickHouse, type ClickHouse } from './create-clickhouse.js';
import { runMigrations } from './run-migrations.js';
import { toClickHouseError } from './to-clickhouse-error.js';

const logger = silentLogger('clickhouse-test');
const FIXTURES = fileURLToPath(new URL('./fixtures/migrations/', import.meta.url));
let ch: ClickHouse;
let db: string;

beforeAll(async () => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
  db = uniqueName('chtest');
  await ch.command({ query: `CREATE DATABASE ${db}` });
});
afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await ch.close();
});

async function rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await ch.query({ query, format: 'JSONEachRow', query_params: params });
  return rs.json<T>();
}

describe('the real ClickHouse server', () => {
  it('is ClickHouse 24 or newer', async () => {
    const [row] = await rows<{ v: string }>('SELECT version() AS v');
    expect(Number(row?.v.split('.')[0])).toBeGreaterThanOrEqual(24);
  });

  it('creates a MergeTree table with TTL, LowCardinality, DateTime64 and Map, and reads 64-bit ints exactly', async () => {
    await ch.command({
      query: `CREATE TABLE ${db}.typed (
        at DateTime64(3, 'UTC'), verb LowCardinality(String), attrs Map(String, String), big UInt64
      ) ENGINE = MergeTree PARTITION BY toDate(at) ORDER BY (verb, at) TTL toDateTime(at) + INTERVAL 30 DAY`,
    });
    const now = new Date().toISOString();
    await ch.insert({ table: `${db}.typed`, format: 'JSONEachRow', values: [{ at: now, verb: 'delete', attrs: { a: '1' }, big: '18446744073709551615' }] });
    const [row] = await rows<{ verb: string; attrs: Record<string, string>; big: string; ttl: string }>(
      `SELECT verb, attrs, big, toTypeName(at) AS ttl FROM ${db}.typed`,
    );
    expect(row).toEqual({ verb: 'delete', attrs: { a: '1' }, big: '18446744073709551615', ttl: "DateTime64(3, 'UTC')" });
    const [create] = await rows<{ statement: string }>(`SHOW CREATE TABLE ${db}.typed`);
    expect(create?.statement).toContain('TTL');
    expect(create?.statement).toContain('LowCardinality(String)');
  });

  it('stores a block once when inserted twice with the same insert_deduplication_token', async () => {
    await ch.command({
      query: `CREATE TABLE ${db}.dedup (id String, n UInt32) ENGINE = MergeTree ORDER BY id
              SETTINGS non_replicated_deduplication_window = 1000`,
    });
    const values = [{ id: 'a', n: 1 }, { id: 'b', n: 2 }];
    const settings = { insert_deduplication_token: 'kaudit.audit.enriched.v1:0:100-101' };
    await ch.insert({ table: `${db}.dedup`, format: 'JSONEachRow', values, clickhouse_settings: settings });
    await ch.insert({ table: `${db}.dedup`, format: 'JSONEachRow', values, clickhouse_settings: settings });
    await ch.insert({ table: `${db}.dedup`, format: 'JSONEachRow', values, clickhouse_settings: { insert_deduplication_token: 'other' } });
    const [row] = await rows<{ c: string }>(`SELECT count() AS c FROM ${db}.dedup`);
    expect(row?.c).toBe('4'); // two from the deduplicated pair, two from the different token
  });

  it('applies migrations in order, records them, and re-applying changes nothing', async () => {
    const mdb = uniqueName('migr');
    const first = await runMigrations({ client: ch, dir: FIXTURES, database: mdb, logger, vars: { default_note: 'none' } });
    expect(first.applied).toEqual(['0001_create_events.sql', '0002_add_events_note.sql']);
    const schemaBefore = await rows<{ statement: string }>(`SHOW CREATE TABLE ${mdb}.events`);
    const second = await runMigrations({ client: ch, dir: FIXTURES, database: mdb, logger, vars: { default_note: 'none' } });
    expect(second).toEqual({ applied: [], skipped: ['0001_create_events.sql', '0002_add_events_note.sql'] });
    expect(await rows(`SHOW CREATE TABLE ${mdb}.events`)).toEqual(schemaBefore);
    const recorded = await rows<{ version: number; name: string }>(`SELECT version, name FROM ${mdb}.schema_migrations FINAL ORDER BY version`);
    expect(recorded.map((r) => r.name)).toEqual(['0001_create_events.sql', '0002_add_events_note.sql']);

    // An applied migration that was edited afterwards is refused.
    const edited = mkdtempSync(join(tmpdir(), 'kaudit-migr-'));
    copyFileSync(join(FIXTURES, '0001_create_events.sql'), join(edited, '0001_create_events.sql'));
    writeFileSync(join(edited, '0002_add_events_note.sql'), 'ALTER TABLE {{database}}.events ADD COLUMN IF NOT EXISTS note2 String;\n');
    const err = await runMigrations({ client: ch, dir: edited, database: mdb, logger, vars: { default_note: 'none' } }).catch((e: unknown) => e);
    expect(isKauditError(err, 'MIGRATION_FAILED')).toBe(true);
    expect((err as Error).message).toContain('0002_add_events_note.sql was changed');
    await ch.command({ query: `DROP DATABASE ${mdb}` });
  });

  it('classifies bad data as rejected and an unreachable server as retryable', async () => {
    await ch.command({ query: `CREATE TABLE ${db}.strict (n UInt8) ENGINE = MergeTree ORDER BY n` });
    const bad = await ch.insert({ table: `${db}.strict`, format: 'JSONEachRow', values: [{ n: 'not a number' }] }).catch((e: unknown) => e);
    const rejected = toClickHouseError(bad, 'insert');
    expect(rejected.code).toBe('CLICKHOUSE_REJECTED');
    expect(rejected.retryable).toBe(false);
    const down = createClickHouse({ url: 'http://127.0.0.1:1', requestTimeoutMs: 1000 });
    const unreachable = toClickHouseError(await down.ping().then((r) => (r.success ? undefined : r.error)), 'ping');
    expect(unreachable.code).toBe('CLICKHOUSE_UNAVAILABLE');
    expect(unreachable.retryable).toBe(true);
    await down.close();
  });
});
