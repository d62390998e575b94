import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEndpoints } from '@kaudit/testkit';
import { createClickHouse, type ClickHouse } from './create-clickhouse.js';
import { ClusterDdlRenderer, renderClusterMigrations } from './render-cluster-ddl.js';
import { roleUserSpecs, roleUserStatements, sha256Hex } from './role-users.js';
import { loadMigrations } from './run-migrations.js';

/**
 * The full cluster rendering (ON CLUSTER, Replicated* engines) cannot run on the bundled engine — it has no
 * Keeper ("Replicated DDL queries are disabled") — so the real engine's parser checks every statement
 * (EXPLAIN AST parses without executing). That they run is what ask-distributed.int.test.ts shows, without
 * replication; replication itself is not exercised here.
 */
const MIGRATIONS = fileURLToPath(new URL('../../../migrations/clickhouse/', import.meta.url));
let ch: ClickHouse;

beforeAll(() => {
  ch = createClickHouse({ url: testEndpoints().clickhouseUrl });
});
afterAll(async () => {
  await ch.close();
});

async function parses(statement: string): Promise<void> {
  await (await ch.query({ query: `EXPLAIN AST ${statement}`, format: 'TabSeparated' })).text();
}

describe('the ON CLUSTER / Replicated rendering on the real engine', () => {
  it('parses: every migration statement, the ledger and the role users as setup would send them to a cluster', async () => {
    const migrations = renderClusterMigrations(await loadMigrations(MIGRATIONS, { database: 'kaudit', retention_days: 365 }), { cluster: 'prod' });
    const renderer = new ClusterDdlRenderer({ cluster: 'prod' });
    const users = roleUserSpecs({ database: 'kaudit', queryUser: 'kaudit_query', sinkUser: 'kaudit_sink', clusterTables: true }).flatMap((s) => roleUserStatements(s, sha256Hex('pw'), 'prod'));
    const all = [renderer.createDatabase('kaudit'), renderer.migrationsTable('kaudit'), ...migrations.flatMap((m) => m.statements), ...users];
    expect(all.length).toBeGreaterThan(20);
    for (const statement of all) await expect(parses(statement), statement.slice(0, 120)).resolves.toBeUndefined();
    // The check can fail: a broken statement does not parse.
    await expect(parses('CREATE TABLE kaudit.x ON CLUSTER prod BROKEN')).rejects.toThrow(/Syntax error/);
  });
});
