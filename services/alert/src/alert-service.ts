import { AuditRecordCodec } from '@kaudit/audit-schema';
import { DeadLetterWriter, type KafkaClient, type Producer } from '@kaudit/kafka';
import type { Logger, Telemetry } from '@kaudit/logging';
import type { Component } from '@kaudit/runtime';
import type { AlertConfig } from './config.js';
import type { AlertMetrics } from './alert-metrics.js';
import { DestinationWorker } from './delivery/destination-worker.js';
import { createNotifier, type NotifierConfig } from './notifiers/registry.js';
import { AlertEvaluator } from './pipeline/alert-evaluator.js';
import { CheckpointStore } from './pipeline/checkpoint-store.js';
import type { CompiledRule } from './rules/compiled-rule.js';

export interface AlertServiceDeps {
  config: Readonly<AlertConfig>;
  rules: readonly CompiledRule[];
  notifiers: readonly NotifierConfig[];
  kafka: KafkaClient;
  producer: Producer;
  logger: Logger;
  telemetry: Telemetry;
  metrics: AlertMetrics;
  fetch: typeof fetch;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
}

/**
 * The alert service's parts in start order (the producer is started by the caller before them):
 * checkpoint store (loads state) → evaluator → one delivery worker per destination. main.ts and
 * in-process tests build the same thing.
 */
export function buildAlertComponents(deps: AlertServiceDeps): { components: Component[]; evaluator: AlertEvaluator; workers: DestinationWorker[] } {
  const { config, kafka, producer } = deps;
  const store = new CheckpointStore({ kafka, producer, topic: config.kafka.stateTopic, groupPrefix: config.kafka.groupPrefix, logger: deps.logger });
  const dlq = new DeadLetterWriter({ producer, service: 'alert', topic: config.kafka.dlqTopic });
  const evaluator = new AlertEvaluator({
    kafka,
    producer,
    dlq,
    store,
    codec: new AuditRecordCodec(),
    rules: deps.rules,
    telemetry: deps.telemetry.child('evaluator'),
    metrics: deps.metrics,
    inputTopic: config.kafka.enrichedTopic,
    alertsTopic: config.kafka.alertsTopic,
    groupId: config.kafka.groupPrefix,
    fromBeginning: config.kafka.fromBeginning,
    idleGraceMs: config.engine.idleGraceMs,
    tickMs: config.engine.tickMs,
    maxGroupsPerRule: config.engine.maxGroupsPerRule,
    nowMs: deps.nowMs,
  });
  const notifierDeps = { fetch: deps.fetch, nowMs: deps.nowMs, timeoutMs: config.delivery.requestTimeoutMs };
  const workers = deps.notifiers.map(
    (n) =>
      new DestinationWorker({
        kafka,
        store,
        dlq,
        destination: { name: n.name, notifier: createNotifier(n, notifierDeps), route: n.route, rateLimit: n.rateLimit, retry: n.retry },
        telemetry: deps.telemetry,
        metrics: deps.metrics,
        alertsTopic: config.kafka.alertsTopic,
        groupPrefix: config.kafka.groupPrefix,
        maxAgeMs: config.delivery.maxAgeMs,
        recentIds: config.delivery.recentIds,
        nowMs: deps.nowMs,
        sleep: deps.sleep,
      }),
  );
  return { components: [store, evaluator, ...workers], evaluator, workers };
}
