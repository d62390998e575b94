import { KauditError } from '@kaudit/errors';
import { queryProfileSettings, requireIdentifier, sqlValue, type RoleUserSpec } from './role-users.js';

/**
 * Team-scoped readers (issue 17): an app team may read the audit trail of its own namespaces and nothing
 * else. Each team gets a database of its own, `<db>_team_<team>`, holding views named like the tables
 * they filter — `audit_events`, `alerts` and `audit_forbidden` (0011), the tables that carry the namespace of what was touched —
 * so every `kaudit ask` question and dashboard query works unchanged with CLICKHOUSE_DATABASE set to it.
 * The filter is built from the directory's `namespaces:` map, the map enrich derives `owner_team` from,
 * evaluated the same way (exact names first, then globs in file order, first match wins; cluster-scoped
 * rows, namespace '', belong to no team).
 *
 * Why views and not row policies on the tables: a user granted SELECT on a row-policied MergeTree table can
 * read its primary-key values, rows hidden by the policy included, through mergeTreeIndex() (and
 * mergeTreeProjection() its projections) — ClickHouse#115230, fixed only in 26.7.6.5 / 26.6.4.10 / 26.5.8.18
 * / 26.3.22.6, while the bundled engine is 26.7.3; audit_events' key is (resource, name, namespace, cluster,
 * time, audit_id). The views run as their definer (SQL SECURITY DEFINER), so a team user holds no grant on
 * any table of the kaudit database at all: not the events, not the rollups (which have no namespace column
 * and so cannot be filtered), not schema_migrations.
 */
export const TEAM_TABLES = ['audit_events', 'alerts', 'audit_forbidden'] as const;

/** Both team tables name the namespace of the object touched in this column. */
export const NAMESPACE_COLUMN = 'object_namespace';

export interface TeamUserNames {
  database: string;
  /** The teams to create users for; each must own at least one namespace in `namespaces`. */
  teams: readonly string[];
  /** The directory's `namespaces:` map (namespace or glob → team), in file order. */
  namespaces: Readonly<Record<string, string>>;
}

export interface TeamUserSpec extends Omit<RoleUserSpec, 'role'> {
  team: string;
  /** The team's database of filtered views (`<db>_team_<team>`): the CLICKHOUSE_DATABASE its users query. */
  database: string;
  /** The directory keys (names and globs) this team owns, for what setup prints. */
  namespaces: string[];
  /** One view per team table, over `<db>.<table>`, filtered to the team's namespaces. */
  views: readonly TeamView[];
}

export interface TeamView {
  /** `<db>_team_<team>.<table>` */
  name: string;
  /** `<db>.<table>` */
  source: string;
  condition: string;
}

/** `kaudit_team_<team>`, with anything but letters, digits and _ in the team name turned into _. */
export function teamUserName(team: string): string {
  return requireIdentifier(`kaudit_team_${team.replace(/[^A-Za-z0-9_]/g, '_')}`, `user name for team "${team}"`);
}

/** Where a team user's password comes from: `KAUDIT_TEAM_<TEAM>_CLICKHOUSE_PASSWORD` (upper case, non-alphanumerics as _). */
export function teamPasswordVariable(team: string): string {
  return `KAUDIT_TEAM_${team.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_CLICKHOUSE_PASSWORD`;
}

/** A directory glob as enrich matches it (services/enrich/src/identity/directory.ts): `*` = anything, any case. */
function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

/** A directory glob (`*` = anything, matched without regard to case, as enrich does) as an ILIKE pattern. */
function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
}

/**
 * The SQL condition true exactly for the rows whose namespace enrich's `teamForNamespace` gives to `team`:
 * a namespace named exactly in the map belongs to that entry's team (and to no glob); otherwise to the team
 * of the first glob that matches it; '' (cluster-scoped: nodes, namespaces, cluster roles…) to nobody.
 */
export function namespaceScopeCondition(namespaces: Readonly<Record<string, string>>, team: string, column: string = NAMESPACE_COLUMN): string {
  requireIdentifier(column, 'namespace column');
  const entries = Object.entries(namespaces).filter(([ns]) => ns !== '');
  if (!entries.some(([, t]) => t === team)) {
    const teams = [...new Set(entries.map(([, t]) => t))].sort();
    throw new KauditError('CONFIG_INVALID', `team "${team}" owns no namespace in the directory's namespaces: map (teams there: ${teams.join(', ') || 'none'})`);
  }
  const list = (names: string[]) => `(${names.map(sqlValue).join(', ')})`;
  const exact = entries.filter(([ns]) => !ns.includes('*'));
  const mine = exact.filter(([, t]) => t === team).map(([ns]) => ns);
  const allGlobs = entries.filter(([ns]) => ns.includes('*'));
  const last = allGlobs.findLastIndex(([, t]) => t === team);
  if (last < 0) return `${column} IN ${list(mine)}`;
  // Only what can change this team's answer is spelled out, since a team can read its view's definition: other
  // teams' names that one of this team's globs would match, and the globs tried before this team's last one.
  const globs = allGlobs.slice(0, last + 1);
  const mineMatch = globs.filter(([, t]) => t === team).map(([g]) => globToRegExp(g));
  const shadowed = exact.filter(([ns, t]) => t !== team && mineMatch.some((r) => r.test(ns))).map(([ns]) => ns);
  const branches: string[] = [];
  if (mine.length > 0) branches.push(`${column} IN ${list(mine)}`, '1');
  if (shadowed.length > 0) branches.push(`${column} IN ${list(shadowed)}`, '0');
  for (const [glob, owner] of globs) branches.push(`${column} ILIKE ${sqlValue(globToLike(glob))}`, owner === team ? '1' : '0');
  // A glob such as `*` matches '' too: cluster-scoped rows are excluded before any glob is tried.
  return `${column} != '' AND multiIf(${branches.join(', ')}, 0)`;
}

/** `<db>_team_<team>`: where a team's filtered views live. */
export function teamDatabase(database: string, team: string): string {
  return requireIdentifier(`${database}_${teamUserName(team).slice('kaudit_'.length)}`, `database for team "${team}"`);
}

/** The team users for a kaudit database: read-only, SELECT on their own filtered views only. */
export function teamUserSpecs(names: TeamUserNames): TeamUserSpec[] {
  const db = requireIdentifier(names.database, 'database');
  const seen = new Map<string, string>();
  return [...new Set(names.teams)].map((team) => {
    const user = teamUserName(team);
    const clash = seen.get(user);
    if (clash !== undefined) throw new KauditError('CONFIG_INVALID', `teams "${clash}" and "${team}" would both be ClickHouse user ${user}`);
    seen.set(user, team);
    const condition = namespaceScopeCondition(names.namespaces, team);
    const database = teamDatabase(db, team);
    const views = TEAM_TABLES.map((t) => ({ name: `${database}.${t}`, source: `${db}.${t}`, condition }));
    return {
      team,
      user,
      database,
      profile: `${user}_profile`,
      settings: queryProfileSettings(),
      grants: views.map((v) => ({ privileges: 'SELECT', on: v.name })),
      views,
      namespaces: Object.entries(names.namespaces).filter(([ns, t]) => ns !== '' && t === team).map(([ns]) => ns),
    };
  });
}

/**
 * The team's database and views, (re)created (idempotent; OR REPLACE also picks up columns a later migration
 * added). SQL SECURITY DEFINER with the DDL user that runs this as definer: the views read the tables with its
 * rights, so the team user needs, and gets, no grant on them.
 */
export function teamViewStatements(spec: TeamUserSpec, cluster?: string): string[] {
  const on = cluster !== undefined ? ` ON CLUSTER ${requireIdentifier(cluster, 'cluster')}` : '';
  return [
    `CREATE DATABASE IF NOT EXISTS ${spec.database}${on}`,
    ...spec.views.map((v) => `CREATE OR REPLACE VIEW ${v.name}${on} DEFINER = CURRENT_USER SQL SECURITY DEFINER AS SELECT * FROM ${v.source} WHERE ${v.condition}`),
  ];
}
