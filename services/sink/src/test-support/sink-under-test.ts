import { Registry } from 'prom-client';
import type { ClickHouse } from '@kaudit/clickhouse';
import type { KafkaClient } from '@kaudit/kafka';
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
  deps: { logger: Logger; kafka: KafkaClient; clickhouse: ClickHouse; registry?: Registry; onRows?: SinkDeps['onRows'] },
): Promise<BuiltSink & { lifecycle: Lifecycle; registry: Registry }> {
  const registry = deps.registry ?? new Registry();
  const built = buildSink(config, { ...deps, registry });
  const lifecycle = new Lifecycle({ logger: deps.logger, shutdownTimeoutMs: config.shutdownTimeoutMs }).add(...built.components);
  await lifecycle.start();
  return { ...built, lifecycle, registry };
}
