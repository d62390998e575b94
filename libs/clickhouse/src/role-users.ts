import { createHash } from 'node:crypto';
import { KauditError } from '@kaudit/errors';
import { EXPLICIT_SETTINGS } from './create-clickhouse.js';

/**
 * The ClickHouse users kaudit runs as, one per role, so nobody reading the audit record can reach
 * more than they need (issue 11): `kaudit setup` itself runs as the DDL user (CLICKHOUSE_USER), the
 * sink writes as an insert-only user, and every reader (CLI, Grafana) queries as a read-only user.
 * One description feeds both the SQL that `kaudit setup` runs on a ClickHouse server and the
 * users.xml the local engine is started with (clickhouse-local has no SQL-writable user storage).
 */
export type RoleName = 'query' | 'sink';

export interface RoleGrant {
  /** e.g. `SELECT` or `SELECT, INSERT`. */
  privileges: string;
  /** `db.*` or `db.table`. */
  on: string;
}

export interface RoleUserSpec {
  role: RoleName;
  user: string;
  profile: string;
  /**
   * Profile settings; `constant` ones cannot be changed by the user (SET readonly = 0 fails); a
   * `readonlyRange` one may be changed within it even under readonly=1.
   */
  settings: readonly { name: string; value: string | number; constant?: boolean; readonlyRange?: { min: number; max: number } }[];
  grants: readonly RoleGrant[];
}

export interface RoleUserNames {
  database: string;
  queryUser: string;
  sinkUser: string;
  /**
   * Cluster mode (CLICKHOUSE_CLUSTER): the sink's tables are Distributed over `<table>_local`, and an insert
   * through a Distributed table writes the local tables as the same user, so the sink is granted both.
   */
  clusterTables?: boolean;
}

/** Tables the sink writes: INSERT, plus SELECT for its stored-offset (exactly-once) check. */
export const SINK_TABLES = ['audit_events', 'alerts'] as const;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function requireIdentifier(value: string, what: string): string {
  if (!IDENTIFIER.test(value)) throw new KauditError('CONFIG_INVALID', `${what} "${value}" must be a plain identifier (letters, digits, _)`);
  return value;
}

/**
 * The query user's profile: readonly=1 (no writes, no DDL, no SET) held constant, carrying the
 * same values the kaudit client sends on every request, because a readonly=1 user may only send a
 * setting whose value it already has.
 */
export function queryProfileSettings(): RoleUserSpec['settings'] {
  return [
    { name: 'readonly', value: 1, constant: true },
    // Grafana's ClickHouse datasource (clickhouse-go) sends max_execution_time with every query, which a
    // readonly=1 user could otherwise not do (grafana/clickhouse-datasource#325); bounded so a reader
    // cannot run a query for hours.
    { name: 'max_execution_time', value: 60, readonlyRange: { min: 1, max: 600 } },
    ...Object.entries(EXPLICIT_SETTINGS).map(([name, value]) => ({ name, value: typeof value === 'number' ? value : String(value) })),
  ];
}

/** The role users for a kaudit database. */
export function roleUserSpecs(names: RoleUserNames): RoleUserSpec[] {
  const db = requireIdentifier(names.database, 'database');
  const queryUser = requireIdentifier(names.queryUser, 'query user');
  const sinkUser = requireIdentifier(names.sinkUser, 'sink user');
  if (queryUser === sinkUser) throw new KauditError('CONFIG_INVALID', `the query and sink users must differ (both "${queryUser}")`);
  return [
    { role: 'query', user: queryUser, profile: `${queryUser}_profile`, settings: queryProfileSettings(), grants: [{ privileges: 'SELECT', on: `${db}.*` }] },
    {
      role: 'sink',
      user: sinkUser,
      profile: `${sinkUser}_profile`,
      settings: [],
      grants: [
        ...SINK_TABLES.flatMap((t) => (names.clusterTables ? [t, `${t}_local`] : [t]).map((name) => ({ privileges: 'SELECT, INSERT', on: `${db}.${name}` }))),
        // A new owner of a partition waits for the previous owner's inserts still running (BatchSink), found by
        // their query_id: that column only, so the sink never sees other users' query texts.
        { privileges: 'SELECT(query_id)', on: 'system.processes' },
      ],
    },
  ];
}

export function sha256Hex(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

export function sqlValue(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `GRANT … ON …` without a grantee: the form users.xml takes, and the body of the SQL grant. */
export function grantClause(grant: RoleGrant): string {
  return `GRANT ${grant.privileges} ON ${grant.on}`;
}

/**
 * Idempotent SQL that makes the user exactly this spec: created if absent, otherwise its password,
 * profile and grants replaced (REVOKE ALL first, so a grant added by hand does not linger). Only the
 * password's SHA-256 is sent, so the plaintext never reaches ClickHouse's query log.
 */
export function roleUserStatements(spec: Omit<RoleUserSpec, 'role'>, passwordSha256Hex: string | null, cluster?: string): string[] {
  // Cluster mode: every node gets the same users (unless the servers keep users in replicated access storage,
  // where ON CLUSTER is harmless).
  const on = cluster !== undefined ? ` ON CLUSTER ${requireIdentifier(cluster, 'cluster')}` : '';
  if (passwordSha256Hex !== null && !/^[0-9a-f]{64}$/.test(passwordSha256Hex)) throw new KauditError('INTERNAL', 'password hash must be 64 hex digits');
  // null: documentation (`kaudit setup --print-sql`) without a password to hash.
  const auth = `IDENTIFIED WITH sha256_hash BY '${passwordSha256Hex ?? '<sha256 hex of the password>'}'`;
  const settings = spec.settings.map((s) => {
    const range = s.readonlyRange ? ` MIN ${s.readonlyRange.min} MAX ${s.readonlyRange.max} CHANGEABLE_IN_READONLY` : '';
    return `${s.name} = ${sqlValue(s.value)}${s.constant ? ' CONST' : ''}${range}`;
  });
  return [
    `CREATE SETTINGS PROFILE IF NOT EXISTS ${spec.profile}${on}`,
    settings.length > 0 ? `ALTER SETTINGS PROFILE ${spec.profile}${on} SETTINGS ${settings.join(', ')}` : `ALTER SETTINGS PROFILE ${spec.profile}${on} SETTINGS NONE`,
    `CREATE USER IF NOT EXISTS ${spec.user}${on} ${auth}`,
    `ALTER USER ${spec.user}${on} ${auth} SETTINGS PROFILE '${spec.profile}'`,
    `REVOKE${on} ALL ON *.* FROM ${spec.user}`,
    ...spec.grants.map((g) => `${on ? grantClause(g).replace(/^GRANT /, `GRANT${on} `) : grantClause(g)} TO ${spec.user}`),
  ];
}
