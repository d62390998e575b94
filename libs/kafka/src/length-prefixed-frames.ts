/**
 * The framing shared by kaudit's batched record layouts (raw.v2: raw-batch-codec.ts, enriched.v2:
 * enriched-batch-codec.ts): several items in one Kafka record value, each cut out exactly without a parse.
 *
 *     value  := magic count item*             (nothing after the last item)
 *     magic  := 4 bytes, 0x00 first           (JSON text and Avro records written by kaudit never start with the
 *                                              whole magic, so a one-item-a-record value is never taken for one)
 *     count  := uint32 big-endian, >= 1       (how many items follow)
 *     item   := flags length bytes
 *     flags  := uint8, bits the layout defines (others 0)
 *     length := uint32 big-endian             (of bytes)
 *
 * Length-prefixed rather than JSON-array or newline framing: splitting needs no parse and no escaping, so an item
 * that fails to parse or decode is still cut out exactly and dead-lettered alone with its own bytes (issue 16).
 */
export interface FrameLayout {
  /** The layout's name in refusal reasons, e.g. `raw batch`. */
  name: string;
  /** 4 bytes starting with 0x00. */
  magic: Buffer;
  /** The flag bits the layout defines; an item with any other bit set is refused. */
  knownFlags: number;
}

export interface Frame {
  flags: number;
  /** On decode: a view of the record's value, not a copy. */
  bytes: Buffer;
}

export interface FrameLimits {
  /** Items in one record at most. */
  maxEvents: number;
  /** Bytes of one record's value at most, unless one item alone is larger (it then goes alone). */
  maxBytes: number;
}

const COUNT_BYTES = 4;
const ITEM_HEAD_BYTES = 5;

export type DecodedFrames = { ok: true; frames: Frame[] } | { ok: false; reason: string };

/** A layout checked once: its magic must be 4 bytes and start with 0x00 (what tells it from one-item values). */
export function frameLayout(name: string, magic: readonly number[], knownFlags: number): FrameLayout {
  if (magic.length !== 4 || magic[0] !== 0) throw new RangeError(`${name}: a frame magic is 4 bytes starting with 0x00`);
  return Object.freeze({ name, magic: Buffer.from(magic), knownFlags });
}

/** True when `value` starts with the layout's magic. */
export function isFramed(layout: FrameLayout, value: Buffer | null): boolean {
  const m = layout.magic;
  return value !== null && value.length >= m.length && value[0] === m[0] && value[1] === m[1] && value[2] === m[2] && value[3] === m[3];
}

/** The bytes of one value holding `frames` (at least one), which the caller has already cut to the limits. */
function encodeOne(layout: FrameLayout, frames: readonly Frame[], from: number, to: number, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  layout.magic.copy(out, 0);
  out.writeUInt32BE(to - from, layout.magic.length);
  let pos = layout.magic.length + COUNT_BYTES;
  for (let i = from; i < to; i++) {
    const f = frames[i] as Frame;
    out[pos] = f.flags;
    out.writeUInt32BE(f.bytes.length, pos + 1);
    pos += ITEM_HEAD_BYTES;
    pos += f.bytes.copy(out, pos);
  }
  return out;
}

/** The values carrying `frames`, in order, each within `limits` (an item larger than maxBytes goes alone). */
export function encodeFrames(layout: FrameLayout, frames: readonly Frame[], limits: FrameLimits): Buffer[] {
  const head = layout.magic.length + COUNT_BYTES;
  const values: Buffer[] = [];
  let from = 0;
  let bytes = head;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i] as Frame;
    if ((f.flags & ~layout.knownFlags) !== 0) throw new RangeError(`${layout.name}: item ${i} has unknown flags ${f.flags}`);
    const size = ITEM_HEAD_BYTES + f.bytes.length;
    if (i > from && (i - from >= limits.maxEvents || bytes + size > limits.maxBytes)) {
      values.push(encodeOne(layout, frames, from, i, bytes));
      from = i;
      bytes = head;
    }
    bytes += size;
  }
  if (frames.length > from) values.push(encodeOne(layout, frames, from, frames.length, bytes));
  return values;
}

/**
 * The items of a framed value, their bytes views of `value`. A frame that does not add up exactly (cut short,
 * trailing bytes, unknown flags) is refused whole: item bounds are never guessed, so no item is mis-cut.
 */
export function decodeFrames(layout: FrameLayout, value: Buffer): DecodedFrames {
  const name = layout.name;
  if (!isFramed(layout, value)) return { ok: false, reason: `value does not start with the ${name} magic` };
  const head = layout.magic.length + COUNT_BYTES;
  if (value.length < head) return { ok: false, reason: `${name} ends before its event count` };
  const count = value.readUInt32BE(layout.magic.length);
  if (count === 0) return { ok: false, reason: `${name} holds no events` };
  // A count that could not fit the bytes is refused before anything is allocated for it.
  if (count > (value.length - head) / ITEM_HEAD_BYTES) return { ok: false, reason: `${name} claims ${count} events in ${value.length} bytes` };
  const frames = new Array<Frame>(count);
  let pos = head;
  for (let i = 0; i < count; i++) {
    if (pos + ITEM_HEAD_BYTES > value.length) return { ok: false, reason: `${name} ends inside event ${i}'s header` };
    const flags = value[pos] as number;
    if ((flags & ~layout.knownFlags) !== 0) return { ok: false, reason: `${name} event ${i} has unknown flags ${flags}` };
    const length = value.readUInt32BE(pos + 1);
    pos += ITEM_HEAD_BYTES;
    if (pos + length > value.length) return { ok: false, reason: `${name} ends inside event ${i} (${length} bytes)` };
    frames[i] = { flags, bytes: value.subarray(pos, pos + length) };
    pos += length;
  }
  if (pos !== value.length) return { ok: false, reason: `${name} has ${value.length - pos} bytes after its ${count} events` };
  return { ok: true, frames };
}
