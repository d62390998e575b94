import { RAW_HEADERS, type IncomingRecord } from '@kaudit/kafka';

/**
 * Raw records as an enrich thread receives them: what decodeRawRecord reads of each (key, value, the cluster and
 * received-at headers, whether the truncated header is there, the timestamp), their bytes copied once into shared
 * memory. Posting the records themselves would clone every header Buffer's whole backing store (a view of a
 * fetched batch, or of a pooled slab) on both threads.
 */
export interface PackedRecords {
  /** SharedArrayBuffer-backed: each record's key, value, cluster and received-at bytes, one after another. */
  bytes: Uint8Array;
  /** FIELDS ints a record: start and end in `bytes` of its key, value, cluster header, received-at header (-1, -1 when absent), truncated (0/1). */
  index: Int32Array;
  timestamps: string[];
}

const FIELDS = 9;
/** The truncated header is only looked at for presence (decodeRawRecord): its value is not shipped. */
const PRESENT = Buffer.alloc(0);

/** The bytes packRecords copies of `records`. */
export function packedSize(records: readonly IncomingRecord[]): number {
  let total = 0;
  for (const r of records) total += (r.key?.length ?? 0) + (r.value?.length ?? 0) + (r.headers[RAW_HEADERS.cluster]?.length ?? 0) + (r.headers[RAW_HEADERS.receivedAt]?.length ?? 0);
  return total;
}

/**
 * Packs `records` into `bytes` (shared memory of at least packedSize(records)), which the caller may reuse once
 * the thread is done with them: fresh memory for every batch cost as much again as the copy (page faults).
 */
export function packRecords(records: readonly IncomingRecord[], bytes: Uint8Array): PackedRecords {
  const index = new Int32Array(records.length * FIELDS);
  const timestamps = new Array<string>(records.length);
  let pos = 0;
  let at = 0;
  const put = (b: Buffer | null | undefined): void => {
    if (b === null || b === undefined) {
      index[at++] = -1;
      index[at++] = -1;
      return;
    }
    index[at++] = pos;
    // Headers are a few bytes: a loop copies them faster than a native call each (TypedArray#set).
    if (b.length < 64) for (let k = 0; k < b.length; k++) bytes[pos + k] = b[k] as number;
    else bytes.set(b, pos);
    pos += b.length;
    index[at++] = pos;
  };
  for (let i = 0; i < records.length; i++) {
    const r = records[i] as IncomingRecord;
    put(r.key);
    put(r.value);
    put(r.headers[RAW_HEADERS.cluster]);
    put(r.headers[RAW_HEADERS.receivedAt]);
    index[at++] = r.headers[RAW_HEADERS.truncated] === undefined ? 0 : 1;
    timestamps[i] = r.timestamp;
  }
  return { bytes, index, timestamps };
}

/** The records again, as IncomingRecords holding what decodeRawRecord reads (views of the shared bytes). */
export function unpackRecords(packed: PackedRecords): IncomingRecord[] {
  const { bytes, index, timestamps } = packed;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slice = (at: number): Buffer | null => {
    const start = index[at] as number;
    return start < 0 ? null : view.subarray(start, index[at + 1] as number);
  };
  const records = new Array<IncomingRecord>(timestamps.length);
  for (let i = 0; i < timestamps.length; i++) {
    const at = i * FIELDS;
    const headers: Record<string, Buffer> = {};
    const cluster = slice(at + 4);
    if (cluster !== null) headers[RAW_HEADERS.cluster] = cluster;
    const receivedAt = slice(at + 6);
    if (receivedAt !== null) headers[RAW_HEADERS.receivedAt] = receivedAt;
    if (index[at + 8] === 1) headers[RAW_HEADERS.truncated] = PRESENT;
    records[i] = { topic: '', partition: 0, offset: String(i), key: slice(at), value: slice(at + 2), headers, timestamp: timestamps[i] as string };
  }
  return records;
}
