import { Registry } from 'prom-client';
import { createClickHouse, type ClickHouse } from '@kaudit/clickhouse';
import { createKafkaClient, type KafkaClient, type Producer } from '@kaudit/kafka';
import type { Logger } from '@kaudit/logging';
import { Lifecycle } from '@kaudit/runtime';
import { testEndpoints, uniqueName } from '@kaudit/testkit';
import { buildSink, type BuiltSink, type SinkDeps } from '../build-sink.js';
import { loadSinkConfig, type SinkConfig } from '../config.js';

export interface SinkTestTopics {
  enriched: string;
  alerts: string;
  dlq: string;
}

/** The sink's own config loader on the test engines and the test's topics and database; `env` overrides. */
export function sinkTestConfig(o: { database: string; topics: SinkTestTopics; group?: string; env?: Record<string, string> }): Readonly<SinkConfig> {
  const ep = testEndpoints();
  return loadSinkConfig({
    KAFKA_BROKERS: ep.kafkaBrokers,
    CLICKHOUSE_URL: ep.clickhouseUrl,
    CLICKHOUSE_DATABASE: o.database,
    SINK_GROUP_ID: o.group ?? uniqueName('sink'),
    SINK_ENRICHED_TOPIC: o.topics.enriched,
    SINK_ALERTS_TOPIC: o.topics.alerts,
    SINK_DLQ_TOPIC: o.topics.dlq,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    ...o.env,
  });
}

/** The sink exactly as main.ts builds it (buildSink), started in a Lifecycle; stop it with `lifecycle.stop()`. */
export async function startSinkUnderTest(
  config: Readonly<SinkConfig>,
  deps: { logger: Logger; kafka: KafkaClient; clickhouse: ClickHouse; registry?: Registry; onRows?: SinkDeps['onRows']; onInsert?: SinkDeps['onInsert'] },
): Promise<BuiltSink & { lifecycle: Lifecycle; registry: Registry }> {
  const registry = deps.registry ?? new Registry();
  const built = buildSink(config, { ...deps, registry });
  const lifecycle = new Lifecycle({ logger: deps.logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...built.components);
  await lifecycle.start();
  return { ...built, lifecycle, registry };
}

/** The clients a sink test drives the shared test engines with: ClickHouse to read back, Kafka to produce. */
export interface SinkTestClients {
  ch: ClickHouse;
  kafka: KafkaClient;
  producer: Producer;
  /** The first row of a query's answer. */
  one<T>(query: string): Promise<T>;
  close(): Promise<void>;
}

export async function openSinkTestClients(clientId: string, logger: Logger): Promise<SinkTestClients> {
  const ep = testEndpoints();
  const ch = createClickHouse({ url: ep.clickhouseUrl });
  const kafka = createKafkaClient({ brokers: [ep.kafkaBrokers], clientId, logger });
  const producer = kafka.producer();
  await producer.start();
  return {
    ch,
    kafka,
    producer,
    one: async <T>(query: string): Promise<T> => {
      const [row] = await (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
      return row as T;
    },
    close: async () => {
      await producer.stop();
      await ch.close();
    },
  };
}
