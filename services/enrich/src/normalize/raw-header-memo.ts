/** Header values up to this length are compared by a loop: a native call (Buffer#equals) costs more for a few bytes. */
const LOOP_COMPARE_BYTES = 64;

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  if (a.length > LOOP_COMPARE_BYTES) return a.equals(b);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One header's last value: a copy of its bytes (the caller's Buffer may be reused) and their UTF-8 text. */
class LastValue {
  #bytes: Buffer | undefined;
  text = '';

  /** True when `bytes` differ from the last value; they then become it. */
  changed(bytes: Buffer): boolean {
    const last = this.#bytes;
    if (last !== undefined && sameBytes(last, bytes)) return false;
    this.#bytes = Buffer.from(bytes);
    this.text = bytes.toString('utf8');
    return true;
  }
}

export interface ReceivedAt {
  text: string;
  /** Date.parse(text). */
  ms: number;
}

/**
 * What decodeRawRecord derives from the cluster and received-at headers, kept for the last value of each: the
 * events of a raw.v2 record all carry their record's headers, so decoding them and Date.parse-ing the received-at
 * (~1 µs, issue 16) per event did the same work ~15 times over. Compared by content, never by Buffer identity, so a
 * value is always what decoding its bytes afresh gives. One per Enricher (not shared across threads).
 */
export class RawHeaderMemo {
  readonly #cluster = new LastValue();
  readonly #receivedAt = new LastValue();
  #parsed: ReceivedAt = { text: '', ms: Number.NaN };

  /** The cluster header's text (bytes.toString('utf8')). */
  cluster(bytes: Buffer): string {
    this.#cluster.changed(bytes);
    return this.#cluster.text;
  }

  /** The received-at header's text and Date.parse of it; the same object while the value repeats. */
  receivedAt(bytes: Buffer): ReceivedAt {
    if (this.#receivedAt.changed(bytes)) this.#parsed = { text: this.#receivedAt.text, ms: Date.parse(this.#receivedAt.text) };
    return this.#parsed;
  }
}
