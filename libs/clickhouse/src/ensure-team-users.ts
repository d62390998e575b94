import { KauditError } from '@kaudit/errors';
import type { Logger } from '@kaudit/logging';
import { ensureUser, type EnsureUserContext, type RoleUserOutcome } from './ensure-role-users.js';
import { teamPasswordVariable, teamViewStatements, type TeamUserSpec } from './team-users.js';
import { toClickHouseError } from './to-clickhouse-error.js';

export interface EnsureTeamUsersOptions extends EnsureUserContext {
  specs: readonly TeamUserSpec[];
  /** Password per team; a team without one gets its views but no user, and that is said. */
  passwords: Readonly<Record<string, string | undefined>>;
  logger: Logger;
}

export interface TeamUserResult {
  team: string;
  user: string;
  /** The team's database of filtered views. */
  database: string;
  outcome: RoleUserOutcome;
  /** The variable its password is read from. */
  variable: string;
}

/**
 * (Re)creates each team's filtered views, then the team user that has a password (idempotent). The views come
 * first, so a user never holds a grant on something that is not there yet; they are refreshed for every team
 * listed, so a migration's new columns reach teams whose users were created earlier.
 */
export async function ensureTeamUsers(options: EnsureTeamUsersOptions): Promise<TeamUserResult[]> {
  const log = options.logger.child({ component: 'team-users' });
  const results: TeamUserResult[] = [];
  for (const spec of options.specs) {
    try {
      for (const statement of teamViewStatements(spec, options.cluster)) await options.client.command({ query: statement });
    } catch (err) {
      throw toClickHouseError(err, `creating the filtered views of team ${spec.team} (${spec.database})`);
    }
    const variable = teamPasswordVariable(spec.team);
    const password = options.passwords[spec.team];
    if (password === undefined || password === '') {
      log.warn({ event: 'clickhouse_team_user_skipped', team: spec.team, user: spec.user, variable }, `${variable} is not set: ClickHouse user ${spec.user} was not created or updated`);
      results.push({ team: spec.team, user: spec.user, database: spec.database, outcome: 'skipped', variable });
      continue;
    }
    let outcome: RoleUserOutcome;
    try {
      outcome = await ensureUser(options, spec, password);
    } catch (err) {
      if (err instanceof KauditError) throw err;
      throw toClickHouseError(err, `setting up ClickHouse user ${spec.user}`);
    }
    log.info({ event: 'clickhouse_team_user_ready', team: spec.team, user: spec.user, database: spec.database, outcome, namespaces: spec.namespaces }, 'clickhouse_team_user_ready');
    results.push({ team: spec.team, user: spec.user, database: spec.database, outcome, variable });
  }
  return results;
}
