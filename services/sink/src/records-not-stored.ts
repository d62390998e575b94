import { createHash } from 'node:crypto';
import type { IncomingRecord } from '@kaudit/kafka';

/**
 * What the table holds for a range of one partition: offset → the Kafka timestamps (ms, as strings) of the rows
 * stored at that offset. More than one when a topic was recreated and both incarnations' records are stored.
 */
export type StoredPositions = ReadonlyMap<string, ReadonlySet<string>>;

/** A row written before rows carried their Kafka timestamp (migration 0004): it matches any record at its offset. */
export const UNKNOWN_TIMESTAMP = '0';

export interface NotStored {
  /** The records to insert, in offset order. */
  todo: IncomingRecord[];
  /** Records already stored (same offset and timestamp): skipped. */
  skipped: number;
  /** Records whose offset is taken by a row of another record (topic recreated, offsets reset): inserted. */
  reused: number;
}

/**
 * The records that are not stored yet. A record counts as stored only when a row at its offset has its timestamp:
 * not "any offset up to the highest stored one" (a multi-partition insert can land in part, higher offsets
 * without lower ones) and not "its offset is taken" (offsets start again at 0 when a topic is recreated).
 */
export function recordsNotStored(records: readonly IncomingRecord[], stored: StoredPositions): NotStored {
  const todo: IncomingRecord[] = [];
  let skipped = 0;
  let reused = 0;
  for (const record of records) {
    const timestamps = stored.get(record.offset);
    if (timestamps === undefined) todo.push(record);
    else if (timestamps.has(record.timestamp) || timestamps.has(UNKNOWN_TIMESTAMP)) skipped++;
    else {
      todo.push(record);
      reused++;
    }
  }
  return { todo, skipped, reused };
}

/**
 * The insert_deduplication_token of the block of `records`: `topic:partition:first-last:` and a digest of every
 * offset and timestamp in it. The digest matters twice: a block need not be contiguous (only the records not
 * stored are inserted), and a recreated topic repeats offset ranges — the same range of another incarnation must
 * not be dropped by ClickHouse as a repeat of the old block.
 * A block gathered from several partitions (records ordered by topic, partition, offset) names each partition's
 * range, comma-separated, and its digest covers each record's partition too.
 */
export function deduplicationToken(records: readonly IncomingRecord[]): string {
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('deduplicationToken of an empty block');
  const digest = createHash('sha256');
  if (records.every((r) => r.topic === first.topic && r.partition === first.partition)) {
    for (const r of records) digest.update(`${r.offset}@${r.timestamp};`);
    return `${first.topic}:${first.partition}:${first.offset}-${last.offset}:${digest.digest('hex').slice(0, 16)}`;
  }
  const ranges: string[] = [];
  let run: { key: string; first: string; last: string } | undefined;
  for (const r of records) {
    const key = `${r.topic}:${r.partition}`;
    digest.update(`${key}/${r.offset}@${r.timestamp};`);
    if (run?.key === key) run.last = r.offset;
    else {
      if (run) ranges.push(`${run.key}:${run.first}-${run.last}`);
      run = { key, first: r.offset, last: r.offset };
    }
  }
  if (run) ranges.push(`${run.key}:${run.first}-${run.last}`);
  return `${ranges.join(',')}:${digest.digest('hex').slice(0, 16)}`;
}
