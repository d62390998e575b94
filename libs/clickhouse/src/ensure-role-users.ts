import { KauditError } from '@kaudit/errors';
import type { Logger } from '@kaudit/logging';
import { createClickHouse, type ClickHouse, type ClickHouseTlsFiles } from './create-clickhouse.js';
import { roleUserStatements, sha256Hex, type RoleName, type RoleUserSpec } from './role-users.js';
import { toClickHouseError } from './to-clickhouse-error.js';

export interface EnsureRoleUsersOptions {
  /** Connected as the DDL user (CLICKHOUSE_USER), which needs access management and these grants WITH GRANT OPTION. */
  client: ClickHouse;
  url: string;
  /** The same CA / client certificate as the DDL user's connection, for the login checks over https. */
  tls?: ClickHouseTlsFiles | undefined;
  specs: readonly RoleUserSpec[];
  /** Cluster mode: the users are created ON CLUSTER. */
  cluster?: string | undefined;
  /** Password per role; a role without one is not created, and that is said. */
  passwords: Partial<Record<RoleName, string>>;
  /** The variable that carries each role's password, named in what is logged. */
  passwordVariables: Record<RoleName, string>;
  logger: Logger;
}

export type RoleUserOutcome =
  /** created or brought up to date by SQL */
  | 'applied'
  /** defined in the server's users.xml (read-only to SQL); its login was checked */
  | 'server-config'
  /** no password given: not created */
  | 'skipped';

export interface RoleUserResult {
  role: RoleName;
  user: string;
  outcome: RoleUserOutcome;
}

/** Where the server keeps this user (`users_xml`, `local_directory`, `replicated`…), or undefined when it has none. */
export async function userStorage(client: ClickHouse, user: string): Promise<string | undefined> {
  const rs = await client.query({ query: 'SELECT storage FROM system.users WHERE name = {user:String}', query_params: { user }, format: 'JSONEachRow' });
  const [row] = await rs.json<{ storage: string }>();
  return row?.storage;
}

/** Logs in as the role user, so a wrong password fails setup rather than the service that uses it. */
async function checkLogin(url: string, tls: ClickHouseTlsFiles | undefined, user: string, password: string): Promise<void> {
  const probe = createClickHouse({ url, username: user, password, applicationName: 'kaudit-setup', ...(tls ? { tls } : {}) });
  try {
    await (await probe.query({ query: 'SELECT currentUser()', format: 'JSONEachRow' })).json();
  } catch (err) {
    throw new KauditError('CONFIG_INVALID', `ClickHouse user ${user} cannot log in with its configured password: ${(err as Error).message}`, { cause: err });
  } finally {
    await probe.close();
  }
}

export interface EnsureUserContext {
  client: ClickHouse;
  url: string;
  tls?: ClickHouseTlsFiles | undefined;
  cluster?: string | undefined;
}

/**
 * Creates or updates one user from its spec (idempotent) and checks it can log in. A user the server
 * defines in users.xml cannot be changed by SQL (and clickhouse-local, the local engine, has no other
 * user storage), so it is left as configured and only its login checked.
 */
export async function ensureUser(ctx: EnsureUserContext, spec: Omit<RoleUserSpec, 'role'>, password: string): Promise<'applied' | 'server-config'> {
  try {
    if ((await userStorage(ctx.client, spec.user)) === 'users_xml') {
      await checkLogin(ctx.url, ctx.tls, spec.user, password);
      return 'server-config';
    }
    for (const statement of roleUserStatements(spec, sha256Hex(password), ctx.cluster)) await ctx.client.command({ query: statement });
  } catch (err) {
    if (err instanceof KauditError) throw err;
    throw toClickHouseError(err, `setting up ClickHouse user ${spec.user}`);
  }
  await checkLogin(ctx.url, ctx.tls, spec.user, password);
  return 'applied';
}

/** Creates or updates each role user that has a password (idempotent), and says plainly which were not created. */
export async function ensureRoleUsers(options: EnsureRoleUsersOptions): Promise<RoleUserResult[]> {
  const log = options.logger.child({ component: 'role-users' });
  const results: RoleUserResult[] = [];
  for (const spec of options.specs) {
    const password = options.passwords[spec.role];
    if (password === undefined || password === '') {
      log.warn({ event: 'clickhouse_role_user_skipped', role: spec.role, user: spec.user, variable: options.passwordVariables[spec.role] }, `${options.passwordVariables[spec.role]} is not set: ClickHouse user ${spec.user} was not created or updated`);
      results.push({ role: spec.role, user: spec.user, outcome: 'skipped' });
      continue;
    }
    const outcome = await ensureUser(options, spec, password);
    const event = outcome === 'applied' ? 'clickhouse_role_user_applied' : 'clickhouse_role_user_in_server_config';
    log.info({ event, role: spec.role, user: spec.user }, event);
    results.push({ role: spec.role, user: spec.user, outcome });
  }
  return results;
}
