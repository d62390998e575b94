import { encodeEnrichedBatches, ENRICHED_BATCH_LIMITS, type EnrichedBatchLimits } from './enriched-batch-codec.js';
import type { OutgoingRecord } from './types.js';

function sameHeaders(a: OutgoingRecord['headers'], b: OutgoingRecord['headers']): boolean {
  if (a === b) return true;
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  for (const k of ka) {
    const x = a?.[k];
    const y = b?.[k];
    if (x === y) continue;
    if (x === undefined || y === undefined) return false;
    // Per event on enrich's hot path: strings compare as strings, Buffers without a copy; only a mix converts.
    if (typeof x === 'string' && typeof y === 'string') return false; // not ===, so different
    if (!(typeof x === 'string' ? Buffer.from(x) : x).equals(typeof y === 'string' ? Buffer.from(y) : y)) return false;
  }
  return true;
}

/**
 * One fetched batch's enriched v1-shaped records (Avro value each) as `kaudit.audit.enriched.v2` records: the
 * records of one key, in their order, framed together up to `limits` (enriched-batch-codec.ts). The headers are
 * the layout's contract for every event in a record, so records of one key whose headers differ (they cannot
 * today: the key holds the cluster, the fingerprint is the codec's) start a new record rather than inherit
 * another's. Per-key order holds; keys come out in the order of their first record.
 */
export function groupEnrichedRecords(records: readonly OutgoingRecord[], limits: EnrichedBatchLimits = ENRICHED_BATCH_LIMITS): OutgoingRecord[] {
  interface Group {
    first: OutgoingRecord;
    values: Buffer[];
  }
  const order: Group[] = [];
  const open = new Map<string, Group>();
  for (const r of records) {
    if (r.tombstone === true || r.partition !== undefined) throw new RangeError('enriched records are grouped by key: no tombstones or explicit partitions');
    const key = r.key === null ? '\u0000null' : typeof r.key === 'string' ? r.key : `\u0000${r.key.toString('hex')}`;
    let group = open.get(key);
    if (group === undefined || !sameHeaders(group.first.headers, r.headers)) {
      group = { first: r, values: [] };
      open.set(key, group);
      order.push(group);
    }
    group.values.push(typeof r.value === 'string' ? Buffer.from(r.value) : r.value);
  }
  const out: OutgoingRecord[] = [];
  for (const g of order) {
    for (const value of encodeEnrichedBatches(g.values, limits)) {
      const record: OutgoingRecord = { key: g.first.key, value };
      if (g.first.headers !== undefined) record.headers = g.first.headers;
      out.push(record);
    }
  }
  return out;
}
