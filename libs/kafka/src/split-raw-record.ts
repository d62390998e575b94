import { decodeRawBatch, isRawBatch } from './raw-batch-codec.js';
import { RAW_HEADERS } from './topics.js';
import type { IncomingRecord } from './types.js';

export type SplitRawRecord =
  /** `layout` says whether the record was one event (v1) or a batch of them (v2), for the DLQ's event index. */
  | { ok: true; layout: 'v1' | 'v2'; events: IncomingRecord[] }
  | { ok: false; reason: string };

/**
 * A raw record (either layout, see RAW_HEADERS) as one record per audit event, each as a v1 record would be: the
 * event's own bytes (a view, not a copy), the record's key, headers, topic, partition, offset and timestamp, and
 * `kaudit-truncated` exactly when that event was truncated. So everything that reads one event — enrich's decode,
 * its threads, the tests that look at the raw topic — reads both layouts alike. A damaged v2 frame is refused
 * whole with the reason (the caller dead-letters the record's bytes).
 */
export function splitRawRecord(record: IncomingRecord): SplitRawRecord {
  if (!isRawBatch(record.value)) return { ok: true, layout: 'v1', events: [record] };
  const decoded = decodeRawBatch(record.value as Buffer);
  if (!decoded.ok) return decoded;
  // In v2 the frame's flags alone say which event was truncated: a record-level header (hand-made) is not inherited.
  const { [RAW_HEADERS.truncated]: _ignored, ...plain } = record.headers;
  const base = _ignored === undefined ? record.headers : plain;
  // One header object per distinct mark (there are three), shared by the events that carry it.
  const marked = new Map<string, Record<string, Buffer>>();
  const headersOf = (truncated: string | undefined): Record<string, Buffer> => {
    if (truncated === undefined) return base;
    let headers = marked.get(truncated);
    if (headers === undefined) marked.set(truncated, (headers = { ...base, [RAW_HEADERS.truncated]: Buffer.from(truncated) }));
    return headers;
  };
  const events = decoded.events.map((e): IncomingRecord => ({
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    value: e.value,
    headers: headersOf(e.truncated),
    timestamp: record.timestamp,
  }));
  return { ok: true, layout: 'v2', events };
}
