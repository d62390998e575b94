/**
 * The value of a `kaudit.audit.raw.v2` record: several audit events of one webhook body (or import chunk) and
 * one user, each kept as its ORIGINAL bytes (issue 16: per-record cost, not the work, bounded enrich and ingest).
 *
 *     value  := magic count event*            (nothing after the last event)
 *     magic  := 0x00 'k' 'r' '2'              (4 bytes; JSON text never starts with 0x00, so a v1 value is never one)
 *     count  := uint32 big-endian, >= 1       (how many events follow)
 *     event  := flags length bytes
 *     flags  := uint8: bit 0 requestObject dropped, bit 1 responseObject dropped (ingest's per-event limit; the
 *               v1 `kaudit-truncated` header of that event), other bits 0
 *     length := uint32 big-endian             (of bytes)
 *     bytes  := the event's JSON exactly as ingest accepted it (never re-serialised)
 *
 * Length-prefixed rather than JSON-array or newline framing: splitting needs no parse and no escaping, so an event
 * that fails to parse or validate is still cut out exactly and dead-lettered alone with its own bytes.
 */
export const RAW_BATCH_MAGIC: Buffer = Buffer.from([0x00, 0x6b, 0x72, 0x32]);

export interface RawBatchEvent {
  /** The event's JSON bytes (on decode: a view of the record's value, not a copy). */
  value: Buffer;
  /** What ingest dropped to fit the per-event limit, as the v1 header said it: `requestObject,responseObject`. */
  truncated?: string | undefined;
}

export interface RawBatchLimits {
  /** Events in one record at most. */
  maxEvents: number;
  /** Bytes of one record's value at most, unless one event alone is larger (it then goes alone). */
  maxBytes: number;
}

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
const HEAD_BYTES = RAW_BATCH_MAGIC.length + 4;
const EVENT_HEAD_BYTES = 5;

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
  return value !== null && value.length >= RAW_BATCH_MAGIC.length && value[0] === 0 && value[1] === RAW_BATCH_MAGIC[1] && value[2] === RAW_BATCH_MAGIC[2] && value[3] === RAW_BATCH_MAGIC[3];
}

/** One record value for `events` (at least one), which the caller has already cut to the limits. */
function encodeOne(events: readonly RawBatchEvent[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  RAW_BATCH_MAGIC.copy(out, 0);
  out.writeUInt32BE(events.length, RAW_BATCH_MAGIC.length);
  let pos = HEAD_BYTES;
  for (const e of events) {
    out[pos] = flagsOf(e.truncated);
    out.writeUInt32BE(e.value.length, pos + 1);
    pos += EVENT_HEAD_BYTES;
    pos += e.value.copy(out, pos);
  }
  return out;
}

/** The record values carrying `events`, in order, each within `limits` (an event larger than maxBytes goes alone). */
export function encodeRawBatches(events: readonly RawBatchEvent[], limits: RawBatchLimits = RAW_BATCH_LIMITS): Buffer[] {
  const values: Buffer[] = [];
  let from = 0;
  let bytes = HEAD_BYTES;
  for (let i = 0; i < events.length; i++) {
    const size = EVENT_HEAD_BYTES + (events[i] as RawBatchEvent).value.length;
    if (i > from && (i - from >= limits.maxEvents || bytes + size > limits.maxBytes)) {
      values.push(encodeOne(events.slice(from, i), bytes));
      from = i;
      bytes = HEAD_BYTES;
    }
    bytes += size;
  }
  if (events.length > from) values.push(encodeOne(events.slice(from), bytes));
  return values;
}

export type DecodedRawBatch = { ok: true; events: RawBatchEvent[] } | { ok: false; reason: string };

/**
 * The events of a raw batch value, their bytes views of `value`. A frame that does not add up exactly (cut short,
 * trailing bytes, unknown flags) is refused whole: event bounds are never guessed, so no event is mis-cut.
 */
export function decodeRawBatch(value: Buffer): DecodedRawBatch {
  if (!isRawBatch(value)) return { ok: false, reason: 'value does not start with the raw batch magic' };
  if (value.length < HEAD_BYTES) return { ok: false, reason: 'raw batch ends before its event count' };
  const count = value.readUInt32BE(RAW_BATCH_MAGIC.length);
  if (count === 0) return { ok: false, reason: 'raw batch holds no events' };
  // A count that could not fit the bytes is refused before anything is allocated for it.
  if (count > (value.length - HEAD_BYTES) / EVENT_HEAD_BYTES) return { ok: false, reason: `raw batch claims ${count} events in ${value.length} bytes` };
  const events = new Array<RawBatchEvent>(count);
  let pos = HEAD_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + EVENT_HEAD_BYTES > value.length) return { ok: false, reason: `raw batch ends inside event ${i}'s header` };
    const flags = value[pos] as number;
    if ((flags & ~KNOWN_FLAGS) !== 0) return { ok: false, reason: `raw batch event ${i} has unknown flags ${flags}` };
    const length = value.readUInt32BE(pos + 1);
    pos += EVENT_HEAD_BYTES;
    if (pos + length > value.length) return { ok: false, reason: `raw batch ends inside event ${i} (${length} bytes)` };
    events[i] = { value: value.subarray(pos, pos + length), truncated: TRUNCATED_BY_FLAGS[flags] };
    pos += length;
  }
  if (pos !== value.length) return { ok: false, reason: `raw batch has ${value.length - pos} bytes after its ${count} events` };
  return { ok: true, events };
}
