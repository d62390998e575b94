import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { clickHouseConnectionOptions, createClickHouse, ensureRoleUsers, ensureTeamUsers, roleUserSpecs, roleUserStatements, runMigrations, sha256Hex, type RoleName, type RoleUserResult, type TeamUserResult } from '@kaudit/clickhouse';
import { eventWindowSchema, loadClickHouseConnection, loadConfig, loadEventWindow, loadKafkaSecurity, type ClickHouseConnectionConfig } from '@kaudit/config';
import { KauditError } from '@kaudit/errors';
import { createKafkaClient, DEFAULT_TOPIC_SPECS, type KafkaSecurityOptions, type TopicSpec } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import type { CliDeps } from '../build-program.js';
import { createLocalStack } from './stack-command.js';
import { describeTeamUsers, localTeamUsers, teamSpecs, teamUsersFromEnv, teamUsersSql, type TeamUsersTarget } from './team-users.js';

export interface SetupTarget {
  kafkaBrokers: string;
  /** TLS and SASL for kafkaBrokers (KAFKA_SSL*, KAFKA_SASL_*); absent: plaintext. */
  kafkaSecurity?: KafkaSecurityOptions;
  /** Replicas of each new topic and its min.insync.replicas; absent: the broker's defaults (one broker: 1). */
  topicReplicationFactor?: number;
  topicMinInsyncReplicas?: number;
  /** URL, user, password, CA and client certificate (libs/config's one ClickHouse connection definition). */
  clickhouse: ClickHouseConnectionConfig;
  database: string;
  retentionDays: number;
  migrationsDir: string;
  /** The role users setup creates (passwords absent: not created, and said so). */
  roleUsers?: RoleUsersTarget;
  /** Team-scoped readers (KAUDIT_TEAM_USERS); absent: none. */
  teamUsers?: TeamUsersTarget;
}

export interface RoleUsersTarget {
  queryUser: string;
  sinkUser: string;
  queryPassword?: string;
  sinkPassword?: string;
}

/** The variables that name and authenticate each role user (the Helm chart wires the same names). */
export const ROLE_USER_ENV = {
  query: { user: 'KAUDIT_QUERY_CLICKHOUSE_USER', password: 'KAUDIT_QUERY_CLICKHOUSE_PASSWORD', defaultUser: 'kaudit_query' },
  sink: { user: 'KAUDIT_SINK_CLICKHOUSE_USER', password: 'KAUDIT_SINK_CLICKHOUSE_PASSWORD', defaultUser: 'kaudit_sink' },
} as const satisfies Record<RoleName, { user: string; password: string; defaultUser: string }>;

export function roleUsersFromEnv(env: Readonly<Record<string, string | undefined>>): RoleUsersTarget {
  const queryPassword = env[ROLE_USER_ENV.query.password];
  const sinkPassword = env[ROLE_USER_ENV.sink.password];
  return {
    queryUser: env[ROLE_USER_ENV.query.user] || ROLE_USER_ENV.query.defaultUser,
    sinkUser: env[ROLE_USER_ENV.sink.user] || ROLE_USER_ENV.sink.defaultUser,
    ...(queryPassword ? { queryPassword } : {}),
    ...(sinkPassword ? { sinkPassword } : {}),
  };
}

/** The SQL setup runs for the role users, for review or for a DBA to apply by hand (`kaudit setup --print-sql`). */
export function roleUsersSql(database: string, roles: RoleUsersTarget, cluster?: string): string {
  const specs = roleUserSpecs({ database, queryUser: roles.queryUser, sinkUser: roles.sinkUser, clusterTables: cluster !== undefined });
  const password = (role: RoleName) => (role === 'query' ? roles.queryPassword : roles.sinkPassword);
  return specs
    .map((spec) => {
      const pw = password(spec.role);
      const head = `-- ${spec.role} user ${spec.user}${pw ? '' : ` (${ROLE_USER_ENV[spec.role].password} not set: setup would skip it)`}; run as the DDL user (CLICKHOUSE_USER)`;
      return [head, ...roleUserStatements(spec, pw ? sha256Hex(pw) : null, cluster).map((s) => `${s};`)].join('\n');
    })
    .join('\n\n');
}

/** kaudit's topics with the replication asked for in setup. */
export function setupTopicSpecs(target: Pick<SetupTarget, 'topicReplicationFactor' | 'topicMinInsyncReplicas'>): TopicSpec[] {
  return DEFAULT_TOPIC_SPECS.map((spec) => ({
    ...spec,
    ...(target.topicReplicationFactor !== undefined ? { replicationFactor: target.topicReplicationFactor } : {}),
    ...(target.topicMinInsyncReplicas !== undefined ? { configs: { ...spec.configs, 'min.insync.replicas': String(target.topicMinInsyncReplicas) } } : {}),
  }));
}

const replicationSchema = z
  .object({
    replicationFactor: z.coerce.number().int().min(1).optional(),
    minInsyncReplicas: z.coerce.number().int().min(1).optional(),
  })
  // More required in-sync replicas than replicas would refuse every acks=all write, for good.
  .refine((r) => r.minInsyncReplicas === undefined || r.minInsyncReplicas <= (r.replicationFactor ?? 1), {
    path: ['minInsyncReplicas'],
    message: 'must not exceed the replication factor (KAUDIT_TOPIC_REPLICATION_FACTOR, 1 when unset)',
  });

/** Creates kaudit's topics and applies pending ClickHouse migrations. Idempotent: safe on every start. */
export async function setupPipeline(target: SetupTarget, logger: Logger): Promise<{ topics: string[]; applied: string[]; users: RoleUserResult[]; teams: TeamUserResult[] }> {
  const log = logger.child({ component: 'setup' });
  // The TTL is written once, when the migrations first run: a value ClickHouse cannot honour must never get there.
  const retention = eventWindowSchema.shape.retentionDays.safeParse(target.retentionDays);
  if (!retention.success) {
    throw new KauditError('CONFIG_INVALID', `retention of ${target.retentionDays} days (KAUDIT_RETENTION_DAYS): ${retention.error.issues.map((i) => i.message).join('; ')}`);
  }
  const admin = createKafkaClient({ brokers: target.kafkaBrokers.split(','), clientId: 'kaudit-setup', logger, ...target.kafkaSecurity }).admin();
  await admin.start();
  try {
    await admin.ensureTopics(setupTopicSpecs(target));
  } finally {
    await admin.stop();
  }
  const topics = DEFAULT_TOPIC_SPECS.map((t) => t.topic);
  log.info({ event: 'topics_ready', topics }, 'topics_ready');
  const connection = clickHouseConnectionOptions(target.clickhouse);
  const client = createClickHouse({ ...connection, applicationName: 'kaudit-setup' });
  try {
    // CLICKHOUSE_CLUSTER: the same migrations as ON CLUSTER DDL with Replicated* and Distributed tables (docs/operating.md).
    const cluster = target.clickhouse.cluster !== undefined ? { cluster: target.clickhouse.cluster } : undefined;
    const result = await runMigrations({ client, dir: target.migrationsDir, database: target.database, logger, vars: { retention_days: target.retentionDays }, cluster });
    log.info({ event: 'migrations_ready', applied: result.applied.length, skipped: result.skipped.length }, 'migrations_ready');
    const roles = target.roleUsers;
    const users = roles
      ? await ensureRoleUsers({
          client,
          url: connection.url,
          tls: connection.tls,
          specs: roleUserSpecs({ database: target.database, queryUser: roles.queryUser, sinkUser: roles.sinkUser, clusterTables: cluster !== undefined }),
          cluster: cluster?.cluster,
          passwords: { ...(roles.queryPassword ? { query: roles.queryPassword } : {}), ...(roles.sinkPassword ? { sink: roles.sinkPassword } : {}) },
          passwordVariables: { query: ROLE_USER_ENV.query.password, sink: ROLE_USER_ENV.sink.password },
          logger,
        })
      : [];
    const team = target.teamUsers;
    const teams = team
      ? await ensureTeamUsers({
          client,
          url: connection.url,
          tls: connection.tls,
          cluster: cluster?.cluster,
          specs: teamSpecs(target.database, team),
          passwords: team.passwords,
          logger,
        })
      : [];
    return { topics, applied: result.applied, users, teams };
  } finally {
    await client.close();
  }
}

/** Reads the setup target from the environment (the same variables the services use). */
export function setupTargetFromEnv(deps: CliDeps, defaults: { kafkaBrokers: string; clickhouseUrl: string }): SetupTarget {
  const env = deps.env;
  // The same definition ingest, enrich and import read: one retention for the TTL and for acceptance.
  const { retentionDays } = loadEventWindow(env, 'kaudit setup');
  const replication = loadConfig(replicationSchema, {
    env,
    envMap: { replicationFactor: 'KAUDIT_TOPIC_REPLICATION_FACTOR', minInsyncReplicas: 'KAUDIT_TOPIC_MIN_INSYNC_REPLICAS' },
    name: 'setup topics',
  });
  const teamUsers = teamUsersFromEnv(env) ?? (env.CLICKHOUSE_URL ? undefined : localTeamUsers(createLocalStack(deps).clickhouseRoleCredentials()));
  return {
    kafkaBrokers: env.KAFKA_BROKERS ?? defaults.kafkaBrokers,
    kafkaSecurity: loadKafkaSecurity(env),
    ...(replication.replicationFactor !== undefined ? { topicReplicationFactor: replication.replicationFactor } : {}),
    ...(replication.minInsyncReplicas !== undefined ? { topicMinInsyncReplicas: replication.minInsyncReplicas } : {}),
    clickhouse: loadClickHouseConnection(env, { url: defaults.clickhouseUrl }, 'kaudit setup'),
    database: env.CLICKHOUSE_DATABASE ?? 'kaudit',
    retentionDays,
    migrationsDir: join(deps.paths.root, 'migrations', 'clickhouse'),
    roleUsers: roleUsersFromEnv(env),
    ...(teamUsers ? { teamUsers } : {}),
  };
}

export function registerSetupCommand(program: Command, deps: CliDeps): void {
  program
    .command('setup')
    .description('create the Kafka topics, apply ClickHouse migrations and create the role users (idempotent; run before the services)')
    .option('--print-sql', 'print the SQL that creates the ClickHouse role users, and do nothing else')
    .action(async (opts: { printSql?: boolean }) => {
      // Without KAFKA_BROKERS / CLICKHOUSE_URL: the local stack on its configured ports (KAUDIT_*_PORT), as every command.
      const target = setupTargetFromEnv(deps, createLocalStack(deps).endpoints());
      if (opts.printSql) {
        deps.out(roleUsersSql(target.database, target.roleUsers ?? roleUsersFromEnv({}), target.clickhouse.cluster));
        if (target.teamUsers) deps.out(`\n${teamUsersSql(target.database, target.teamUsers, target.clickhouse.cluster)}`);
        return;
      }
      const result = await setupPipeline(target, deps.logger);
      deps.out(`topics: ${result.topics.join(', ')}\nmigrations applied: ${result.applied.length === 0 ? 'none (up to date)' : result.applied.join(', ')}`);
      deps.out(describeUsers(result.users));
      if (result.teams.length > 0) deps.out(describeTeamUsers(result.teams));
    });
}

function describeUsers(users: RoleUserResult[]): string {
  const says: Record<RoleUserResult['outcome'], (u: RoleUserResult) => string> = {
    applied: (u) => `${u.user} (${u.role}): created/updated`,
    'server-config': (u) => `${u.user} (${u.role}): defined by the server's users.xml; login checked`,
    skipped: (u) => `${u.user} (${u.role}): NOT created, ${ROLE_USER_ENV[u.role].password} is not set`,
  };
  return `clickhouse users: ${users.map((u) => says[u.outcome](u)).join('; ')}`;
}
