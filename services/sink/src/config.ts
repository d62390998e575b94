import { z } from 'zod';
import { checkClickHouseConnection, clickHouseConnectionEnv, clickHouseConnectionShape, kafkaConnectionEnv, kafkaConnectionFields, loadConfig, type EnvMap } from '@kaudit/config';
import { TOPICS } from '@kaudit/kafka';

export const sinkConfigSchema = z.object({
  kafka: z.object({
    ...kafkaConnectionFields(),
    clientId: z.string().default('kaudit-sink'),
    groupId: z.string().min(1).default('kaudit-sink'),
    /** Topic overrides exist for tests (unique topics on a shared broker); production keeps the defaults. */
    enrichedTopic: z.string().min(1).default(TOPICS.enriched),
    alertsTopic: z.string().min(1).default(TOPICS.alerts),
    dlqTopic: z.string().min(1).default(TOPICS.dlq),
    /**
     * One fetched batch per partition is one ClickHouse insert, so this sets the insert size (and, times the
     * assigned partitions, the memory held while ClickHouse is down).
     */
    maxBytesPerPartition: z.coerce.number().int().min(16 * 1024).default(4 * 1024 * 1024),
    retryMaxMs: z.coerce.number().int().min(100).default(10_000),
    /** How soon a crashed sink's partitions move to another member (the broker's minimum is 6 s). */
    sessionTimeoutMs: z.coerce.number().int().min(6000).default(30_000),
    // Two partitions at once: one partition's Avro decoding overlaps another's insert round trip.
    // Safe: each partition's batches stay in order and carry their own offset-range dedup token.
    partitionsConcurrently: z.coerce.number().int().min(1).max(16).default(2),
  }),
  // URL, user, password, CA and client certificate: the one connection definition every component shares.
  clickhouse: z
    .object({
      ...clickHouseConnectionShape,
      database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain identifier').default('kaudit'),
      requestTimeoutMs: z.coerce.number().int().min(100).default(30_000),
    })
    .superRefine(checkClickHouseConnection),
  http: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(9102),
  }),
  shutdownTimeoutMs: z.coerce.number().int().min(100).default(20_000),
  logLevel: z.string().default('info'),
});

export type SinkConfig = z.output<typeof sinkConfigSchema>;

export const SINK_ENV: EnvMap = {
  ...kafkaConnectionEnv(),
  'kafka.groupId': 'SINK_GROUP_ID',
  'kafka.enrichedTopic': 'SINK_ENRICHED_TOPIC',
  'kafka.alertsTopic': 'SINK_ALERTS_TOPIC',
  'kafka.dlqTopic': 'SINK_DLQ_TOPIC',
  'kafka.maxBytesPerPartition': 'SINK_MAX_BYTES_PER_PARTITION',
  'kafka.retryMaxMs': 'SINK_RETRY_MAX_MS',
  'kafka.sessionTimeoutMs': 'SINK_SESSION_TIMEOUT_MS',
  'kafka.partitionsConcurrently': 'SINK_PARTITIONS_CONCURRENTLY',
  ...clickHouseConnectionEnv('clickhouse'),
  'clickhouse.database': 'CLICKHOUSE_DATABASE',
  'clickhouse.requestTimeoutMs': 'CLICKHOUSE_REQUEST_TIMEOUT_MS',
  'http.host': 'HTTP_HOST',
  'http.port': 'HTTP_PORT',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  logLevel: 'LOG_LEVEL',
};

export function loadSinkConfig(env: Readonly<Record<string, string | undefined>>): Readonly<SinkConfig> {
  return loadConfig(sinkConfigSchema, { env, envMap: SINK_ENV, name: 'sink config' });
}
