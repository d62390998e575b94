import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { DeadLetterWriter, type KafkaClient, type Producer } from '@kaudit/kafka';
import { createTelemetry, type Logger } from '@kaudit/logging';
import type { AlertMetrics } from '../alert-metrics.js';
import { DestinationWorker } from '../delivery/destination-worker.js';
import { createNotifier, notifierConfigSchema } from '../notifiers/registry.js';
import type { CheckpointStore } from '../pipeline/checkpoint-store.js';

/** A delivery worker to a Slack receiver, as the delivery tests build it; the options a test varies are named. */
export function slackDestinationWorker(o: {
  kafka: KafkaClient;
  producer: Producer;
  store: CheckpointStore;
  logger: Logger;
  registry: Registry;
  metrics: AlertMetrics;
  topics: { alerts: string; dlq: string };
  groupPrefix: string;
  name: string;
  slackUrl: string;
  perSecond: number;
  burst: number;
  maxAgeMs: number;
  partitionsConcurrently?: number;
}): DestinationWorker {
  return new DestinationWorker({
    kafka: o.kafka,
    store: o.store,
    dlq: new DeadLetterWriter({ producer: o.producer, service: 'alert', topic: o.topics.dlq }),
    destination: {
      name: o.name,
      notifier: createNotifier(notifierConfigSchema.parse({ type: 'slack', name: o.name, webhookUrl: o.slackUrl }), { fetch: globalThis.fetch, nowMs: Date.now, timeoutMs: 5000 }),
      route: {},
      rateLimit: { perSecond: o.perSecond, burst: o.burst },
      retry: { maxAttempts: 3, initialBackoffMs: 100, maxBackoffMs: 500 },
    },
    telemetry: createTelemetry(o.logger, o.registry),
    metrics: o.metrics,
    alertsTopic: o.topics.alerts,
    groupPrefix: o.groupPrefix,
    maxAgeMs: o.maxAgeMs,
    recentIds: 1000,
    ...(o.partitionsConcurrently === undefined ? {} : { partitionsConcurrently: o.partitionsConcurrently }),
    nowMs: Date.now,
    sleep: (ms) => sleep(ms),
  });
}

/** How many deliveries ended with this outcome (kaudit_alert_deliveries_total, every destination). */
export async function deliveryOutcome(registry: Registry, outcome: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === 'kaudit_alert_deliveries_total');
  return m?.values.filter((v) => v.labels.outcome === outcome).reduce((n, v) => n + v.value, 0) ?? 0;
}
