import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KauditError } from '@kaudit/errors';
import type { Logger } from '@kaudit/logging';
import type { ClickHouse } from './create-clickhouse.js';
import { ClusterDdlRenderer, renderClusterMigrations, type ClusterMode } from './render-cluster-ddl.js';
import { toClickHouseError } from './to-clickhouse-error.js';

export interface Migration {
  version: number;
  name: string;
  /** Statements after template substitution, in file order. */
  statements: string[];
  checksum: string;
}

export interface RunMigrationsOptions {
  client: ClickHouse;
  /** Folder of `NNNN_verb_noun.sql` files. */
  dir: string;
  /** Database the migrations create and use; substituted for `{{database}}`. */
  database: string;
  /** Other `{{name}}` substitutions, e.g. retention days. */
  vars?: Record<string, string | number>;
  /** Cluster mode (CLICKHOUSE_CLUSTER): the same files rendered as ON CLUSTER, Replicated* and Distributed DDL. */
  cluster?: ClusterMode | undefined;
  logger: Logger;
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Splits a file into statements on `;` at end of line, ignoring `--` comment lines. */
function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function substitute(sql: string, vars: Record<string, string | number>, file: string): string {
  return sql.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new KauditError('MIGRATION_FAILED', `${file}: unknown template variable {{${name}}}`);
    return String(value);
  });
}

/** Reads and orders the migration files; the checksum is over the raw file so an edit is detected. */
export async function loadMigrations(dir: string, vars: Record<string, string | number>): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  const seen = new Set<number>();
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new KauditError('MIGRATION_FAILED', `${file}: migration files must be named NNNN_verb_noun.sql`);
    const version = Number(match[1]);
    if (seen.has(version)) throw new KauditError('MIGRATION_FAILED', `${file}: duplicate migration number ${match[1]}`);
    seen.add(version);
    const raw = await readFile(join(dir, file), 'utf8');
    migrations.push({
      version,
      name: file,
      statements: splitStatements(substitute(raw, vars, file)),
      checksum: createHash('sha256').update(raw).digest('hex'),
    });
  }
  return migrations;
}

/**
 * Applies pending migrations in order and records each in `<database>.schema_migrations`.
 * Idempotent: applied versions are skipped; an applied file whose checksum changed is an error,
 * because migrations are never edited once landed (CONVENTIONS §12).
 */
export async function runMigrations(options: RunMigrationsOptions): Promise<MigrationResult> {
  const { client, database, logger } = options;
  const log = logger.child({ component: 'migrations', database });
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new KauditError('CONFIG_INVALID', `database name "${database}" must match [A-Za-z_][A-Za-z0-9_]*`);
  }
  const vars = { ...(options.vars ?? {}), database };
  const loaded = await loadMigrations(options.dir, vars);
  const renderer = options.cluster ? new ClusterDdlRenderer(options.cluster) : undefined;
  const migrations = options.cluster ? renderClusterMigrations(loaded, options.cluster) : loaded;
  try {
    await client.command({ query: renderer ? renderer.createDatabase(database) : `CREATE DATABASE IF NOT EXISTS ${database}` });
  } catch (err) {
    // The first round trip: an unreachable server, refused TLS or login is reported as such, with its code.
    throw toClickHouseError(err, `creating database ${database}`);
  }
  await client.command({
    query: renderer
      ? renderer.migrationsTable(database)
      : `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ReplacingMergeTree ORDER BY version`,
  });
  const rs = await client.query({
    query: `SELECT version, name, checksum FROM ${database}.schema_migrations FINAL ORDER BY version`,
    format: 'JSONEachRow',
  });
  const applied = new Map((await rs.json<{ version: number | string; name: string; checksum: string }>()).map((r) => [Number(r.version), r]));
  const result: MigrationResult = { applied: [], skipped: [] };
  for (const m of migrations) {
    const done = applied.get(m.version);
    if (done) {
      if (done.checksum !== m.checksum) {
        throw new KauditError('MIGRATION_FAILED', `${m.name} was changed after it was applied (checksum differs); add a new migration instead`);
      }
      result.skipped.push(m.name);
      continue;
    }
    for (const [i, statement] of m.statements.entries()) {
      try {
        await client.command({ query: statement });
      } catch (cause) {
        throw new KauditError('MIGRATION_FAILED', `${m.name} statement ${i + 1} failed: ${(cause as Error).message}`, { cause });
      }
    }
    await client.insert({
      table: `${database}.schema_migrations`,
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    log.info({ event: 'migration_applied', migration: m.name }, 'migration_applied');
    result.applied.push(m.name);
  }
  return result;
}
