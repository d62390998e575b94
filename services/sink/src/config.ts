import { z } from 'zod';
import { checkClickHouseConnection, clickHouseConnectionEnv, clickHouseConnectionShape, csvList, kafkaConnectionEnv, kafkaConnectionFields, loadConfig, type EnvMap } from '@kaudit/config';
import { TOPICS } from '@kaudit/kafka';
import { SINK_BATCHING_DEFAULTS } from './sink-batching-defaults.js';

export const sinkConfigSchema = z.object({
  kafka: z.object({
    ...kafkaConnectionFields(),
    clientId: z.string().default('kaudit-sink'),
    groupId: z.string().min(1).default('kaudit-sink'),
    /** Topic overrides exist for tests (unique topics on a shared broker); production keeps the defaults. */
    // Both enriched layouts by default (upgrade: sink and alert first, then enrich); a comma-separated list.
    enrichedTopics: csvList().pipe(z.array(z.string().min(1)).min(1, 'at least one topic')).default([TOPICS.enriched, TOPICS.enrichedV1]),
    alertsTopic: z.string().min(1).default(TOPICS.alerts),
    dlqTopic: z.string().min(1).default(TOPICS.dlq),
    /**
     * Bytes (as stored: compressed, zstd ~10× for enriched records) fetched per partition per request. Also what
     * the broker waits for before answering a fetch (with fetchMaxBytes, whichever is smaller, or half batch.maxWaitMs):
     * 1 MiB is about a second of 10,000 events/s, one insert a second.
     */
    maxBytesPerPartition: z.coerce.number().int().min(16 * 1024).default(1024 * 1024),
    /**
     * Bytes (as stored) of one whole fetch response — what the sink holds while it inserts, and keeps while
     * ClickHouse is down: inflated (~10×) into records, rows and the insert body, 2 MiB is some 20,000 rows and
     * tens of MiB of heap, under the 160 MiB old space (issue 16). Catching up a backlog, it is one insert of
     * ~2 seconds of 10,000 events/s.
     */
    fetchMaxBytes: z.coerce.number().int().min(16 * 1024).default(2 * 1024 * 1024),
    retryMaxMs: z.coerce.number().int().min(100).default(10_000),
    /** How soon a crashed sink's partitions move to another member (the broker's minimum is 6 s). */
    sessionTimeoutMs: z.coerce.number().int().min(6000).default(30_000),
    // As many partitions at once as the enriched topic has by default: the fetches in hand are gathered into
    // one insert (batch below), so fewer would cut blocks at this many fetches. Safe: each partition's batches
    // stay in order, and a block's dedup token names each partition's offset range.
    partitionsConcurrently: z.coerce.number().int().min(1).max(16).default(SINK_BATCHING_DEFAULTS.maxHeld),
  }),
  /**
   * How big an insert gets (issue 16: ClickHouse wants about one insert a second, not one per fetch). The broker
   * holds each fetch until kafka.maxBytesPerPartition (at most kafka.fetchMaxBytes) of records are there or half
   * maxWaitMs passed (the other half is left for the handling a block's oldest row may also have waited for), and the partitions of one fetch are inserted together, cut at maxRows or maxBytes of record
   * values. Kafka keeps the backlog: nothing is held beyond the fetch in hand, which kafka.fetchMaxBytes bounds,
   * and nothing is committed before its insert.
   */
  batch: z.object({
    maxRows: z.coerce.number().int().min(1).default(SINK_BATCHING_DEFAULTS.maxRows),
    maxBytes: z.coerce.number().int().min(16 * 1024).default(SINK_BATCHING_DEFAULTS.maxBytes),
    /**
     * How long a block's oldest row may wait before it is stored, added to freshness at low rates (the goal is p99 < 5 s
     * from webhook to queryable): the broker holds a fetch for half of it (fetchWaitMs says why). 0: fetch as soon as
     * anything is there.
     */
    maxWaitMs: z.coerce.number().int().min(0).max(4000).default(1000),
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
  'kafka.enrichedTopics': 'SINK_ENRICHED_TOPIC',
  'kafka.alertsTopic': 'SINK_ALERTS_TOPIC',
  'kafka.dlqTopic': 'SINK_DLQ_TOPIC',
  'kafka.maxBytesPerPartition': 'SINK_MAX_BYTES_PER_PARTITION',
  'kafka.fetchMaxBytes': 'SINK_FETCH_MAX_BYTES',
  'kafka.retryMaxMs': 'SINK_RETRY_MAX_MS',
  'kafka.sessionTimeoutMs': 'SINK_SESSION_TIMEOUT_MS',
  'kafka.partitionsConcurrently': 'SINK_PARTITIONS_CONCURRENTLY',
  'batch.maxRows': 'SINK_BATCH_MAX_ROWS',
  'batch.maxBytes': 'SINK_BATCH_MAX_BYTES',
  'batch.maxWaitMs': 'SINK_BATCH_MAX_WAIT_MS',
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
