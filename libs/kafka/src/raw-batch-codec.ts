import { decodeFrames, encodeFrames, frameLayout, isFramed, type FrameLimits } from './length-prefixed-frames.js';

/**
 * The value of a `kaudit.audit.raw.v2` record: several audit events of one webhook body (or import chunk) and
 * one user, each kept as its ORIGINAL bytes (issue 16: per-record cost, not the work, bounded enrich and ingest).
 * Framed by length-prefixed-frames.ts (shared with enriched.v2):
 *
 *     magic  := 0x00 'k' 'r' '2'              (JSON text never starts with 0x00, so a v1 value is never one)
 *     flags  := bit 0 requestObject dropped, bit 1 responseObject dropped (ingest's per-event limit; the
 *               v1 `kaudit-truncated` header of that event), other bits 0
 *     bytes  := the event's JSON exactly as ingest accepted it (never re-serialised)
 */
const LAYOUT = frameLayout('raw batch', [0x00, 0x6b, 0x72, 0x32], 3);
export const RAW_BATCH_MAGIC: Buffer = LAYOUT.magic;

export interface RawBatchEvent {
  /** The event's JSON bytes (on decode: a view of the record's value, not a copy). */
  value: Buffer;
  /** What ingest dropped to fit the per-event limit, as the v1 header said it: `requestObject,responseObject`. */
  truncated?: string | undefined;
}

export type RawBatchLimits = FrameLimits;

/**
 * Defaults: 512 KiB leaves half of the broker's default message.max.bytes (1 MiB) for the produce request's
 * framing, the headers and the other records ingest's publisher puts in the same send; 500 events is more than
 * one apiserver webhook batch (--audit-webhook-batch-max-size, 400) so a body's events of one user are usually one
 * record, while one record never holds so many that a bad event's neighbours wait long.
 */
export const RAW_BATCH_LIMITS: RawBatchLimits = Object.freeze({ maxEvents: 500, maxBytes: 512 * 1024 });

const TRUNCATED_FLAGS: readonly (readonly [string, number])[] = [
  ['requestObject', 1],
  ['responseObject', 2],
];
const KNOWN_FLAGS = 3;

function flagsOf(truncated: string | undefined): number {
  if (truncated === undefined) return 0;
  let flags = 0;
  for (const name of truncated.split(',')) {
    const flag = TRUNCATED_FLAGS.find(([n]) => n === name)?.[1];
    if (flag === undefined) throw new RangeError(`raw batch: cannot mark "${name}" as truncated`);
    flags |= flag;
  }
  return flags;
}

/** One string per flag combination, so decoding allocates none. */
const TRUNCATED_BY_FLAGS: readonly (string | undefined)[] = Array.from({ length: KNOWN_FLAGS + 1 }, (_, flags) => {
  const names = TRUNCATED_FLAGS.filter(([, f]) => (flags & f) !== 0).map(([n]) => n);
  return names.length === 0 ? undefined : names.join(',');
});

/** True when `value` is framed as a raw batch (v2), false for anything else (a v1 event's JSON). */
export function isRawBatch(value: Buffer | null): boolean {
  return isFramed(LAYOUT, value);
}

/** The record values carrying `events`, in order, each within `limits` (an event larger than maxBytes goes alone). */
export function encodeRawBatches(events: readonly RawBatchEvent[], limits: RawBatchLimits = RAW_BATCH_LIMITS): Buffer[] {
  return encodeFrames(LAYOUT, events.map((e) => ({ flags: flagsOf(e.truncated), bytes: e.value })), limits);
}

export type DecodedRawBatch = { ok: true; events: RawBatchEvent[] } | { ok: false; reason: string };

/**
 * The events of a raw batch value, their bytes views of `value`. A frame that does not add up exactly (cut short,
 * trailing bytes, unknown flags) is refused whole: event bounds are never guessed, so no event is mis-cut.
 */
export function decodeRawBatch(value: Buffer): DecodedRawBatch {
  const decoded = decodeFrames(LAYOUT, value);
  if (!decoded.ok) return decoded;
  return { ok: true, events: decoded.frames.map((f) => ({ value: f.bytes, truncated: TRUNCATED_BY_FLAGS[f.flags] })) };
}
