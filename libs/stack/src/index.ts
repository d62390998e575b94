export { LocalStack, type StackOptions, type StackEndpoints, type EngineStatus } from './local-stack.js';
export { loadStackConfig, stackConfigSchema, STACK_ENV, type StackConfig } from './stack-config.js';
export { KAFKA_VERSION, startKafka, stopKafka, waitForKafka, ensureKafkaJars, type KafkaBrokerSecurity, type KafkaEngineOptions } from './kafka-engine.js';
export { startKafkaCluster, type KafkaCluster, type KafkaClusterNode, type KafkaClusterOptions } from './kafka-cluster.js';
export { startClickHouse, waitForClickHouse, ensureLauncher, findLibChdb } from './clickhouse-engine.js';
export { freePort, isPortFree, isAlive, rssMiB } from './process-control.js';
export { parseJavaVersion } from './prerequisites.js';
export { createEphemeralStack, type EphemeralStackOptions } from './ephemeral-stack.js';
export { serviceNodeArgs } from './service-node-args.js';
