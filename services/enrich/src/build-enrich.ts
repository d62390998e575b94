import type { Registry } from 'prom-client';
import { AuditRecordCodec } from '@kaudit/audit-schema';
import { createKafkaClient, DeadLetterWriter, superviseConsumers, type BatchConsumer, type KafkaClient, type Producer } from '@kaudit/kafka';
import { createTelemetry, type Logger } from '@kaudit/logging';
import { HealthServer, ServiceFailure, WarmUp, type Component } from '@kaudit/runtime';
import type { EnrichConfig } from './config.js';
import { createEnrichHandler } from './enrich-handler.js';
import { EnrichMetrics } from './enrich-metrics.js';
import { enrichWarmUp } from './enrich-warm-up.js';
import { Enricher } from './enricher.js';
import { DirectoryIndex } from './identity/directory.js';
import { DirectoryFile } from './identity/directory-file.js';
import { HttpDirectory } from './identity/http-directory.js';
import { IdentityResolver } from './identity/identity-resolver.js';
import { EnrichThreads } from './threads/enrich-threads.js';

export interface EnrichDeps {
  logger: Logger;
  /** /metrics of the health server; enrich's metrics and events are registered here. */
  registry: Registry;
  /** Defaults to a client from config.kafka (tests and the bench pass one on their broker). */
  kafka?: KafkaClient;
}

export interface BuiltEnrich {
  /** In start order: directories, warm-up, producer, consumer, health; a Lifecycle stops them in reverse. */
  components: Component[];
  health: HealthServer;
  consumer: BatchConsumer;
  directoryFile: DirectoryFile | undefined;
  httpDirectory: HttpDirectory | undefined;
}

function producerComponent(producer: Producer): Component {
  return { name: 'producer', start: () => producer.start(), stop: () => producer.stop() };
}

/**
 * The enrich service as it ships (CONVENTIONS §9): main.ts, the integration tests and the bench all call
 * this. Start order: directories, warm-up, enrich threads, producer, consumer, health; stop runs in reverse, so the consumer
 * finishes and commits its batch before the producer closes.
 */
export function buildEnrich(config: Readonly<EnrichConfig>, deps: EnrichDeps): BuiltEnrich {
  const { logger, registry } = deps;
  const telemetry = createTelemetry(logger, registry, 'enrich');
  // A consumer that stops for good fails the service (probes, non-zero exit) instead of leaving it up and idle.
  const failure = new ServiceFailure();
  const kafka = superviseConsumers(deps.kafka ?? createKafkaClient({ brokers: config.kafka.brokers, ssl: config.kafka.ssl, sasl: config.kafka.sasl, clientId: config.kafka.clientId, logger }), { telemetry: telemetry.child('kafka'), failure });
  const metrics = new EnrichMetrics(registry);
  const components: Component[] = [];

  const directoryFile = config.directory.file === undefined ? undefined : new DirectoryFile({ path: config.directory.file, telemetry: telemetry.child('directory-file') });
  const empty = DirectoryIndex.empty();
  const hd = config.httpDirectory;
  const httpDirectory =
    hd.urlTemplate === undefined
      ? undefined
      : new HttpDirectory({
          urlTemplate: hd.urlTemplate,
          timeoutMs: hd.timeoutMs,
          ttlMs: hd.ttlMs,
          negativeTtlMs: hd.negativeTtlMs,
          maxEntries: hd.maxEntries,
          errorThresholdPercentage: 50,
          volumeThreshold: 5,
          resetTimeoutMs: hd.resetTimeoutMs,
          headers: hd.token === undefined ? {} : { authorization: `Bearer ${hd.token.reveal()}` },
          telemetry: telemetry.child('http-directory'),
        });
  const identity = new IdentityResolver({
    directory: () => directoryFile?.index ?? empty,
    remote: httpDirectory,
    onResolved: (resolvedBy, remote) => metrics.identityResolved(resolvedBy, remote),
  });
  // One codec and options for the enricher and its warm-up: avsc compiles an encoder per codec, and the warm-up must warm that one.
  const codec = new AuditRecordCodec();
  const options = { maxObjectBytes: config.enrich.maxObjectBytes, clusterProviders: config.enrich.clusterProviders };
  const enricher = new Enricher({ identity, codec, options, window: config.eventWindow });
  const threads =
    config.enrich.threads > 0
      ? new EnrichThreads({
          threads: config.enrich.threads,
          setup: { options, window: config.eventWindow, remote: httpDirectory !== undefined },
          directory: () => directoryFile?.index ?? empty,
          fingerprint: codec.fingerprint,
          warmUp: { events: config.warmUp.events, maxMs: config.warmUp.maxMs },
        })
      : undefined;
  const warm = enrichWarmUp({
    codec,
    options,
    window: config.eventWindow,
    directory: () => directoryFile?.index ?? empty,
    outputTopic: config.kafka.outputTopic,
    dlqTopic: config.kafka.dlqTopic,
    logger: logger.child({ component: 'warm-up' }),
    kafkaCodecs: (records) => kafka.warmUpCodecs(records, { compression: config.kafka.compression, topic: config.kafka.outputTopic }),
  });
  const warmUp = new WarmUp({
    round: warm.round,
    summary: warm.summary,
    events: config.warmUp.events,
    maxMs: config.warmUp.maxMs,
    telemetry: telemetry.child('warm-up'),
  });

  const producer = kafka.producer({ compression: config.kafka.compression });
  const deadLetters = new DeadLetterWriter({ producer, service: 'enrich', topic: config.kafka.dlqTopic });
  const consumer = kafka.consumer({
    groupId: config.kafka.groupId,
    topics: config.kafka.inputTopics,
    fromBeginning: true,
    // Enrichment is CPU work between two round trips (fetch, produce+commit): handling a few
    // partitions at once lets one partition's CPU overlap another's waits. Memory: one batch each.
    partitionsConsumedConcurrently: config.kafka.partitionsConcurrently,
    // What one fetch may bring in (issue 16: memory), see the config.
    maxBytesPerPartition: config.kafka.fetchMaxBytesPerPartition,
    fetchMaxBytes: config.kafka.fetchMaxBytes,
    onHandlerError: (err, batch, attempt) =>
      telemetry.emit({ event: 'batch_retry', level: 'warn', fields: { err: (err as Error).message, partition: batch.partition, firstOffset: batch.firstOffset, attempt } }),
  });
  const handler = createEnrichHandler({ enricher, producer, deadLetters, outputTopic: config.kafka.outputTopic, metrics, telemetry, threads, gatherUpTo: config.kafka.partitionsConcurrently });
  let consuming = false;
  const health = new HealthServer({
    registry,
    host: config.http.host,
    port: config.http.port,
    readiness: [warmUp.readiness, { name: 'kafka-consumer', check: async () => consuming }],
    failure,
  });

  if (directoryFile) components.push(directoryFile);
  if (httpDirectory) components.push(httpDirectory);
  // After the directories (their lookups get warmed too), before anything consumes.
  components.push(warmUp);
  if (threads) components.push(threads);
  components.push(producerComponent(producer));
  components.push({
    name: 'consumer',
    start: async () => {
      await consumer.start(handler);
      consuming = true;
    },
    stop: async () => {
      consuming = false;
      await consumer.stop();
    },
  });
  components.push(health);
  logger.info({ event: 'enrich_configured', input: config.kafka.inputTopics, output: config.kafka.outputTopic, directoryFile: config.directory.file ?? null, httpDirectory: config.httpDirectory.urlTemplate ?? null }, 'enrich_configured');
  return { components, health, consumer, directoryFile, httpDirectory };
}
