import { z } from 'zod';
import { PROVIDERS, type Provider } from '@kaudit/audit-schema';
import { csvList, eventWindowEnv, eventWindowSchema, kafkaConnectionEnv, kafkaConnectionFields, loadConfig, secret, type EnvMap } from '@kaudit/config';
import { TOPICS } from '@kaudit/kafka';

/** `prod-eks=eks, gke-1=gke` → `{ 'prod-eks': 'eks', 'gke-1': 'gke' }`. */
const clusterProviders = z.preprocess(
  (v) => (typeof v === 'string' ? Object.fromEntries(v.split(',').map((p) => p.trim()).filter((p) => p !== '').map((p) => p.split('=').map((s) => s.trim()))) : v),
  z.record(z.string().min(1), z.enum(PROVIDERS)),
) as z.ZodType<Record<string, Provider>, unknown>;

export const enrichConfigSchema = z.object({
  kafka: z.object({
    ...kafkaConnectionFields(),
    clientId: z.string().default('kaudit-enrich'),
    groupId: z.string().min(1).default('kaudit-enrich'),
    /**
     * Configurable so tests and benchmarks run on their own topics. Both raw layouts by default: enrich tells them
     * apart by the value (RAW_HEADERS), so an upgrade — enrich first, then ingest — reads what an older ingest wrote.
     */
    inputTopics: csvList().pipe(z.array(z.string().min(1)).min(1, 'at least one topic')).default([TOPICS.raw, TOPICS.rawV1]),
    outputTopic: z.string().min(1).default(TOPICS.enriched),
    dlqTopic: z.string().min(1).default(TOPICS.dlq),
    partitionsConcurrently: z.coerce.number().int().min(1).max(64).default(3),
    /**
     * Memory (issue 16): a fetch response stays in hand until every partition in it is handled, and a handled
     * batch is inflated (zstd: ~10–14× for generated audit JSON, less for real traffic), parsed, and held as
     * records and their Avro copies until its send is acknowledged. Bytes here are as stored (compressed):
     * 256 KiB of a partition is up to ~3,000 events, a 1 MiB fetch some 14 MiB of JSON — tens of MiB of heap
     * with the three partitions handled at once, under the 160 MiB old space, and a fetch is still a few
     * tenths of a second of 10,000 events/s. kafkajs' defaults (1 MiB × 6 partitions, 10 MiB) let enrich
     * pass 800 MiB RSS while catching up a backlog.
     */
    fetchMaxBytesPerPartition: z.coerce.number().int().min(16 * 1024).default(256 * 1024),
    fetchMaxBytes: z.coerce.number().int().min(16 * 1024).default(1024 * 1024),
  }),
  http: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(9101),
  }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  enrich: z.object({
    maxObjectBytes: z.coerce.number().int().min(1024).default(64 * 1024),
    clusterProviders: clusterProviders.default({}),
    /**
     * Worker threads that enrich records off the event loop (0 = on it): the loop then only fetches, produces and
     * commits while another core parses, redacts and Avro-encodes (issue 16). Costs some CPU per event (records
     * copied to the thread and back), so it pays where a core is free for it.
     */
    threads: z.coerce.number().int().min(0).max(64).default(0),
  }),
  directory: z.object({
    /** YAML or CSV (by extension); optional: without it, identities go unresolved beyond the built-in parse. */
    file: z.string().min(1).optional(),
  }),
  httpDirectory: z.object({
    /** e.g. https://people.example.com/api/identities/{id}; optional. */
    urlTemplate: z.url().optional(),
    token: secret().optional(),
    timeoutMs: z.coerce.number().int().min(1).default(500),
    ttlMs: z.coerce.number().int().min(1).default(15 * 60_000),
    negativeTtlMs: z.coerce.number().int().min(1).default(60_000),
    maxEntries: z.coerce.number().int().min(1).default(50_000),
    resetTimeoutMs: z.coerce.number().int().min(1).default(30_000),
  }),
  /**
   * At start, before the consumer starts and /readyz turns 200: sample batches through the service's batch handler
   * (nothing produced, committed or counted) until this many events or this long, so the first real ones are not
   * handled cold (issue 15 §1); 0 = none. 16,000: measured CPU per event of successive 2,000-event rounds fell until
   * the 4th-6th round (the old 6,000 stopped at ~1.5-2x the converged cost); maxMs bounds it on a busy host.
   */
  warmUp: z.object({
    events: z.coerce.number().int().min(0).default(16_000),
    maxMs: z.coerce.number().int().min(0).default(10_000),
  }),
  shutdownTimeoutMs: z.coerce.number().int().min(1).default(15_000),
  /** Which event times are stored: the same setting ingest checks before acknowledging. */
  eventWindow: eventWindowSchema,
});

export type EnrichConfig = z.output<typeof enrichConfigSchema>;

export const ENRICH_ENV: EnvMap = {
  ...kafkaConnectionEnv(),
  'kafka.groupId': 'ENRICH_GROUP_ID',
  'kafka.inputTopics': 'ENRICH_INPUT_TOPIC',
  'kafka.outputTopic': 'ENRICH_OUTPUT_TOPIC',
  'kafka.dlqTopic': 'ENRICH_DLQ_TOPIC',
  'kafka.partitionsConcurrently': 'ENRICH_PARTITIONS_CONCURRENTLY',
  'kafka.fetchMaxBytesPerPartition': 'ENRICH_FETCH_MAX_BYTES_PER_PARTITION',
  'kafka.fetchMaxBytes': 'ENRICH_FETCH_MAX_BYTES',
  'http.host': 'HTTP_HOST',
  'http.port': 'HTTP_PORT',
  logLevel: 'LOG_LEVEL',
  'enrich.maxObjectBytes': 'ENRICH_MAX_OBJECT_BYTES',
  'enrich.clusterProviders': 'ENRICH_CLUSTER_PROVIDERS',
  'enrich.threads': 'ENRICH_THREADS',
  'directory.file': 'ENRICH_DIRECTORY_FILE',
  'httpDirectory.urlTemplate': 'ENRICH_HTTP_DIRECTORY_URL',
  'httpDirectory.token': 'ENRICH_HTTP_DIRECTORY_TOKEN',
  'httpDirectory.timeoutMs': 'ENRICH_HTTP_DIRECTORY_TIMEOUT_MS',
  'httpDirectory.ttlMs': 'ENRICH_HTTP_DIRECTORY_TTL_MS',
  'httpDirectory.negativeTtlMs': 'ENRICH_HTTP_DIRECTORY_NEGATIVE_TTL_MS',
  'httpDirectory.maxEntries': 'ENRICH_HTTP_DIRECTORY_CACHE_SIZE',
  'httpDirectory.resetTimeoutMs': 'ENRICH_HTTP_DIRECTORY_RESET_MS',
  'warmUp.events': 'ENRICH_WARM_UP_EVENTS',
  'warmUp.maxMs': 'ENRICH_WARM_UP_MAX_MS',
  ...eventWindowEnv('eventWindow'),
};

export function loadEnrichConfig(env: Readonly<Record<string, string | undefined>>): Readonly<EnrichConfig> {
  return loadConfig(enrichConfigSchema, { env, envMap: ENRICH_ENV, name: 'enrich config' });
}
