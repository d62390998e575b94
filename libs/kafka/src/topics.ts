import type { TopicSpec } from './types.js';

/** Topic names are part of the product (see DESIGN.md); versioned so a format change is a new topic. */
export const TOPICS = {
  /** What ingest writes: several events of one body and one user a record (RAW_HEADERS, raw-batch-codec.ts). */
  raw: 'kaudit.audit.raw.v2',
  /**
   * The layout before issue 16, one event a record: enrich still reads it, so an upgrade (enrich first, then
   * ingest) loses nothing written by an older ingest; empty once its retention has passed, then it may go.
   */
  rawV1: 'kaudit.audit.raw.v1',
  /** What enrich writes: several events of one key (cluster/actor) a record (ENRICHED_EVENT_INDEX_HEADER, enriched-batch-codec.ts). */
  enriched: 'kaudit.audit.enriched.v2',
  /**
   * The layout before v2, one event a record: the sink and alert still read it (they subscribe to both), so an
   * upgrade (sink and alert first, then enrich) loses nothing an older enrich wrote; empty once its retention has
   * passed, then it may go.
   */
  enrichedV1: 'kaudit.audit.enriched.v1',
  alerts: 'kaudit.alerts.v1',
  dlq: 'kaudit.dlq.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

const WEEK_MS = String(7 * 24 * 3600 * 1000);
const MONTH_MS = String(30 * 24 * 3600 * 1000);

/**
 * Defaults for a small deployment; partitions bound consumer parallelism (grow them, never shrink).
 * The DLQ keeps the original bytes of what was rejected — Secret values included — so it lives no
 * longer than the raw topic it may copy from (DESIGN.md, issue 11): a week to look at what failed.
 */
export const DEFAULT_TOPIC_SPECS: readonly TopicSpec[] = [
  { topic: TOPICS.raw, partitions: 6, configs: { 'retention.ms': WEEK_MS, 'compression.type': 'producer' } },
  // Still made (empty on a new install) so that enrich, which subscribes to both, finds it.
  { topic: TOPICS.rawV1, partitions: 6, configs: { 'retention.ms': WEEK_MS, 'compression.type': 'producer' } },
  { topic: TOPICS.enriched, partitions: 6, configs: { 'retention.ms': WEEK_MS } },
  // Still made (empty on a new install) so that the sink and alert, which subscribe to both, find it.
  { topic: TOPICS.enrichedV1, partitions: 6, configs: { 'retention.ms': WEEK_MS } },
  { topic: TOPICS.alerts, partitions: 3, configs: { 'retention.ms': MONTH_MS } },
  { topic: TOPICS.dlq, partitions: 3, configs: { 'retention.ms': WEEK_MS } },
];

/**
 * Headers of every raw record; the key is `cluster/user`, so one big cluster spreads over partitions by its users,
 * each user's records in order on one (records written before issue 16 are keyed `cluster`). Ingest writes them;
 * enrich reads them, and takes the cluster from the header, never from the key — the value and headers are the
 * layout, the key only chooses the partition.
 *
 * - `kaudit.audit.raw.v1`: one record = one audit event's JSON bytes; `kaudit-truncated` marks that event.
 * - `kaudit.audit.raw.v2` (TOPICS.raw): one record = up to RAW_BATCH_LIMITS events of ONE webhook body (or import
 *   chunk) and ONE user, framed by raw-batch-codec.ts (length-prefixed original bytes, each with its own
 *   truncated flags, so no `kaudit-truncated` header on the record). The headers hold for every event in it.
 *   Enrich tells the layouts apart by the value's magic, not by the topic name (tests and operators rename
 *   topics), and dead-letters a bad event alone: its own bytes, the record's headers, its index in the record
 *   (RAW_EVENT_INDEX_HEADER) and, for a truncated one, `kaudit-truncated` as v1 would have had it.
 */
export const RAW_HEADERS = {
  /** Cluster name from the verified ingest identity (token or client certificate), never from the body. */
  cluster: 'cluster',
  /** When ingest received the request: ISO 8601 UTC with milliseconds. */
  receivedAt: 'received-at',
  /** `webhook` or `import`. */
  source: 'source',
  /** Which ingest instance (hostname/pid) accepted it. */
  instance: 'ingest-instance',
  /** Present (`requestObject,responseObject`) when ingest dropped oversize objects to stay under the per-event limit. */
  truncated: 'kaudit-truncated',
} as const;

/** On a dead-lettered event of a v2 record: its position (0-based) among the record's events. */
export const RAW_EVENT_INDEX_HEADER = 'kaudit-raw-event-index';

/**
 * Enriched records: headers `kaudit-schema` (the Avro writer schema's fingerprint, SCHEMA_FINGERPRINT_HEADER of
 * @kaudit/audit-schema) and `cluster`; the key is `cluster/actor` (enrichedKey), so alert's per-actor windows stay
 * partition-local. Enrich writes them; the sink and alert read them.
 *
 * - `kaudit.audit.enriched.v1` (TOPICS.enrichedV1): one record = one AuditRecord's Avro bytes.
 * - `kaudit.audit.enriched.v2` (TOPICS.enriched): one record = up to ENRICHED_BATCH_LIMITS events of ONE key from one
 *   fetched raw batch, in order, framed by enriched-batch-codec.ts (length-prefixed Avro bytes). The headers hold
 *   for every event in it. Readers tell the layouts apart by the value's magic, not by the topic name
 *   (splitEnrichedRecord), and dead-letter a bad event alone: its own bytes, the record's headers and its index in
 *   the record (ENRICHED_EVENT_INDEX_HEADER). Upgrading: sink and alert first (they read both topics), then enrich.
 */
/** On a dead-lettered event of an enriched v2 record: its position (0-based) among the record's events. */
export const ENRICHED_EVENT_INDEX_HEADER = 'kaudit-enriched-event-index';
