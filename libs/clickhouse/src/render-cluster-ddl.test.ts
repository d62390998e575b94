import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isKauditError } from '@kaudit/errors';
import { ClusterDdlRenderer, renderClusterMigrations } from './render-cluster-ddl.js';
import { loadMigrations } from './run-migrations.js';

const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
const load = () => loadMigrations(MIGRATIONS, { database: 'kaudit', retention_days: 365 });
const all = (ms: { statements: string[] }[]) => ms.flatMap((m) => m.statements);
const head = (s: string) => s.split('\n')[0] ?? '';

describe('cluster mode: the canonical migrations rendered for a ClickHouse cluster', () => {
  it('leaves the single-node statements as they are (no cluster: nothing is rendered)', async () => {
    const single = await load();
    // The single-node path never goes through the renderer; this pins that the files themselves hold no cluster DDL.
    for (const s of all(single)) expect(s).not.toMatch(/ON CLUSTER|Replicated|Distributed|_local\b/);
  });

  it('makes every table a Replicated* local table with the {shard}/{replica} path and a Distributed table under the old name', async () => {
    const rendered = all(renderClusterMigrations(await load(), { cluster: 'prod' }));
    const tables = ['audit_events', 'audit_rollup_1m', 'alerts', 'audit_rollup_1m_v2', 'audit_load_1m'];
    for (const t of tables) {
      const local = rendered.find((s) => head(s) === `CREATE TABLE IF NOT EXISTS kaudit.${t}_local ON CLUSTER prod`);
      expect(local, t).toBeDefined();
      expect(local).toMatch(/ENGINE = Replicated(Replacing|Aggregating)MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/);
      expect(local).not.toContain('non_replicated_deduplication_window');
      expect(local).toContain('replicated_deduplication_window = 10000');
      expect(rendered).toContainEqual(expect.stringMatching(new RegExp(`^CREATE TABLE IF NOT EXISTS kaudit\\.${t} ON CLUSTER prod AS kaudit\\.${t}_local\\nENGINE = Distributed\\(prod, kaudit, ${t}_local, cityHash64\\(`)));
    }
    // The ReplacingMergeTree version column survives, after the replication arguments.
    expect(rendered.find((s) => head(s).includes('audit_events_local'))).toContain("'{replica}', _offset)");
    // Dedup stays per shard: every copy of an event or alert goes to the shard of its identity.
    expect(rendered).toContainEqual(expect.stringContaining('Distributed(prod, kaudit, audit_events_local, cityHash64(cluster, audit_id))'));
    expect(rendered).toContainEqual(expect.stringContaining('Distributed(prod, kaudit, alerts_local, cityHash64(cluster, alert_id))'));
  });

  it('runs every DDL statement ON CLUSTER, views on the local tables, column changes on both tables, projections on the local one', async () => {
    const rendered = all(renderClusterMigrations(await load(), { cluster: 'prod' }));
    for (const s of rendered.filter((x) => !x.startsWith('INSERT'))) expect(head(s), s.slice(0, 80)).toContain(' ON CLUSTER prod');
    const views = rendered.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
    expect(views).toHaveLength(4);
    for (const v of views) {
      expect(head(v)).toMatch(/ TO kaudit\.(audit_rollup_1m(_v2)?|audit_load_1m|audit_forbidden)_local AS$/);
      expect(v).toContain('FROM kaudit.audit_events_local');
      expect(v).not.toMatch(/FROM kaudit\.audit_events\b(?!_local)/);
    }
    const alters = rendered.filter((s) => s.startsWith('ALTER'));
    expect(alters.filter((s) => s.includes('ADD COLUMN IF NOT EXISTS _timestamp')).map((s) => s.split(' ')[2])).toEqual(['kaudit.audit_events_local', 'kaudit.audit_events', 'kaudit.alerts_local', 'kaudit.alerts']);
    expect(alters.filter((s) => s.includes('PROJECTION')).map((s) => s.split(' ')[2])).toEqual(['kaudit.audit_events_local', 'kaudit.audit_events_local']);
    // A sorting-key change stays on the local table; the Distributed one gets only the column it adds.
    const followUp = alters.filter((s) => s.includes('follow_up'));
    expect(followUp.map((s) => s.split(' ')[2])).toEqual(['kaudit.alerts_local', 'kaudit.alerts']);
    expect(followUp[0]).toContain('MODIFY ORDER BY (cluster, rule_id, alert_id, follow_up)');
    expect(followUp[1]).not.toContain('ORDER BY');
    // The backfill reads and writes through the Distributed tables, so it covers every shard.
    expect(rendered.filter((s) => s.startsWith('INSERT')).map(head)).toEqual(['INSERT INTO kaudit.audit_rollup_1m_v2', 'INSERT INTO kaudit.audit_load_1m', 'INSERT INTO kaudit.audit_forbidden']);
    // Retiring the v1 rollup (0010) drops its view on every node; the table it wrote to, local and Distributed, stays.
    expect(rendered.filter((s) => s.startsWith('DROP'))).toEqual(['DROP VIEW IF EXISTS kaudit.audit_rollup_1m_mv ON CLUSTER prod']);
  });

  it('without Keeper (replicated: false, onCluster: false) keeps the engines and the window, and only adds the Distributed layer', async () => {
    const single = await load();
    const rendered = all(renderClusterMigrations(single, { cluster: 'two_shards', replicated: false, onCluster: false }));
    expect(rendered.join('\n')).not.toMatch(/ON CLUSTER|Replicated[A-Z]/);
    const local = rendered.find((s) => head(s) === 'CREATE TABLE IF NOT EXISTS kaudit.audit_events_local');
    expect(local).toContain('ENGINE = ReplacingMergeTree(_offset)');
    expect(local).toContain('non_replicated_deduplication_window = 10000');
    // Apart from the name, the local table is the single-node table, byte for byte.
    const original = all(single).find((s) => head(s) === 'CREATE TABLE IF NOT EXISTS kaudit.audit_events');
    expect(local?.split('\n').slice(1)).toEqual(original?.split('\n').slice(1));
    // Run on each node by the caller, the backfill fills each shard from its own rows.
    const backfill = rendered.filter((s) => s.startsWith('INSERT'));
    expect(backfill.map(head)).toEqual(['INSERT INTO kaudit.audit_rollup_1m_v2_local', 'INSERT INTO kaudit.audit_load_1m_local', 'INSERT INTO kaudit.audit_forbidden_local']);
    for (const b of backfill) expect(b).toContain('FROM kaudit.audit_events_local');
    expect(rendered.filter((s) => s.startsWith('DROP'))).toEqual(['DROP VIEW IF EXISTS kaudit.audit_rollup_1m_mv']);
  });

  it('refuses a statement or table it has no rendering for, instead of passing it through unclustered', () => {
    const r = new ClusterDdlRenderer({ cluster: 'prod' });
    const refuses = (sql: string) => {
      let err: unknown;
      try {
        r.render(sql, '0099_test.sql');
      } catch (e) {
        err = e;
      }
      expect(isKauditError(err, 'MIGRATION_FAILED'), sql).toBe(true);
      expect((err as Error).message).toContain('0099_test.sql');
    };
    refuses('CREATE TABLE IF NOT EXISTS kaudit.new_table (a UInt8) ENGINE = MergeTree ORDER BY a');
    refuses('DROP TABLE kaudit.audit_events');
    // Dropping a table would delete what it holds; a view, only one some migration created (0010 drops a view, never a table).
    refuses('DROP TABLE IF EXISTS kaudit.audit_rollup_1m');
    refuses('DROP VIEW IF EXISTS kaudit.audit_rollup_1m');
    refuses('DROP VIEW IF EXISTS kaudit.audit_rollup_1m_mv');
    refuses('ALTER TABLE kaudit.unknown ADD COLUMN x UInt8');
    expect(() => new ClusterDdlRenderer({ cluster: 'prod; DROP' })).toThrow(/plain identifier/);
  });

  it('keeps the migrations ledger on every node (replicated over the whole cluster, not per shard, not distributed)', () => {
    const r = new ClusterDdlRenderer({ cluster: 'prod' });
    expect(r.createDatabase('kaudit')).toBe('CREATE DATABASE IF NOT EXISTS kaudit ON CLUSTER prod');
    expect(r.migrationsTable('kaudit')).toMatch(/schema_migrations ON CLUSTER prod[\s\S]*ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/all\/\{database\}\/\{table\}', '\{replica\}'\)/);
  });
});
