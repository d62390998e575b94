import { decodeFrames, encodeFrames, frameLayout, isFramed, type FrameLimits } from './length-prefixed-frames.js';

/**
 * The value of a `kaudit.audit.enriched.v2` record: several enriched events with the SAME key (cluster/actor) from
 * one fetched batch, in order, each its Avro AuditRecord bytes exactly as a v1 record's value would be (issue 16:
 * enrich's produce, the broker and the sink's and alert's consume paid their per-record costs per event).
 * Framed by length-prefixed-frames.ts (shared with raw.v2):
 *
 *     magic  := 0x00 'k' 'e' '2'   (a v1 value is an AuditRecord whose first field, the cluster, is a string: a
 *                                   0x00 there would be an empty cluster followed by 0x6b, a negative string
 *                                   length, which no valid v1 value has)
 *     flags  := 0                   (reserved)
 *     bytes  := the event's Avro bytes; the record's schema fingerprint header holds for every one of them
 */
const LAYOUT = frameLayout('enriched batch', [0x00, 0x6b, 0x65, 0x32], 0);
export const ENRICHED_BATCH_MAGIC: Buffer = LAYOUT.magic;

export type EnrichedBatchLimits = FrameLimits;

/**
 * Defaults, like raw.v2's: 512 KiB leaves half of the broker's default message.max.bytes for the produce request's
 * framing and the other records of the send; 500 events amortise the per-record costs ~all there is to amortise,
 * while a bad event's neighbours never wait behind more than that.
 */
export const ENRICHED_BATCH_LIMITS: EnrichedBatchLimits = Object.freeze({ maxEvents: 500, maxBytes: 512 * 1024 });

/** True when `value` is framed as an enriched batch (v2), false for anything else (a v1 record's Avro bytes). */
export function isEnrichedBatch(value: Buffer | null): boolean {
  return isFramed(LAYOUT, value);
}

/** The record values carrying `events` (Avro bytes), in order, each within `limits`. */
export function encodeEnrichedBatches(events: readonly Buffer[], limits: EnrichedBatchLimits = ENRICHED_BATCH_LIMITS): Buffer[] {
  return encodeFrames(LAYOUT, events.map((bytes) => ({ flags: 0, bytes })), limits);
}

export type DecodedEnrichedBatch = { ok: true; events: Buffer[] } | { ok: false; reason: string };

/** The events' Avro bytes (views of `value`); a frame that does not add up exactly is refused whole. */
export function decodeEnrichedBatch(value: Buffer): DecodedEnrichedBatch {
  const decoded = decodeFrames(LAYOUT, value);
  if (!decoded.ok) return decoded;
  return { ok: true, events: decoded.frames.map((f) => f.bytes) };
}
