import { createClickHouse, type ClickHouse } from '@kaudit/clickhouse';
import type { LocalRoleCredentials } from '@kaudit/stack';
import type { CliDeps } from '../build-program.js';
import { ROLE_USER_ENV } from './setup-command.js';
import { createLocalStack } from './stack-command.js';

export interface QueryTarget {
  url: string;
  username: string;
  password: string;
}

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
    return creds?.query.user === username ? creds.query.password : undefined;
  };
  return { url: env.CLICKHOUSE_URL ?? localUrl, username, password: explicit ?? fromLocalStack() ?? '' };
}

/** A ClickHouse client for reading, as the query user. */
export function createQueryClickHouse(deps: CliDeps, applicationName: string): ClickHouse {
  const stack = createLocalStack(deps);
  const target = queryTarget(deps.env, () => stack.clickhouseRoleCredentials(), stack.endpoints().clickhouseUrl);
  return createClickHouse({ url: target.url, username: target.username, password: target.password, applicationName });
}
