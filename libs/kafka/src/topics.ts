import type { TopicSpec } from './types.js';

/** Topic names are part of the product (see DESIGN.md); versioned so a format change is a new topic. */
export const TOPICS = {
  raw: 'kaudit.audit.raw.v1',
  enriched: 'kaudit.audit.enriched.v1',
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
  { topic: TOPICS.enriched, partitions: 6, configs: { 'retention.ms': WEEK_MS } },
  { topic: TOPICS.alerts, partitions: 3, configs: { 'retention.ms': MONTH_MS } },
  { topic: TOPICS.dlq, partitions: 3, configs: { 'retention.ms': WEEK_MS } },
];

/**
 * Headers of every record on `kaudit.audit.raw.v1` (one record = one audit event's JSON bytes,
 * key = `cluster/user` so one big cluster spreads over partitions by its users, each user's records
 * in order on one; records written before issue 16 are keyed `cluster`). Ingest writes them; enrich
 * reads them, and takes the cluster from the header, never from the key — the value and headers are
 * the layout (a new one would be `.v2`), the key only chooses the partition.
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
