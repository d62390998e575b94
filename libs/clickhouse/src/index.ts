export { createClickHouse, clickHouseConnectionOptions, EXPLICIT_SETTINGS, type ClickHouseOptions, type ClickHouse, type ClickHouseTlsFiles, type ClickHouseConnectionLike } from './create-clickhouse.js';
export { runMigrations, loadMigrations, type Migration, type MigrationResult, type RunMigrationsOptions } from './run-migrations.js';
export { toClickHouseError } from './to-clickhouse-error.js';
export { roleUserSpecs, roleUserStatements, grantClause, sha256Hex, SINK_TABLES, type RoleName, type RoleGrant, type RoleUserSpec, type RoleUserNames } from './role-users.js';
export { ensureRoleUsers, ensureUser, type EnsureUserContext, type EnsureRoleUsersOptions, type RoleUserOutcome, type RoleUserResult } from './ensure-role-users.js';
export { probeClickHouse } from './probe-clickhouse.js';
export { ClusterDdlRenderer, renderClusterMigrations, REPLICATION_PATH, type ClusterMode } from './render-cluster-ddl.js';
export { teamUserSpecs, teamUserName, teamDatabase, teamPasswordVariable, teamViewStatements, namespaceScopeCondition, TEAM_TABLES, NAMESPACE_COLUMN, type TeamUserSpec, type TeamUserNames, type TeamView } from './team-users.js';
export { ensureTeamUsers, type EnsureTeamUsersOptions, type TeamUserResult } from './ensure-team-users.js';
