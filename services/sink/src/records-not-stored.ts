import { createHash } from 'node:crypto';
import type { IncomingRecord } from '@kaudit/kafka';

/**
 * What the table holds for a range of one partition: offset → Kafka timestamp (ms, as a string) → how many rows are
 * stored with them. More than one timestamp when a topic was recreated and both incarnations' records are stored;
 * more than one row when the record was an enriched.v2 record (several events).
 */
export type StoredPositions = ReadonlyMap<string, ReadonlyMap<string, number>>;

/**
 * What the sink inserts a row for: a Kafka record (v1 layouts, alerts) or one event of an enriched.v2 record — then
 * a view with the record's position, its own value, and where it sits in the record.
 */
export interface SinkItem extends IncomingRecord {
  /** Its position among its record's events (enriched.v2 only). */
  eventIndex?: number;
  /** How many events its record holds (enriched.v2 only; a v1 record is one). */
  eventCount?: number;
}

/** A row written before rows carried their Kafka timestamp (migration 0004): it matches any record at its offset. */
export const UNKNOWN_TIMESTAMP = '0';

export interface NotStored {
  /** The items to insert, in offset order (those of `partial` included). */
  todo: SinkItem[];
  /**
   * Items of an enriched.v2 record of which SOME rows are stored (an insert that landed in part — several day
   * partitions, a bisected block — or a neighbour dead-lettered): the caller keeps only those whose own row is
   * missing (by the event's identity), so no row of a record is lost and none is stored twice.
   */
  partial: Set<SinkItem>;
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
export function recordsNotStored(items: readonly SinkItem[], stored: StoredPositions): NotStored {
  const todo: SinkItem[] = [];
  const partial = new Set<SinkItem>();
  let skipped = 0;
  let reused = 0;
  for (const item of items) {
    const counts = stored.get(item.offset);
    if (counts === undefined) {
      todo.push(item);
      continue;
    }
    const rows = counts.get(item.timestamp) ?? counts.get(UNKNOWN_TIMESTAMP);
    if (rows === undefined) {
      todo.push(item);
      reused++;
    } else if (rows >= (item.eventCount ?? 1)) skipped++;
    else {
      todo.push(item);
      partial.add(item);
    }
  }
  return { todo, partial, skipped, reused };
}

/** An item's place in the digest: its offset, and for an event of an enriched.v2 record its index too. */
function position(r: SinkItem): string {
  return r.eventIndex === undefined ? r.offset : `${r.offset}.${r.eventIndex}`;
}

/**
 * The insert_deduplication_token of the block of `records`: `topic:partition:first-last:` and a digest of every
 * offset (and event index, for the events of an enriched.v2 record) and timestamp in it. The digest matters twice: a block need not be contiguous (only the records not
 * stored are inserted), and a recreated topic repeats offset ranges — the same range of another incarnation must
 * not be dropped by ClickHouse as a repeat of the old block.
 * A block gathered from several partitions (records ordered by topic, partition, offset) names each partition's
 * range, comma-separated, and its digest covers each record's partition too.
 */
export function deduplicationToken(records: readonly SinkItem[]): string {
  const first = records[0];
  const last = records[records.length - 1];
  if (first === undefined || last === undefined) throw new RangeError('deduplicationToken of an empty block');
  const digest = createHash('sha256');
  if (records.every((r) => r.topic === first.topic && r.partition === first.partition)) {
    for (const r of records) digest.update(`${position(r)}@${r.timestamp};`);
    return `${first.topic}:${first.partition}:${first.offset}-${last.offset}:${digest.digest('hex').slice(0, 16)}`;
  }
  const ranges: string[] = [];
  let run: { key: string; first: string; last: string } | undefined;
  for (const r of records) {
    const key = `${r.topic}:${r.partition}`;
    digest.update(`${key}/${position(r)}@${r.timestamp};`);
    if (run?.key === key) run.last = r.offset;
    else {
      if (run) ranges.push(`${run.key}:${run.first}-${run.last}`);
      run = { key, first: r.offset, last: r.offset };
    }
  }
  if (run) ranges.push(`${run.key}:${run.first}-${run.last}`);
  return `${ranges.join(',')}:${digest.digest('hex').slice(0, 16)}`;
}
