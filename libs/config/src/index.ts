export { loadConfig, type ConfigSource, type EnvMap } from './load-config.js';
export { Secret, secret } from './secret.js';
export { csvList, booleanish, readEnv, readConfigFile } from './env.js';
export { ConfigError, type ConfigProblem } from './config-error.js';
export { eventWindowSchema, eventWindowEnv, loadEventWindow, RETENTION_DAYS_MIN, RETENTION_DAYS_MAX, RETENTION_DAYS_DEFAULT, type EventWindowConfig } from './event-window.js';
export {
  KAFKA_SASL_MECHANISMS,
  KAFKA_COMPRESSIONS,
  DEFAULT_KAFKA_COMPRESSION,
  kafkaConnectionFields,
  kafkaConnectionEnv,
  kafkaSecurityFields,
  kafkaSecurityEnv,
  loadKafkaCompression,
  loadKafkaSecurity,
  type KafkaCompressionName,
  type KafkaSaslMechanismName,
  type KafkaSaslSettings,
  type KafkaSecuritySettings,
  type KafkaTlsSettings,
} from './kafka-connection.js';
export { clickHouseConnectionSchema, clickHouseConnectionShape, checkClickHouseConnection, clickHouseConnectionEnv, loadClickHouseConnection, type ClickHouseConnectionConfig } from './clickhouse-connection.js';
