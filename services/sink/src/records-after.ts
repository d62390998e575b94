import type { IncomingRecord } from '@kaudit/kafka';

/** The records with an offset above `storedMax` (all of them when nothing is stored); offsets compared as int64. */
export function recordsAfter(records: readonly IncomingRecord[], storedMax: bigint | null): IncomingRecord[] {
  if (storedMax === null) return [...records];
  return records.filter((r) => BigInt(r.offset) > storedMax);
}

/** `topic:partition:first-last` of the records one insert carries (the block's insert_deduplication_token). */
export function deduplicationToken(records: readonly IncomingRecord[]): string {
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('deduplicationToken of an empty block');
  return `${first.topic}:${first.partition}:${first.offset}-${last.offset}`;
}
