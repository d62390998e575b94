import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { KauditError } from '@kaudit/errors';
import { createKafkaClient, DEFAULT_TOPIC_SPECS, TOPICS, type KafkaClient, type TopicSpec } from '@kaudit/kafka';
import { createTelemetry, type Logger } from '@kaudit/logging';
import { growOldGeneration, HealthServer, WarmUp, type Component, type ReadinessCheck } from '@kaudit/runtime';
import { BodyChecker } from './body/body-checker.js';
import { ClusterDirectory } from './clusters/cluster-directory.js';
import type { IngestConfig } from './config.js';
import { WebhookServer } from './http/webhook-server.js';
import { IngestMetrics } from './ingest-metrics.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import { createIngestPipeline } from './create-ingest-pipeline.js';
import { ingestWarmUp } from './warm-up/ingest-warm-up.js';

export interface IngestDeps {
  logger: Logger;
  /** /metrics of the health server; ingest's metrics and events are registered here. */
  registry: Registry;
  /** The environment the clusters file's `env:` token references are read from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Defaults to a client from config.kafka (tests pass one on their broker). */
  kafka?: KafkaClient;
  /** Overrides reading config.clustersFile (tests pass text). */
  clustersText?: string;
}

export interface BuiltIngest {
  /** In start order; a Lifecycle stops them in reverse (server drains before the producer closes). */
  components: Component[];
  server: WebhookServer;
  /** /healthz, /readyz and /metrics on their own port (INGEST_METRICS_PORT). */
  health: HealthServer;
  pipeline: IngestPipeline;
}

async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => undefined);
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KauditError('KAFKA_UNAVAILABLE', `${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Topic specs ingest makes sure exist: the defaults, renamed when config overrides the raw/DLQ topics (tests). */
function ingestTopics(config: IngestConfig): TopicSpec[] {
  const raw = DEFAULT_TOPIC_SPECS.find((s) => s.topic === TOPICS.raw);
  const dlq = DEFAULT_TOPIC_SPECS.find((s) => s.topic === TOPICS.dlq);
  if (!raw || !dlq) throw new KauditError('INTERNAL', 'default topic specs lack raw or dlq');
  return [...DEFAULT_TOPIC_SPECS.filter((s) => s !== raw && s !== dlq), { ...raw, topic: config.kafka.rawTopic }, { ...dlq, topic: config.kafka.dlqTopic }];
}

/**
 * The ingest service as it ships (CONVENTIONS §9): main.ts, the in-process integration tests and the
 * bench all call this, so what they test and measure is what runs in production.
 */
export function buildIngest(config: Readonly<IngestConfig>, deps: IngestDeps): BuiltIngest {
  // Process-wide, before the traffic's first full collection sets the heap's limits (see growOldGeneration).
  growOldGeneration();
  const { logger, registry } = deps;
  const telemetry = createTelemetry(logger, registry, 'ingest');
  const kafka = deps.kafka ?? createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger });
  const clustersText = deps.clustersText ?? readClustersFile(config.clustersFile);
  const clusters = ClusterDirectory.parse(clustersText, config.clustersFile, deps.env);
  const producer = kafka.producer({ sendTimeoutMs: config.kafka.produceTimeoutMs, compression: config.kafka.compression });
  const admin = kafka.admin();
  const metrics = new IngestMetrics(registry);
  const pipeline = createIngestPipeline({
    producer,
    instance: config.instance,
    maxEventBytes: config.limits.maxEventBytes,
    window: config.eventWindow,
    rawTopic: config.kafka.rawTopic,
    dlqTopic: config.kafka.dlqTopic,
    dlqDedupEntries: config.dlqDedupEntries,
    publishMaxBatchBytes: config.kafka.publishMaxBatchBytes,
    publishCoalesce: config.kafka.publishCoalesce,
    metrics,
  });
  const bodyChecker = new BodyChecker({ threads: config.parseThreads, maxDepth: config.limits.maxJsonDepth, maxEventBytes: config.limits.maxEventBytes, window: config.eventWindow });
  const tls = config.http.tls;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new KauditError('CONFIG_INVALID', 'TLS needs both INGEST_TLS_CERT_FILE and INGEST_TLS_KEY_FILE');
  }
  // Given the checker and the limits only, not the pipeline: the warm-up cannot publish, dead-letter or count.
  const warm = ingestWarmUp({
    bodyChecker,
    reading: { maxBytes: config.limits.maxBodyBytes, bodyTimeoutMs: config.limits.bodyTimeoutMs, idleTimeoutMs: config.limits.idleTimeoutMs },
    instance: config.instance,
    maxEventBytes: config.limits.maxEventBytes,
    warmUpCodecs: (records) => kafka.warmUpCodecs(records, { compression: config.kafka.compression, topic: config.kafka.rawTopic }),
  });
  const warmUp = new WarmUp({ round: warm.round, summary: warm.summary, events: config.warmUp.events, maxMs: config.warmUp.maxMs, telemetry: telemetry.child('warm-up') });
  const readiness: ReadinessCheck[] = [
    warmUp.readiness,
    {
      name: 'kafka',
      // Ready only when a broker answers now; kafkajs would otherwise retry for a long time.
      check: () => within(admin.describeCluster(), 2000, 'describe cluster').then((c) => c.brokers.length > 0),
    },
  ];
  const server = new WebhookServer({
    host: config.http.host,
    port: config.http.port,
    ...(tls.certFile !== undefined && tls.keyFile !== undefined
      ? {
          tls: {
            cert: readFileSync(tls.certFile),
            key: readFileSync(tls.keyFile),
            ...(tls.clientCaFile !== undefined ? { clientCa: readFileSync(tls.clientCaFile) } : {}),
          },
        }
      : {}),
    limits: config.limits,
    produceTimeoutMs: config.kafka.produceTimeoutMs,
    clusters,
    pipeline,
    bodyChecker,
    metrics,
    telemetry: telemetry.child('webhook'),
    readiness,
  });
  const health = new HealthServer({ host: config.metrics.host, port: config.metrics.port, registry, readiness });
  const components: Component[] = [
    {
      name: 'kafka-admin',
      start: async () => {
        await admin.start();
        await admin.ensureTopics(ingestTopics(config));
      },
      stop: () => admin.stop(),
    },
    { name: 'kafka-producer', start: () => producer.start(), stop: () => producer.stop() },
    bodyChecker,
    health,
    // After the checker's workers started (it warms each of them), before the webhook listens.
    warmUp,
    server,
  ];
  return { components, server, health, pipeline };
}

function readClustersFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new KauditError('CONFIG_INVALID', `cannot read clusters file ${path} (CLUSTERS_FILE)`, { cause });
  }
}
