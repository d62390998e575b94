import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalRoleCredentials, LocalTeamScopes } from '@kaudit/stack';
import type { CliDeps } from '../build-program.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { roleUserStatements, sha256Hex, TEAM_TABLES, teamViewStatements, teamPasswordVariable, teamUserSpecs, type TeamUserResult, type TeamUserSpec } from '@kaudit/clickhouse';
import { KauditError } from '@kaudit/errors';

/** Team-scoped readers `kaudit setup` creates (issue 17; docs/operating.md "Team-scoped access"). */
export interface TeamUsersTarget {
  teams: string[];
  /** The directory's `namespaces:` map, in file order. */
  namespaces: Record<string, string>;
  /** The directory file it came from, named in errors. */
  directoryFile: string;
  /** Password per team (KAUDIT_TEAM_<TEAM>_CLICKHOUSE_PASSWORD); a team without one is skipped, and said. */
  passwords: Record<string, string | undefined>;
}

export const TEAM_USERS_ENV = 'KAUDIT_TEAM_USERS';
/** The directory enrich resolves identities and owning teams from: the team users are scoped by the same map. */
export const DIRECTORY_FILE_ENV = 'ENRICH_DIRECTORY_FILE';

// Only the part of enrich's directory schema (services/enrich/src/identity/directory.ts) team scoping reads.
const namespaceMapSchema = z.object({ namespaces: z.record(z.string(), z.string()).default({}) });

/** The `namespaces:` map (namespace or glob → team) of a YAML directory file. */
export function readNamespaceMap(file: string): Record<string, string> {
  if (/\.csv$/i.test(file)) throw new KauditError('CONFIG_INVALID', `directory file ${file} is CSV, which has no namespaces: map; team users need a YAML directory`);
  if (!existsSync(file)) throw new KauditError('CONFIG_INVALID', `directory file ${file} (${DIRECTORY_FILE_ENV}) does not exist`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) ?? {};
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `directory file ${file} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const parsed = namespaceMapSchema.safeParse(raw);
  if (!parsed.success) throw new KauditError('CONFIG_INVALID', `directory file ${file}: namespaces: must map each namespace (or glob) to a team name`);
  return parsed.data.namespaces;
}

/**
 * KAUDIT_TEAM_USERS=web,payments: one scoped reader per team listed, scoped by the namespaces: map of
 * ENRICH_DIRECTORY_FILE. Unset: no team users (nothing is created that nobody asked for).
 */
export function teamUsersFromEnv(env: Readonly<Record<string, string | undefined>>): TeamUsersTarget | undefined {
  const teams = (env[TEAM_USERS_ENV] ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (teams.length === 0) return undefined;
  const directoryFile = env[DIRECTORY_FILE_ENV];
  if (!directoryFile) throw new KauditError('CONFIG_INVALID', `${TEAM_USERS_ENV} is set but ${DIRECTORY_FILE_ENV} is not: team users are scoped by the directory file's namespaces: map`);
  return { teams, namespaces: readNamespaceMap(directoryFile), directoryFile, passwords: Object.fromEntries(teams.map((t) => [t, env[teamPasswordVariable(t)] || undefined])) };
}

export function teamSpecs(database: string, target: TeamUsersTarget): TeamUserSpec[] {
  try {
    return teamUserSpecs({ database, teams: target.teams, namespaces: target.namespaces });
  } catch (err) {
    if (err instanceof KauditError) throw new KauditError(err.code, `${TEAM_USERS_ENV} with ${target.directoryFile}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** The team users' SQL for `kaudit setup --print-sql`. */
export function teamUsersSql(database: string, target: TeamUsersTarget, cluster?: string): string {
  return teamSpecs(database, target)
    .map((spec) => {
      const pw = target.passwords[spec.team];
      const note = `-- team ${spec.team}: user ${spec.user} reads ${spec.database}.{${TEAM_TABLES.join(',')}}, namespaces ${spec.namespaces.join(', ')}${pw ? '' : ` (${teamPasswordVariable(spec.team)} not set: setup would create the views only)`}; run as the DDL user (CLICKHOUSE_USER), the views' definer`;
      return [note, ...teamViewStatements(spec, cluster), ...roleUserStatements(spec, pw ? sha256Hex(pw) : null, cluster)].map((s, i) => (i === 0 ? s : `${s};`)).join('\n');
    })
    .join('\n\n');
}

export function describeTeamUsers(users: TeamUserResult[]): string {
  const says: Record<TeamUserResult['outcome'], (u: TeamUserResult) => string> = {
    applied: (u) => `${u.user} (team ${u.team}, CLICKHOUSE_DATABASE=${u.database}): created/updated`,
    'server-config': (u) => `${u.user} (team ${u.team}, CLICKHOUSE_DATABASE=${u.database}): defined by the server's users.xml; login checked`,
    skipped: (u) => `${u.user} (team ${u.team}): NOT created, ${u.variable} is not set (views ${u.database}.* refreshed)`,
  };
  return `team users: ${users.map((u) => says[u.outcome](u)).join('; ')}`;
}

/**
 * The local engine's team users (`npm start`, `kaudit stack up`): one per team of the directory enrich runs
 * with there (ENRICH_DIRECTORY_FILE, else the demo company's), so a team's view can be tried locally.
 */
export function localTeamScopes(deps: Pick<CliDeps, 'env' | 'paths'>): LocalTeamScopes | undefined {
  const file = deps.env[DIRECTORY_FILE_ENV] ?? join(deps.paths.root, 'deploy', 'demo', 'directory.yaml');
  if (/\.csv$/i.test(file)) return undefined;
  const namespaces = readNamespaceMap(file);
  return Object.keys(namespaces).length > 0 ? { namespaces } : undefined;
}

/** The local engine's team users (in its users.xml), for setup to create their views and check their logins. */
export function localTeamUsers(credentials: LocalRoleCredentials | undefined): TeamUsersTarget | undefined {
  const teams = credentials?.teams;
  if (!teams) return undefined;
  return {
    teams: Object.keys(teams.users),
    namespaces: teams.namespaces,
    directoryFile: 'the local engine\'s role-users.json',
    passwords: Object.fromEntries(Object.entries(teams.users).map(([team, c]) => [team, c.password])),
  };
}
