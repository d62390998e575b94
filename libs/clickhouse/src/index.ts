export { createClickHouse, EXPLICIT_SETTINGS, type ClickHouseOptions, type ClickHouse } from './create-clickhouse.js';
export { runMigrations, loadMigrations, type Migration, type MigrationResult, type RunMigrationsOptions } from './run-migrations.js';
export { toClickHouseError } from './to-clickhouse-error.js';
