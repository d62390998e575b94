import { KauditError } from '@kaudit/errors';

/**
 * Cluster mode (issue 13): the same migrations, rendered for a ClickHouse cluster instead of one node.
 * Each table `T` of a migration becomes `T_local` (a Replicated* engine, one copy per shard replicated by
 * Keeper) plus `T`, a Distributed table over the `T_local` of every shard, so everything that reads or
 * writes `T` (the sink, `kaudit ask`, Grafana) keeps its SQL. Materialized views read and write the local
 * tables, so each shard rolls up its own rows and a read through the Distributed rollup merges them.
 */
export interface ClusterMode {
  /** The cluster's name in the servers' `remote_servers` (CLICKHOUSE_CLUSTER). */
  cluster: string;
  /** Replicated* engines with Keeper paths (default true). False only where there is no Keeper (tests). */
  replicated?: boolean;
  /** `ON CLUSTER` on every DDL statement (default true). False: the caller runs the DDL on each node itself. */
  onCluster?: boolean;
}

const LOCAL_SUFFIX = '_local';

/**
 * How rows are spread over shards, per table: deterministic and starting with the identity the
 * ReplacingMergeTree key ends in, so every copy of one event (or alert) lands on the same shard and
 * deduplication, FINAL and `LIMIT 1 BY cluster, audit_id` stay exact per shard.
 */
const SHARDING_KEYS: Readonly<Record<string, string>> = {
  audit_events: 'cityHash64(cluster, audit_id)',
  alerts: 'cityHash64(cluster, alert_id)',
  // Rollups are written by the views on each shard's local table; a read merges the states of all shards,
  // so any deterministic key serves the rare insert through the Distributed table (a backfill).
  audit_rollup_1m: 'cityHash64(cluster, minute)',
  audit_rollup_1m_v2: 'cityHash64(cluster, minute)',
  audit_load_1m: 'cityHash64(cluster, minute)',
  // The 403 rows of audit_events (0011), on the shard of the event they copy, like audit_events.
  audit_forbidden: 'cityHash64(cluster, audit_id)',
};

/** The Keeper path of a replicated table: per shard, with the {shard}/{replica} macros every server defines. */
export const REPLICATION_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'";

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const CREATE_TABLE = new RegExp(`^CREATE TABLE IF NOT EXISTS (${IDENT})\\.(${IDENT})\\s*\\(`);
const CREATE_VIEW = new RegExp(`^CREATE MATERIALIZED VIEW IF NOT EXISTS (${IDENT})\\.(${IDENT}) TO (${IDENT})\\.(${IDENT}) AS\\b`);
const ALTER_TABLE = new RegExp(`^ALTER TABLE (${IDENT})\\.(${IDENT})\\s+`);
const INSERT_INTO = new RegExp(`^INSERT INTO (${IDENT})\\.(${IDENT})\\b`);
/** Only a view is ever dropped (0010 retires the v1 rollup's): dropping a table would delete what it holds. */
const DROP_VIEW = new RegExp(`^DROP VIEW IF EXISTS (${IDENT})\\.(${IDENT})$`);
const ENGINE = /\bENGINE = (ReplacingMergeTree|AggregatingMergeTree|SummingMergeTree|MergeTree)(?:\(([^()]*)\))?/;
/** ALTERs that change columns must reach the Distributed table too; the others (projections, …) only the data. */
const COLUMN_ALTER = /^(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b/;
/** The commas between the clauses of one ALTER (`ADD COLUMN …, MODIFY ORDER BY …`), not those inside a clause. */
const ALTER_CLAUSE = /,\s*(?=(?:ADD|DROP|MODIFY|RENAME|COMMENT|MATERIALIZE|CLEAR) [A-Z])/;

function fail(message: string): never {
  throw new KauditError('MIGRATION_FAILED', `cluster mode: ${message}`);
}

function identifier(value: string, what: string): string {
  if (!new RegExp(`^${IDENT}$`).test(value)) throw new KauditError('CONFIG_INVALID', `${what} "${value}" must be a plain identifier (letters, digits, _)`);
  return value;
}

/** Statements of migrations, rendered for a cluster; `tables` (the tables created so far) is carried across files. */
export class ClusterDdlRenderer {
  readonly #cluster: string;
  readonly #replicated: boolean;
  readonly #onCluster: string;
  readonly #tables = new Set<string>();
  readonly #views = new Set<string>();

  constructor(mode: ClusterMode) {
    this.#cluster = identifier(mode.cluster, 'cluster');
    this.#replicated = mode.replicated ?? true;
    this.#onCluster = (mode.onCluster ?? true) ? ` ON CLUSTER ${this.#cluster}` : '';
  }

  /** `CREATE DATABASE` on every node. */
  createDatabase(database: string): string {
    return `CREATE DATABASE IF NOT EXISTS ${database}${this.#onCluster}`;
  }

  /**
   * The migrations ledger: one table replicated over every node of the cluster (no {shard} in its path),
   * not distributed, so whichever node setup talks to sees every applied version.
   */
  migrationsTable(database: string): string {
    const engine = this.#replicated ? `ReplicatedReplacingMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')` : 'ReplacingMergeTree';
    return `CREATE TABLE IF NOT EXISTS ${database}.schema_migrations${this.#onCluster}
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ${engine} ORDER BY version`;
  }

  /** One migration statement → the statements that do the same on the cluster. Unknown forms are refused, never passed through. */
  render(statement: string, file: string): string[] {
    const create = CREATE_TABLE.exec(statement);
    if (create) return this.#createTable(statement, create[1] as string, create[2] as string, file);
    const view = CREATE_VIEW.exec(statement);
    if (view) return [this.#createView(statement, view, file)];
    const alter = ALTER_TABLE.exec(statement);
    if (alter) return this.#alter(statement, alter[1] as string, alter[2] as string, alter[0].length, file);
    const insert = INSERT_INTO.exec(statement);
    if (insert) {
      // ON CLUSTER: run once, through the Distributed tables (read from every shard, written to the shard of each
      // row's key). Without it the caller runs every statement on every node, so each node fills its own shard
      // from its own rows — through the Distributed tables each would copy every shard's rows (and fail on the
      // first node, before the others have the tables).
      return [this.#onCluster ? statement : this.#toLocal(statement, insert[1] as string)];
    }
    const drop = DROP_VIEW.exec(statement);
    if (drop) {
      const view = drop[2] as string;
      // The view was created ON CLUSTER under its own name (views have no _local twin), so it is dropped the same way.
      if (!this.#views.has(view)) fail(`${file}: DROP VIEW of ${view}, which no migration created as a view`);
      this.#views.delete(view);
      return [`${statement}${this.#onCluster}`];
    }
    return fail(`${file}: no cluster rendering for the statement starting "${statement.slice(0, 60)}"; extend render-cluster-ddl.ts`);
  }

  #createTable(statement: string, database: string, table: string, file: string): string[] {
    const shardingKey = SHARDING_KEYS[table] ?? fail(`${file}: table ${table} has no sharding key; add one to SHARDING_KEYS`);
    const local = `${table}${LOCAL_SUFFIX}`;
    const engine = ENGINE.exec(statement) ?? fail(`${file}: ${table} has an engine cluster mode cannot render`);
    const [whole, family, args] = engine;
    const engineSql = this.#replicated ? `ENGINE = Replicated${family as string}(${[REPLICATION_PATH, args].filter((a) => a !== undefined && a.trim() !== '').join(', ')})` : whole;
    let localSql = statement
      .replace(CREATE_TABLE, `CREATE TABLE IF NOT EXISTS ${database}.${local}${this.#onCluster}\n(`)
      .replace(ENGINE, engineSql);
    // A replicated table deduplicates inserts by its replicated window (kept in Keeper), not the non-replicated one.
    if (this.#replicated) localSql = localSql.replace(/\bnon_replicated_deduplication_window\b/g, 'replicated_deduplication_window');
    this.#tables.add(table);
    return [localSql, `CREATE TABLE IF NOT EXISTS ${database}.${table}${this.#onCluster} AS ${database}.${local}\nENGINE = Distributed(${this.#cluster}, ${database}, ${local}, ${shardingKey})`];
  }

  #createView(statement: string, m: RegExpExecArray, file: string): string {
    const [head, database, view, toDatabase, toTable] = m as unknown as [string, string, string, string, string];
    if (!this.#tables.has(toTable)) fail(`${file}: view ${view} writes to ${toTable}, which no migration created`);
    const body = this.#toLocal(statement.slice(head.length), database);
    this.#views.add(view);
    return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${database}.${view}${this.#onCluster} TO ${toDatabase}.${toTable}${LOCAL_SUFFIX} AS${body}`;
  }

  /** Every `database.table` that names one of the migrations' tables → its local table. */
  #toLocal(sql: string, database: string): string {
    return sql.replace(new RegExp(`\\b(${IDENT})\\.(${IDENT})\\b`, 'g'), (ref, db: string, t: string) => (db === database && this.#tables.has(t) ? `${db}.${t}${LOCAL_SUFFIX}` : ref));
  }

  #alter(statement: string, database: string, table: string, headLength: number, file: string): string[] {
    if (!this.#tables.has(table)) fail(`${file}: ALTER of ${table}, which no migration created`);
    const action = statement.slice(headLength);
    const onLocal = `ALTER TABLE ${database}.${table}${LOCAL_SUFFIX}${this.#onCluster} ${action}`;
    // A Distributed table takes the column changes only: a sorting key (MODIFY ORDER BY, which must share
    // its ALTER with the column it adds) belongs to the local table that stores the rows.
    const columnChanges = action.split(ALTER_CLAUSE).filter((clause) => COLUMN_ALTER.test(clause));
    return columnChanges.length > 0 ? [onLocal, `ALTER TABLE ${database}.${table}${this.#onCluster} ${columnChanges.join(', ')}`] : [onLocal];
  }
}

/** Every migration's statements rendered for the cluster, in order (later files refer to tables of earlier ones). */
export function renderClusterMigrations<M extends { name: string; statements: string[] }>(migrations: readonly M[], mode: ClusterMode): M[] {
  const renderer = new ClusterDdlRenderer(mode);
  return migrations.map((m) => ({ ...m, statements: m.statements.flatMap((s) => renderer.render(s, m.name)) }));
}
