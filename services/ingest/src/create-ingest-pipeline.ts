import type { EventTimeWindow } from '@kaudit/audit-schema';
import { DeadLetterWriter, TOPICS, type Producer } from '@kaudit/kafka';
import type { IngestMetrics } from './ingest-metrics.js';
import { IngestPipeline } from './ingest-pipeline.js';
import { BatchingPublisher } from './publish/batching-publisher.js';
import { DeadLetters } from './publish/dead-letters.js';

/** Wires the validation + publishing path on a started-by-the-caller producer (the webhook and `kaudit import` both use it). */
export function createIngestPipeline(deps: {
  producer: Producer;
  instance: string;
  maxEventBytes: number;
  /** Event times accepted (KAUDIT_RETENTION_DAYS, KAUDIT_MAX_FUTURE_SKEW_MS): what ClickHouse will keep. */
  window: EventTimeWindow;
  rawTopic?: string;
  dlqTopic?: string;
  dlqDedupEntries?: number;
  publishMaxBatchBytes?: number;
  publishCoalesce?: boolean;
  metrics?: IngestMetrics;
}): IngestPipeline {
  const publisher = new BatchingPublisher({
    producer: deps.producer,
    topic: deps.rawTopic ?? TOPICS.raw,
    ...(deps.publishMaxBatchBytes !== undefined ? { maxBatchBytes: deps.publishMaxBatchBytes } : {}),
    ...(deps.publishCoalesce !== undefined ? { coalesce: deps.publishCoalesce } : {}),
  });
  const deadLetters = new DeadLetters({
    writer: new DeadLetterWriter({ producer: deps.producer, service: 'ingest', topic: deps.dlqTopic ?? TOPICS.dlq }),
    maxEntries: deps.dlqDedupEntries ?? 10_000,
  });
  return new IngestPipeline({ publisher, deadLetters, instance: deps.instance, maxEventBytes: deps.maxEventBytes, window: deps.window, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
}
