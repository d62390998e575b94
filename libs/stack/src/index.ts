export { LocalStack, type StackOptions, type StackEndpoints, type EngineStatus } from './local-stack.js';
export { loadStackConfig, stackConfigSchema, STACK_ENV, type StackConfig } from './stack-config.js';
export { KAFKA_VERSION, startKafka, waitForKafka, ensureKafkaJars } from './kafka-engine.js';
export { startClickHouse, waitForClickHouse, ensureLauncher, findLibChdb, clickhousePaths } from './clickhouse-engine.js';
export { freePort, isPortFree, isAlive, rssMiB, stopPid } from './process-control.js';
export { readLocalRoleCredentials, localUsersXml, type LocalRoleCredentials, type LocalCredential } from './clickhouse-access-config.js';
export { parseJavaVersion } from './prerequisites.js';
export { createEphemeralStack, type EphemeralStackOptions } from './ephemeral-stack.js';
export { serviceNodeArgs } from './service-node-args.js';
