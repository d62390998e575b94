import { decodeEnrichedBatch, isEnrichedBatch } from './enriched-batch-codec.js';
import type { IncomingRecord } from './types.js';

export type SplitEnrichedRecord =
  /** `layout` says whether the record was one event (v1) or a batch of them (v2), for the DLQ's event index. */
  | { ok: true; layout: 'v1' | 'v2'; events: IncomingRecord[] }
  | { ok: false; reason: string };

/**
 * An enriched record (either layout, see ENRICHED_EVENT_INDEX_HEADER in topics.ts) as one record per event, each as a v1 record
 * would be: the event's Avro bytes (a view, not a copy) with the record's key, headers, topic, partition, offset and
 * timestamp. So the sink, alert, the CLI and the tests read both layouts alike, told apart by the value's magic,
 * never by the topic name. A damaged v2 frame is refused whole with the reason (the caller dead-letters the record).
 */
export function splitEnrichedRecord(record: IncomingRecord): SplitEnrichedRecord {
  if (!isEnrichedBatch(record.value)) return { ok: true, layout: 'v1', events: [record] };
  const decoded = decodeEnrichedBatch(record.value as Buffer);
  if (!decoded.ok) return decoded;
  const events = decoded.events.map((value): IncomingRecord => ({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    value,
    headers: record.headers,
    timestamp: record.timestamp,
  }));
  return { ok: true, layout: 'v2', events };
}
