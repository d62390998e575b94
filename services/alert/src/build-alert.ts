import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { AuditRecordCodec } from '@kaudit/audit-schema';
import { createKafkaClient, DeadLetterWriter, superviseConsumers, TOPICS, type KafkaClient, type Producer } from '@kaudit/kafka';
import { createTelemetry, type Logger } from '@kaudit/logging';
import { HealthServer, ServiceFailure, WarmUp, type Component } from '@kaudit/runtime';
import { loadNotifiers, type AlertConfig } from './config.js';
import { AlertMetrics } from './alert-metrics.js';
import { DestinationWorker } from './delivery/destination-worker.js';
import { createNotifier, type NotifierConfig } from './notifiers/registry.js';
import { AlertEvaluator } from './pipeline/alert-evaluator.js';
import { CheckpointStore } from './pipeline/checkpoint-store.js';
import { ruleWarmUp } from './pipeline/rule-warm-up.js';
import type { CompiledRule } from './rules/compiled-rule.js';
import { loadRulesDir } from './rules/load-rules.js';

export interface AlertDeps {
  logger: Logger;
  /** /metrics of the health server; the alert metrics and events are registered here. */
  registry: Registry;
  /** The environment the notifiers file's `${VAR}` references are read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Defaults to a client from config.kafka (tests pass one on their broker). */
  kafka?: KafkaClient;
  /**
   * Alerts, window checkpoints and dead letters. Defaults to one with the codec every producer uses
   * (KAFKA_COMPRESSION), started and stopped with the service; one passed in is the caller's to start and stop.
   */
  producer?: Producer;
  /** Override loading config.rules.dir (tests pass compiled rules). */
  rules?: readonly CompiledRule[];
  /** Override loading config.notifiersFile (tests pass parsed notifiers). */
  notifiers?: readonly NotifierConfig[];
  fetch?: typeof fetch;
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface BuiltAlert {
  /**
   * In start order: warm-up (the rules' hot path compiled before any real event), producer, checkpoint
   * store (loads state) → evaluator → one delivery worker per destination, health server last (/readyz
   * answers only once warmed up, state is restored and every consumer runs).
   */
  components: Component[];
  evaluator: AlertEvaluator;
  workers: DestinationWorker[];
  health: HealthServer;
}

/**
 * The alert service as it ships (CONVENTIONS §9): main.ts, the in-process tests and the bench all call this.
 * Throws CONFIG_INVALID naming the file and line when rules or notifiers do not load.
 */
export function buildAlert(config: Readonly<AlertConfig>, deps: AlertDeps): BuiltAlert {
  const { logger, registry } = deps;
  const rules = deps.rules ?? loadRulesDir(config.rules.dir);
  const notifiers = deps.notifiers ?? loadNotifiers(config.notifiersFile, deps.env);
  const nowMs = deps.nowMs ?? Date.now;
  const telemetry = createTelemetry(logger, registry, 'alert');
  const metrics = new AlertMetrics(registry);
  telemetry.emit({ event: 'rules_loaded', fields: { rules: rules.length, dir: config.rules.dir, notifiers: notifiers.map((n) => `${n.type}:${n.name}`) } });
  // A consumer that stops for good fails the service (probes, non-zero exit) instead of leaving it up and idle.
  const failure = new ServiceFailure();
  const kafka = superviseConsumers(deps.kafka ?? createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger }), { telemetry: telemetry.child('kafka'), failure });
  const ownsProducer = deps.producer === undefined;
  const producer = deps.producer ?? kafka.producer({ compression: config.kafka.compression });
  const store = new CheckpointStore({ kafka, producer, topic: config.kafka.stateTopic, groupPrefix: config.kafka.groupPrefix, logger });
  const dlq = new DeadLetterWriter({ producer, service: 'alert', topic: config.kafka.dlqTopic });
  // One codec for the evaluator and its warm-up: avsc compiles a decoder per codec, and the warm-up must warm that one.
  const codec = new AuditRecordCodec();
  const warm = ruleWarmUp(rules, codec, (records) => kafka.warmUpCodecs(records, { compression: config.kafka.compression, topic: config.kafka.enrichedTopics[0] ?? TOPICS.enriched }));
  const warmUp = new WarmUp({ round: warm.round, summary: () => ({ codecRecords: warm.codecRecords() }), events: config.engine.warmUpEvents, maxMs: config.engine.warmUpMaxMs, telemetry: telemetry.child('warm-up'), nowMs });
  const evaluator = new AlertEvaluator({
    kafka,
    producer,
    dlq,
    store,
    codec,
    rules,
    telemetry: telemetry.child('evaluator'),
    metrics,
    inputTopics: config.kafka.enrichedTopics,
    alertsTopic: config.kafka.alertsTopic,
    groupId: config.kafka.groupPrefix,
    fromBeginning: config.kafka.fromBeginning,
    partitionsConcurrently: config.kafka.partitionsConcurrently,
    idleGraceMs: config.engine.idleGraceMs,
    tickMs: config.engine.tickMs,
    maxGroupsPerRule: config.engine.maxGroupsPerRule,
    roleFactGraceMs: config.engine.roleFactGraceMs,
    nowMs,
  });
  const notifierDeps = { fetch: deps.fetch ?? globalThis.fetch, nowMs, timeoutMs: config.delivery.requestTimeoutMs };
  const workers = notifiers.map(
    (n) =>
      new DestinationWorker({
        kafka,
        store,
        dlq,
        destination: { name: n.name, notifier: createNotifier(n, notifierDeps), route: n.route, rateLimit: n.rateLimit, retry: n.retry },
        telemetry,
        metrics,
        alertsTopic: config.kafka.alertsTopic,
        groupPrefix: config.kafka.groupPrefix,
        maxAgeMs: config.delivery.maxAgeMs,
        recentIds: config.delivery.recentIds,
        partitionsConcurrently: config.kafka.partitionsConcurrently,
        nowMs,
        sleep: deps.sleep ?? ((ms) => sleep(ms)),
      }),
  );
  const health = new HealthServer({ host: config.http.host, port: config.http.port, registry, readiness: [warmUp.readiness], failure });
  const components: Component[] = [
    warmUp,
    ...(ownsProducer ? [{ name: 'producer', start: () => producer.start(), stop: () => producer.stop() }] : []),
    store,
    evaluator,
    ...workers,
    health,
  ];
  return { components, evaluator, workers, health };
}
