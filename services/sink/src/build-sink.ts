import { Counter, type Registry } from 'prom-client';
import { clickHouseConnectionOptions, createClickHouse, probeClickHouse, type ClickHouse } from '@kaudit/clickhouse';
import { createKafkaClient, DeadLetterWriter, superviseConsumers, type KafkaClient } from '@kaudit/kafka';
import { createTelemetry, type Logger } from '@kaudit/logging';
import { growOldGeneration, HealthServer, ServiceFailure, type Component } from '@kaudit/runtime';
import { BatchSink, type BatchSinkDeps } from './batch-sink.js';
import type { SinkConfig } from './config.js';
import { fetchWaitMs } from './fetch-wait.js';
import { SinkService } from './sink-service.js';
import { alertsTarget, auditEventsTarget, type SinkTarget } from './sink-target.js';

export interface SinkDeps {
  logger: Logger;
  /** /metrics of the health server; the rows counter and the sink's events are registered here. */
  registry: Registry;
  /** Defaults to a client from config.kafka (tests and the bench pass one on their broker). */
  kafka?: KafkaClient;
  /** Defaults to a client from config.clickhouse. One passed in is the caller's: the sink does not close it. */
  clickhouse?: ClickHouse;
  /** Sees every row count after the metric has counted it (the bench times inserts with it). */
  onRows?: BatchSinkDeps['onRows'];
  /** Sees every INSERT that stored rows, after the metric has counted it (the bench counts inserts with it). */
  onInsert?: BatchSinkDeps['onInsert'];
}

export interface BuiltSink {
  /** In start order: ClickHouse probe, DLQ producer, health server, consumer; a Lifecycle stops them in reverse. */
  components: Component[];
  service: SinkService;
  sink: BatchSink;
  health: HealthServer;
  clickhouse: ClickHouse;
}

/**
 * The sink as it ships (CONVENTIONS §9): main.ts, the integration tests and bench/sink.ts all call this,
 * so what they test and measure is what runs in production.
 */
export function buildSink(config: Readonly<SinkConfig>, deps: SinkDeps): BuiltSink {
  // Process-wide, before the traffic's first full collection sets the heap's limits (see growOldGeneration).
  growOldGeneration();
  const { logger, registry } = deps;
  const telemetry = createTelemetry(logger, registry, 'sink');
  const rows = new Counter({ name: 'kaudit_sink_rows_total', help: 'Rows by table and outcome', labelNames: ['table', 'outcome'], registers: [registry] });
  const inserts = new Counter({ name: 'kaudit_sink_inserts_total', help: 'INSERT statements that stored rows, by table', labelNames: ['table'], registers: [registry] });
  const ownsClickHouse = deps.clickhouse === undefined;
  const clickhouse =
    deps.clickhouse ??
    createClickHouse({
      ...clickHouseConnectionOptions(config.clickhouse),
      requestTimeoutMs: config.clickhouse.requestTimeoutMs,
      applicationName: 'kaudit-sink',
    });
  // A consumer that stops for good fails the service (probes, non-zero exit) instead of leaving it up and idle.
  const failure = new ServiceFailure();
  const kafka = superviseConsumers(deps.kafka ?? createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger }), { telemetry: telemetry.child('kafka'), failure });
  const producer = kafka.producer({ compression: config.kafka.compression });
  // One target (one Avro codec) for every enriched topic: it tells v1 and v2 values apart by their magic.
  const auditEvents = auditEventsTarget();
  const targets = new Map<string, SinkTarget>([
    ...config.kafka.enrichedTopics.map((topic): [string, SinkTarget] => [topic, auditEvents]),
    [config.kafka.alertsTopic, alertsTarget()],
  ]);
  const onRows = deps.onRows;
  const sink = new BatchSink({
    clickhouse,
    database: config.clickhouse.database,
    targets,
    deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: config.kafka.dlqTopic }),
    telemetry: telemetry.child('batch-sink'),
    // A previous owner's insert ends within its request timeout (or ClickHouse gives up on it).
    previousOwnerWaitMs: 2 * config.clickhouse.requestTimeoutMs,
    onRows: (table, outcome, count) => {
      rows.inc({ table, outcome }, count);
      onRows?.(table, outcome, count);
    },
    onInsert: (table, count, oldestTimestampMs) => {
      inserts.inc({ table });
      deps.onInsert?.(table, count, oldestTimestampMs);
    },
    batching: { maxRows: config.batch.maxRows, maxBytes: config.batch.maxBytes, maxHeld: config.kafka.partitionsConcurrently },
  });
  const service = new SinkService({
    createConsumer: (hooks) =>
      kafka.consumer({
        groupId: config.kafka.groupId,
        topics: [...targets.keys()],
        fromBeginning: true,
        maxBytesPerPartition: config.kafka.maxBytesPerPartition,
        // One fetch response is one insert per table (BatchSink gathers its partitions): let it fill. Not more than
        // one partition's share, or a member with few partitions would wait out maxWaitMs on every fetch.
        fetchMinBytes: Math.min(config.kafka.fetchMaxBytes, config.kafka.maxBytesPerPartition),
        // What the sink holds at once (issue 16: memory), kept while ClickHouse is down.
        fetchMaxBytes: config.kafka.fetchMaxBytes,
        // Not the whole max wait: it bounds a block's oldest row, which may have waited for the previous block.
        fetchMaxWaitMs: fetchWaitMs(config.batch.maxWaitMs),
        retryMaxMs: config.kafka.retryMaxMs,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
        partitionsConsumedConcurrently: config.kafka.partitionsConcurrently,
        ...hooks,
      }),
    sink,
    telemetry: telemetry.child('consumer'),
  });
  const health = new HealthServer({
    host: config.http.host,
    port: config.http.port,
    registry,
    readiness: [{ name: 'clickhouse', check: async () => (await clickhouse.ping()).success }],
    failure,
  });
  const components: Component[] = [
    {
      name: 'clickhouse',
      // A refused TLS handshake stops the start with its reason; an outage at start is only reported (inserts retry).
      start: async () => {
        const problem = await probeClickHouse(clickhouse);
        if (problem && !problem.retryable) throw problem;
        if (problem) logger.warn({ event: 'clickhouse_unavailable_at_start', err: problem }, 'clickhouse_unavailable_at_start');
      },
      stop: async () => {
        if (ownsClickHouse) await clickhouse.close();
      },
    },
    { name: 'dlq-producer', start: () => producer.start(), stop: () => producer.stop() },
    health,
    service,
  ];
  return { components, service, sink, health, clickhouse };
}
