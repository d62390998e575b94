import { clickHouseConnectionOptions, createClickHouse, type ClickHouse } from '@kaudit/clickhouse';
import { loadClickHouseConnection, type ClickHouseConnectionConfig } from '@kaudit/config';
import type { LocalRoleCredentials } from '@kaudit/stack';
import type { CliDeps } from '../build-program.js';
import { ROLE_USER_ENV } from './setup-command.js';
import { createLocalStack } from './stack-command.js';

export type QueryTarget = ClickHouseConnectionConfig;

/**
 * Who the CLI queries ClickHouse as: the read-only query user (issue 11: the server, not a client
 * setting, is what keeps `kaudit sql` from reading files or writing). CLICKHOUSE_USER/PASSWORD
 * override it; otherwise KAUDIT_QUERY_CLICKHOUSE_USER/PASSWORD, and for the local stack (no
 * CLICKHOUSE_URL) the password the local engine was started with.
 */
export function queryTarget(env: CliDeps['env'], local: () => LocalRoleCredentials | undefined, localUrl = 'http://127.0.0.1:8123'): QueryTarget {
  const username = env.CLICKHOUSE_USER || env[ROLE_USER_ENV.query.user] || ROLE_USER_ENV.query.defaultUser;
  const explicit = env.CLICKHOUSE_PASSWORD ?? env[ROLE_USER_ENV.query.password];
  const fromLocalStack = () => {
    if (env.CLICKHOUSE_URL) return undefined;
    const creds = local();
    if (creds?.query.user === username) return creds.query.password;
    // A team-scoped reader of the local engine (issue 17): CLICKHOUSE_USER=kaudit_team_<team>.
    return Object.values(creds?.teams?.users ?? {}).find((u) => u.user === username)?.password;
  };
  const password = explicit ?? fromLocalStack();
  // The resolved user and password through the one connection definition, which also reads the CA and client certificate.
  return loadClickHouseConnection({ ...env, CLICKHOUSE_USER: username, CLICKHOUSE_PASSWORD: password }, { url: localUrl }, 'kaudit ClickHouse connection');
}

/** A ClickHouse client for reading, as the query user. */
export function createQueryClickHouse(deps: CliDeps, applicationName: string): ClickHouse {
  const stack = createLocalStack(deps);
  const target = queryTarget(deps.env, () => stack.clickhouseRoleCredentials(), stack.endpoints().clickhouseUrl);
  return createClickHouse({ ...clickHouseConnectionOptions(target), applicationName });
}
