import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { grantClause, roleUserSpecs, sha256Hex, teamUserSpecs, type RoleUserNames, type RoleUserSpec } from '@kaudit/clickhouse';
import { KauditError } from '@kaudit/errors';

/** A role user's name and password as the local engine knows them. */
export interface LocalCredential {
  user: string;
  password: string;
}

export interface LocalRoleCredentials {
  database: string;
  query: LocalCredential;
  sink: LocalCredential;
  /**
   * Team-scoped readers (issue 17), one per team of the directory's `namespaces:` map, with that map as
   * it was when the engine was started (users.xml is written at start).
   */
  teams?: { namespaces: Record<string, string>; users: Record<string, LocalCredential> };
}

/** The directory's namespace → team map the local engine's team users are scoped by. */
export interface LocalTeamScopes {
  namespaces: Record<string, string>;
}

const credentialSchema = z.object({ user: z.string().min(1), password: z.string().min(1) });
const fileSchema = z.object({
  database: z.string().min(1),
  query: credentialSchema,
  sink: credentialSchema,
  teams: z.object({ namespaces: z.record(z.string(), z.string()), users: z.record(z.string(), credentialSchema) }).optional(),
});

export const LOCAL_ROLE_USERS_FILE = 'role-users.json';

/** The local engine's role-user credentials, or undefined when it has none yet (never started). */
export function readLocalRoleCredentials(dir: string): LocalRoleCredentials | undefined {
  const file = join(dir, LOCAL_ROLE_USERS_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = fileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new KauditError('CONFIG_INVALID', `${file} is not a kaudit role-users file (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}); delete it and restart the stack`);
  return parsed.data;
}

/**
 * Passwords for the local engine's role users: made once (random, file mode 0600) and kept, so a
 * restarted engine and the services or CLI reading this file agree. Team users (one per team of
 * `teams.namespaces`) keep their passwords too; a team new to the map gets one.
 */
export function ensureLocalRoleCredentials(dir: string, names: RoleUserNames, teams?: LocalTeamScopes): LocalRoleCredentials {
  const existing = readLocalRoleCredentials(dir);
  const same = existing && existing.database === names.database && existing.query.user === names.queryUser && existing.sink.user === names.sinkUser ? existing : undefined;
  const made: LocalRoleCredentials = {
    database: names.database,
    query: same?.query ?? { user: names.queryUser, password: randomBytes(18).toString('base64url') },
    sink: same?.sink ?? { user: names.sinkUser, password: randomBytes(18).toString('base64url') },
  };
  if (teams) {
    const specs = teamUserSpecs({ database: names.database, teams: [...new Set(Object.values(teams.namespaces))], namespaces: teams.namespaces });
    const users = Object.fromEntries(specs.map((spec) => {
      const kept = same?.teams?.users[spec.team];
      return [spec.team, kept?.user === spec.user ? kept : { user: spec.user, password: randomBytes(18).toString('base64url') }];
    }));
    made.teams = { namespaces: { ...teams.namespaces }, users };
  }
  if (same && JSON.stringify(same) === JSON.stringify(made)) return same;
  writeFileSync(join(dir, LOCAL_ROLE_USERS_FILE), `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
  return made;
}

const xml = (s: string | number): string => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function profileXml(spec: Pick<RoleUserSpec, 'profile' | 'settings'>): string {
  const values = spec.settings.map((s) => `<${s.name}>${xml(s.value)}</${s.name}>`).join('');
  const constants = spec.settings
    .map((s) => {
      if (s.constant) return `<${s.name}><const/></${s.name}>`;
      if (s.readonlyRange) return `<${s.name}><min>${s.readonlyRange.min}</min><max>${s.readonlyRange.max}</max><changeable_in_readonly/></${s.name}>`;
      return '';
    })
    .join('');
  return `    <${spec.profile}>${values}${constants ? `<constraints>${constants}</constraints>` : ''}</${spec.profile}>`;
}

function userXml(spec: Omit<RoleUserSpec, 'role'>, password: string): string {
  return [
    `    <${spec.user}>`,
    `      <password_sha256_hex>${sha256Hex(password)}</password_sha256_hex>`,
    '      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>',
    `      <profile>${spec.profile}</profile>`,
    '      <quota>default</quota>',
    `      <grants>${spec.grants.map((g) => `<query>${xml(grantClause(g))}</query>`).join('')}</grants>`,
    `    </${spec.user}>`,
  ].join('\n');
}

/**
 * users.xml for the local engine: `default` stays password-less and loopback-only (setup, tests),
 * and the role users get exactly the profile and grants `kaudit setup` gives them on a server —
 * clickhouse-local keeps users only in users.xml (CREATE USER there fails with
 * ACCESS_STORAGE_FOR_INSERTION_NOT_FOUND), so this is how the local stack runs what ships.
 */
export function localUsersXml(credentials: LocalRoleCredentials): string {
  const specs = roleUserSpecs({ database: credentials.database, queryUser: credentials.query.user, sinkUser: credentials.sink.user });
  const password = (spec: RoleUserSpec) => (spec.role === 'query' ? credentials.query.password : credentials.sink.password);
  const teams = credentials.teams;
  const teamSpecs = teams ? teamUserSpecs({ database: credentials.database, teams: Object.keys(teams.users), namespaces: teams.namespaces }) : [];
  const teamPassword = (team: string): string => {
    const found = teams?.users[team];
    if (!found) throw new KauditError('INTERNAL', `no local password for team ${team}`);
    return found.password;
  };
  return [
    '<clickhouse>',
    '  <profiles>',
    '    <default></default>',
    ...[...specs, ...teamSpecs].map(profileXml),
    '  </profiles>',
    '  <users>',
    '    <default>',
    '      <password></password>',
    '      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>',
    '      <profile>default</profile>',
    '      <quota>default</quota>',
    '      <named_collection_control>1</named_collection_control>',
    '    </default>',
    ...specs.map((s) => userXml(s, password(s))),
    ...teamSpecs.map((s) => userXml(s, teamPassword(s.team))),
    '  </users>',
    '  <quotas><default></default></quotas>',
    '</clickhouse>',
    '',
  ].join('\n');
}

/** Writes config.xml + users.xml into `dir` and returns the config file to start the engine with (plus `extraXml` elements). */
export function writeLocalAccessConfig(dir: string, credentials: LocalRoleCredentials, extraXml = ''): string {
  const users = join(dir, 'users.xml');
  writeFileSync(users, localUsersXml(credentials), { mode: 0o600 });
  const config = join(dir, 'config.xml');
  writeFileSync(config, `<clickhouse>\n  <user_directories>\n    <users_xml><path>${xml(users)}</path></users_xml>\n  </user_directories>\n${extraXml}</clickhouse>\n`, { mode: 0o600 });
  return config;
}
