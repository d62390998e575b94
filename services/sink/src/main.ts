import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { clickHouseConnectionOptions, createClickHouse, probeClickHouse } from '@kaudit/clickhouse';
import { readEnv } from '@kaudit/config';
import { createKafkaClient, DeadLetterWriter } from '@kaudit/kafka';
import { createLogger, createTelemetry } from '@kaudit/logging';
import { HealthServer, Lifecycle, runUntilSignal } from '@kaudit/runtime';
import { BatchSink } from './batch-sink.js';
import { loadSinkConfig } from './config.js';
import { SinkService } from './sink-service.js';
import { alertsTarget, auditEventsTarget, type SinkTarget } from './sink-target.js';

// Composition root of the sink: config → logger → clients → lifecycle.
const config = loadSinkConfig(readEnv());
const logger = createLogger({ service: 'sink', level: config.logLevel });
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const telemetry = createTelemetry(logger, registry, 'sink');
const rows = new Counter({ name: 'kaudit_sink_rows_total', help: 'Rows by table and outcome', labelNames: ['table', 'outcome'], registers: [registry] });
const inserts = new Counter({ name: 'kaudit_sink_inserts_total', help: 'INSERT statements that stored rows, by table', labelNames: ['table'], registers: [registry] });

const clickhouse = createClickHouse({
  ...clickHouseConnectionOptions(config.clickhouse),
  requestTimeoutMs: config.clickhouse.requestTimeoutMs,
  applicationName: 'kaudit-sink',
});
const kafka = createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger });
const producer = kafka.producer({ compression: config.kafka.compression });
const targets = new Map<string, SinkTarget>([
  [config.kafka.enrichedTopic, auditEventsTarget()],
  [config.kafka.alertsTopic, alertsTarget()],
]);
const sink = new BatchSink({
  clickhouse,
  database: config.clickhouse.database,
  targets,
  deadLetters: new DeadLetterWriter({ producer, service: 'sink', topic: config.kafka.dlqTopic }),
  telemetry: telemetry.child('batch-sink'),
  // A previous owner's insert ends within its request timeout (or ClickHouse gives up on it).
  previousOwnerWaitMs: 2 * config.clickhouse.requestTimeoutMs,
  onRows: (table, outcome, count) => rows.inc({ table, outcome }, count),
  onInsert: (table) => inserts.inc({ table }),
  batching: { maxRows: config.batch.maxRows, maxBytes: config.batch.maxBytes, maxHeld: config.kafka.partitionsConcurrently },
});
const service = new SinkService({
  createConsumer: (onHandlerError) =>
    kafka.consumer({
      groupId: config.kafka.groupId,
      topics: [...targets.keys()],
      fromBeginning: true,
      maxBytesPerPartition: config.kafka.maxBytesPerPartition,
      // One fetch response is one insert per table (BatchSink gathers its partitions): let it fill. Not more than
      // one partition's share, or a member with few partitions would wait out maxWaitMs on every fetch.
      fetchMinBytes: Math.min(config.batch.maxBytes, config.kafka.maxBytesPerPartition),
      fetchMaxBytes: config.batch.maxBytes,
      fetchMaxWaitMs: config.batch.maxWaitMs,
      retryMaxMs: config.kafka.retryMaxMs,
      sessionTimeoutMs: config.kafka.sessionTimeoutMs,
      partitionsConsumedConcurrently: config.kafka.partitionsConcurrently,
      onHandlerError,
    }),
  sink,
  telemetry: telemetry.child('consumer'),
});

const lifecycle = new Lifecycle({ logger, shutdownTimeoutMs: config.shutdownTimeoutMs });
lifecycle
  .add({
    name: 'clickhouse',
    // A refused TLS handshake stops the start with its reason; an outage at start is only reported (inserts retry).
    start: async () => {
      const problem = await probeClickHouse(clickhouse);
      if (problem && !problem.retryable) throw problem;
      if (problem) logger.warn({ event: 'clickhouse_unavailable_at_start', err: problem }, 'clickhouse_unavailable_at_start');
    },
    stop: () => clickhouse.close(),
  })
  .add({ name: 'dlq-producer', start: () => producer.start(), stop: () => producer.stop() })
  .add(
    new HealthServer({
      host: config.http.host,
      port: config.http.port,
      registry,
      readiness: [{ name: 'clickhouse', check: async () => (await clickhouse.ping()).success }],
    }),
  )
  .add(service);

await runUntilSignal(lifecycle, process, logger);
