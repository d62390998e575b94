import { availableParallelism, hostname } from 'node:os';
import { z } from 'zod';
import { booleanish, eventWindowEnv, eventWindowSchema, kafkaConnectionEnv, kafkaConnectionFields, loadConfig, type EnvMap } from '@kaudit/config';
import { TOPICS } from '@kaudit/kafka';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * INGEST_PARSE_THREADS' default for a machine of `cores` cores: none on two cores or fewer, else one per spare core,
 * at most two. On two cores a worker has no core of its own to win back (Kafka, the apiserver's clients and the
 * event loop share them), and handing it a body costs CPU per event: a shared copy of the body, structured clones
 * both ways, a second isolate's GC and a wake-up per body. Ingest bench on a 2-core machine, one parse thread / on
 * the event loop: 36.4 / 30.7 µs per event (quiet, bench/results/2026-12-02T07-39-45.json), 46.0 / 33.2 (loaded), throughput within the noise of
 * each other, request p99 525 / 125 and 552 / 320 ms (issue 16).
 */
export function defaultParseThreads(cores: number): number {
  return cores <= 2 ? 0 : Math.min(2, cores - 1);
}

export const ingestConfigSchema = z.object({
  kafka: z.object({
    ...kafkaConnectionFields(),
    clientId: z.string().default('kaudit-ingest'),
    /** Topic overrides exist for tests and benchmarks (unique topics on a shared broker); production keeps the defaults. */
    rawTopic: z.string().min(1).default(TOPICS.raw),
    dlqTopic: z.string().min(1).default(TOPICS.dlq),
    /**
     * Upper bound of one producer send: requests arriving while a send is in flight go out together
     * in the next one, and a large body is split (see BatchingPublisher). Must stay under the broker's
     * message.max.bytes (1 MiB by default): one user's records all go to one partition.
     */
    publishMaxBatchBytes: z.coerce.number().int().min(16 * KIB).default(900 * KIB),
    /** Off: every request's records go out in sends of their own (only for the benchmark's before/after). */
    publishCoalesce: booleanish().default(true),
    /** A batch Kafka has not acknowledged by then is answered 503 (the apiserver retries it). */
    produceTimeoutMs: z.coerce.number().int().min(100).default(8000),
  }),
  http: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    tls: z
      .object({
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        /** CA that signs client certificates; when set, client certificates are requested and mapped to clusters. */
        clientCaFile: z.string().optional(),
      })
      .default({}),
  }),
  /**
   * The health/metrics server (/healthz, /readyz, /metrics): metrics name every cluster, so they are
   * not served on the webhook port that every apiserver (and whoever else reaches it) can call.
   */
  metrics: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(9100),
  }),
  clustersFile: z.string().min(1, 'path of clusters.yaml (which cluster accepts which token)'),
  limits: z
    .object({
      /** The apiserver's default batch is 400 events; 400 × a few KiB fits well under this. */
      maxBodyBytes: z.coerce.number().int().min(1024).default(16 * MIB),
      /** Larger events are kept without requestObject/responseObject (Falco drops them at 256 KiB). */
      maxEventBytes: z.coerce.number().int().min(1024).default(256 * KIB),
      maxJsonDepth: z.coerce.number().int().min(8).default(128),
      /**
       * Bodies being read or published at once; beyond it new requests get 429 instead of growing memory. A body
       * is in memory ~2–3× while in flight (its bytes, the parse worker's copy and parsed events, the encoded
       * sends), so 48 MiB keeps ingest under its 300 MiB (issue 16) even when Kafka is slow; at 10,000 events/s
       * of 400-event batches a few MiB are in flight, and three whole bodies of the 16 MiB limit fit.
       */
      maxInflightBytes: z.coerce.number().int().min(1024).default(48 * MIB),
      /**
       * The share of maxInflightBytes one cluster may hold (default a quarter, at least one body): slow
       * uploads of one cluster get 429 once it is used up, and every other cluster still has the rest.
       */
      maxInflightBytesPerCluster: z.coerce.number().int().min(1024).optional(),
      /** A request body must be complete this long after its headers (a trickled body is answered 408). */
      bodyTimeoutMs: z.coerce.number().int().min(100).default(30_000),
      /** And no gap between two of its chunks may be longer than this (408). */
      idleTimeoutMs: z.coerce.number().int().min(100).default(10_000),
    })
    .refine((l) => l.maxInflightBytesPerCluster === undefined || l.maxInflightBytesPerCluster >= l.maxBodyBytes, {
      path: ['maxInflightBytesPerCluster'],
      message: 'must be at least INGEST_MAX_BODY_BYTES: a cluster must be able to send one whole body',
    }),
  /** Which event times are accepted: those ClickHouse keeps (shared with setup, enrich and import). */
  eventWindow: eventWindowSchema,
  /**
   * Worker threads that parse and validate bodies, off the event loop (0 = on it; the default on two cores or
   * fewer, see defaultParseThreads); beyond two, Kafka encoding on the loop is the limit.
   */
  parseThreads: z.coerce.number().int().min(0).max(64).default(defaultParseThreads(availableParallelism())),
  /**
   * At start, before the webhook listens and /readyz turns 200: sample bodies through the body check
   * (on every worker) and record building — nothing published, dead-lettered or counted — until this
   * many events or this long, so the first real batches are not handled cold (issue 15 §1); 0 = none.
   */
  warmUp: z.object({
    events: z.coerce.number().int().min(0).default(10_000),
    maxMs: z.coerce.number().int().min(0).default(5000),
  }),
  /** Dedup window of whole-body dead letters (apiserver retries send the same bytes up to 5 times). */
  dlqDedupEntries: z.coerce.number().int().min(1).default(10_000),
  instance: z.string().min(1).default(`${hostname()}/${process.pid}`),
  shutdownTimeoutMs: z.coerce.number().int().min(100).default(20_000),
  logLevel: z.string().default('info'),
});

export type IngestConfig = z.output<typeof ingestConfigSchema>;

export const INGEST_ENV: EnvMap = {
  ...kafkaConnectionEnv(),
  'kafka.produceTimeoutMs': 'INGEST_PRODUCE_TIMEOUT_MS',
  'kafka.rawTopic': 'INGEST_RAW_TOPIC',
  'kafka.dlqTopic': 'INGEST_DLQ_TOPIC',
  'kafka.publishMaxBatchBytes': 'INGEST_PUBLISH_MAX_BATCH_BYTES',
  'kafka.publishCoalesce': 'INGEST_PUBLISH_COALESCE',
  'http.host': 'HTTP_HOST',
  'http.port': 'HTTP_PORT',
  'http.tls.certFile': 'INGEST_TLS_CERT_FILE',
  'http.tls.keyFile': 'INGEST_TLS_KEY_FILE',
  'http.tls.clientCaFile': 'INGEST_TLS_CLIENT_CA_FILE',
  'metrics.host': 'INGEST_METRICS_HOST',
  'metrics.port': 'INGEST_METRICS_PORT',
  clustersFile: 'CLUSTERS_FILE',
  parseThreads: 'INGEST_PARSE_THREADS',
  'warmUp.events': 'INGEST_WARM_UP_EVENTS',
  'warmUp.maxMs': 'INGEST_WARM_UP_MAX_MS',
  'limits.maxBodyBytes': 'INGEST_MAX_BODY_BYTES',
  'limits.maxEventBytes': 'INGEST_MAX_EVENT_BYTES',
  'limits.maxJsonDepth': 'INGEST_MAX_JSON_DEPTH',
  'limits.maxInflightBytes': 'INGEST_MAX_INFLIGHT_BYTES',
  'limits.maxInflightBytesPerCluster': 'INGEST_MAX_INFLIGHT_BYTES_PER_CLUSTER',
  'limits.bodyTimeoutMs': 'INGEST_BODY_TIMEOUT_MS',
  'limits.idleTimeoutMs': 'INGEST_IDLE_TIMEOUT_MS',
  ...eventWindowEnv('eventWindow'),
  instance: 'INGEST_INSTANCE',
  logLevel: 'LOG_LEVEL',
};

export function loadIngestConfig(env: Readonly<Record<string, string | undefined>>): Readonly<IngestConfig> {
  return loadConfig(ingestConfigSchema, { env, envMap: INGEST_ENV, name: 'ingest config' });
}
