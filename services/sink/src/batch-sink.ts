import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouse } from '@kaudit/clickhouse';
import { toClickHouseError } from '@kaudit/clickhouse';
import { isKauditError, KauditError } from '@kaudit/errors';
import { ENRICHED_EVENT_INDEX_HEADER, FetchGatherer, type BatchContext, type DeadLetterWriter, type GatherLimits, type IncomingRecord, type RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { AuditRow } from './audit-row.js';
import { jsonLinesBody } from './json-lines-body.js';
import { deduplicationToken, recordsNotStored, type SinkItem, type StoredPositions } from './records-not-stored.js';
import { SINK_BATCHING_DEFAULTS } from './sink-batching-defaults.js';
import type { SinkTarget } from './sink-target.js';

/**
 * ClickHouse codes that mean the schema (not the row) is wrong — table or database missing, migrations not run.
 * toClickHouseError calls them "rejected", but dead-lettering every row for them would empty the topic into
 * the DLQ; they are retried (and logged) until an operator fixes the schema.
 */
const SCHEMA_ERROR_CODES = new Set(['60', '81', '16', '47', '62']);

/**
 * Insert settings that make one Kafka batch exactly one ClickHouse block, which is what the deduplication
 * token identifies: parallel parsing or a small max_insert_block_size could split it, and then a re-sent
 * batch might split differently.
 */
const INSERT_SETTINGS = {
  // One row per Kafka record, even for two records of one event in one block: ReplacingMergeTree would
  // otherwise collapse them while writing the part, and the record the ledger finds no row for would be
  // inserted again after every crash. Duplicates collapse at merge time instead (FINAL / LIMIT 1 BY read one).
  optimize_on_insert: 0,
  input_format_parallel_parsing: 0,
  max_insert_block_size: '10000000',
  min_insert_block_size_rows: '0',
  min_insert_block_size_bytes: '0',
} as const;

/** Rows are written to the insert's body in chunks of about this many bytes (a few hundred rows). */
const BODY_CHUNK_BYTES = 256 * 1024;

interface Pending {
  record: SinkItem;
  row: AuditRow;
}

/** What is dead-lettered: a record, or one event of an enriched.v2 record (its index then goes in the headers). */
interface Undecodable {
  record: SinkItem;
  message: string;
  stage?: string;
}

/** The oldest Kafka timestamp (ms) of `records`. */
function oldestTimestampMs(records: readonly IncomingRecord[]): number {
  let oldest = Infinity;
  for (const r of records) oldest = Math.min(oldest, Number(r.timestamp));
  return oldest;
}

/** One fetch, waiting to be inserted with the other fetches of its block. */
interface Fetched {
  target: SinkTarget;
  /** topic:partition */
  owned: string;
  batch: RecordBatch;
  ctx: BatchContext;
}

export interface BatchSinkDeps {
  clickhouse: ClickHouse;
  database: string;
  /** Topic → what to do with it. */
  targets: ReadonlyMap<string, SinkTarget>;
  deadLetters: DeadLetterWriter;
  telemetry: Telemetry;
  /**
   * How long a new owner of a partition waits for inserts of the previous owner that are still running in
   * ClickHouse before it reads what is stored (then it retries the batch). Default 60 s.
   */
  previousOwnerWaitMs?: number;
  /** How fetches are gathered into inserts (SINK_BATCHING_DEFAULTS for what is not given). */
  batching?: Partial<GatherLimits>;
  /**
   * Called once per INSERT statement that stored rows, for metrics (kaudit_sink_inserts_total), with the oldest
   * Kafka timestamp (ms) of its records: how long the block's oldest row waited before it was stored (the bench).
   */
  onInsert?: (table: string, rows: number, oldestTimestampMs: number) => void;
  /** Called once per inserted or dead-lettered row, for metrics. */
  onRows?: (table: string, outcome: 'inserted' | 'dead_lettered' | 'already_stored' | 'offset_reused', count: number) => void;
}

/**
 * Writes Kafka batches into ClickHouse exactly once (DESIGN.md "Guarantees"; issues 5 and 12).
 *
 * How, and why it holds across crashes, partial inserts, recreated topics and rebalances:
 * 1. Every row stores the record it came from (`_topic`, `_partition`, `_offset`, and the record's Kafka
 *    `_timestamp`; the `by_offset_ts` projection keeps that lookup cheap and is written atomically with each part).
 * 2. Before inserting, the handler asks which of the batch's records are stored — by offset AND timestamp — and
 *    inserts only the others. Not "everything up to the highest stored offset": an INSERT that spans several day
 *    partitions is atomic per part, not per statement, so a crash can leave higher offsets stored without lower
 *    ones. Not "any row at that offset": a recreated topic (or lost Kafka data) starts again at offset 0 while the
 *    table holds the old incarnation's rows there; such a record is inserted and counted as `offset_reused`.
 *    After a crash between insert and commit kafkajs may re-present the range cut differently; the check makes
 *    that harmless, whatever the cut.
 * 3. The rest waits for the other fetches in hand (FetchGatherer: up to a row, byte and time limit), and all of
 *    them are inserted as one block — about one insert per table per half SINK_BATCH_MAX_WAIT_MS and a block's handling at low rates instead
 *    of one per fetch (issue 16) — ordered by topic, partition and offset, with insert_deduplication_token = each
 *    partition's first-last range and a digest (see deduplicationToken), and a deduplication window on the table
 *    (and the rollup behind its materialized view), so a retried insert whose first attempt did land — timed out
 *    on our side, or still running when we asked in step 2 — is dropped by ClickHouse instead of stored twice.
 *    A fetch's handle() resolves (and the consumer commits it) only once its block is in, so nothing merely
 *    buffered is ever committed, and Kafka, not the sink, holds the backlog. A replay may gather other fetches
 *    into other blocks, with other tokens: step 2 and the waits for running inserts (step 4) make that harmless.
 * 4. Offsets are committed by the consumer only after handle() resolves; a ClickHouse outage throws and the
 *    consumer retries the same batch with backoff. Just before each insert the handler asks the consumer whether
 *    this member still owns the partition in the current group generation (BatchContext.isRunning, fed by the
 *    group-join assignments and by rebalance errors on heartbeats); a fenced batch throws instead of inserting,
 *    so a zombie owner does not insert what the new owner is about to. An insert the old owner had already sent
 *    cannot be fenced: every insert carries a query_id naming its partitions, and a new owner's first batch of a
 *    partition (a generation it has not seen) waits until no such insert runs before it reads what is stored;
 *    so does the next batch of a partition whose insert failed (it may still be running: a client-side
 *    timeout), because its retry may be gathered with other fetches and carry another token.
 * Bad data: undecodable records are dead-lettered; a block ClickHouse rejects as bad data is bisected (each
 * half inserted with its own token) down to the single rows it rejects, which are dead-lettered with the server's
 * error. A dead-lettered record has no row, so after a crash it may be dead-lettered a second time: the DLQ is
 * at-least-once, the table exactly-once.
 */
export class BatchSink {
  readonly #deps: BatchSinkDeps;
  /** topic:partition → the consumer generation whose first batch waited for the previous owner's inserts. */
  readonly #generations = new Map<string, number>();
  readonly #gatherer: FetchGatherer<Fetched>;

  constructor(deps: BatchSinkDeps) {
    this.#deps = deps;
    this.#gatherer = new FetchGatherer<Fetched>({ ...SINK_BATCHING_DEFAULTS, ...deps.batching }, (items) => this.#flush(items));
  }

  /** Inserts what waits for company now, and resolves once every insert under way has settled (shutdown). */
  drain(): Promise<void> {
    return this.#gatherer.drain();
  }

  async handle(batch: RecordBatch, ctx: BatchContext): Promise<void> {
    const target = this.#deps.targets.get(batch.topic);
    if (target === undefined) throw new KauditError('INTERNAL', `no sink target for topic ${batch.topic}`);
    const owned = `${batch.topic}:${batch.partition}`;
    // A partition's first fetch in this generation: wait for a previous owner's inserts before its block reads what
    // is stored (step 4), inside join() so the fetches that came with it wait for it instead of being cut without it.
    const previousOwner =
      this.#generations.get(owned) === ctx.generation
        ? undefined
        : async () => {
            await this.#awaitOtherInserts(target.table, batch.topic, batch.partition);
            this.#generations.set(owned, ctx.generation);
          };
    let bytes = 0;
    for (const r of batch.records) bytes += r.value?.length ?? 0;
    await this.#gatherer.join({ item: { target, owned, batch, ctx }, key: owned, rows: batch.records.length, bytes }, previousOwner);
  }

  /**
   * The records of a block's fetches that are not stored yet (step 2), in the fetches' order. One query for the
   * whole block: a query per fetch was six round trips at once to ClickHouse on every insert, a tenth of the time
   * between a fetch's answer and its commit at 100 events/s (issue 16: that time delays the next fetch).
   */
  async #notStored(target: SinkTarget, batches: readonly RecordBatch[]): Promise<{ todo: SinkItem[]; broken: Undecodable[] }> {
    const table = target.table;
    const stored = await this.#storedPositions(table, batches);
    const todo: SinkItem[] = [];
    const broken: Undecodable[] = [];
    for (const batch of batches) {
      const items: SinkItem[] = [];
      for (const record of batch.records) {
        const split = target.items(record);
        if (split.ok) items.push(...split.items);
        // A frame that cannot be cut: dead-lettered whole (its events' bounds are unknown), never guessed at.
        else broken.push({ record, message: split.reason, stage: 'read-frame' });
      }
      todo.push(...(await this.#notStoredOf(target, batch, items, stored.get(`${batch.topic}:${batch.partition}`) ?? new Map())));
    }
    return { todo, broken };
  }

  async #notStoredOf(target: SinkTarget, batch: RecordBatch, items: readonly SinkItem[], stored: StoredPositions): Promise<SinkItem[]> {
    const table = target.table;
    const { todo: candidates, partial, skipped: whole, reused } = recordsNotStored(items, stored);
    let todo = candidates;
    let skipped = whole;
    if (partial.size > 0) {
      // Rare (after a crash or a rejected block): some rows of these records are stored. Their own rows decide.
      const present = await this.#storedIdentities(target, batch, partial);
      todo = candidates.filter((item) => {
        if (!partial.has(item)) return true;
        let row: AuditRow;
        try {
          row = target.toRow(item);
        } catch {
          return true; // undecodable: dead-lettered again by the slow path (the DLQ is at-least-once)
        }
        const stored = present.has(`${item.offset}@${item.timestamp}@${target.identity?.of(row) ?? ''}`);
        if (stored) skipped++;
        return !stored;
      });
    }
    if (skipped > 0) {
      this.#deps.telemetry.emit({
        event: 'already_stored_skipped',
        fields: { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, skipped },
      });
      this.#deps.onRows?.(table, 'already_stored', skipped);
    }
    if (reused > 0) {
      // Rows of other records sit at these offsets: the topic was recreated or Kafka lost data. Stored anyway.
      this.#deps.telemetry.emit({
        event: 'offset_reused_storing',
        level: 'warn',
        fields: { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset, reused },
      });
      this.#deps.onRows?.(table, 'offset_reused', reused);
    }
    return todo;
  }

  /** `offset@timestamp@identity` of the rows stored at the offsets of `items` (records stored in part). */
  async #storedIdentities(target: SinkTarget, batch: RecordBatch, items: ReadonlySet<SinkItem>): Promise<Set<string>> {
    if (target.identity === undefined) throw new KauditError('INTERNAL', `${target.table}: a record stored in part, but rows of it cannot be told apart`);
    const offsets = [...new Set([...items].map((i) => i.offset))];
    try {
      const rs = await this.#deps.clickhouse.query({
        query: `SELECT toString(_offset) AS o, toString(toUnixTimestamp64Milli(_timestamp)) AS t, ${target.identity.sql} AS id
                FROM {db:Identifier}.{table:Identifier}
                WHERE _topic = {topic:String} AND _partition = {partition:UInt16} AND has({offsets:Array(String)}, toString(_offset))`,
        query_params: { db: this.#deps.database, table: target.table, topic: batch.topic, partition: batch.partition, offsets },
        format: 'JSONEachRow',
      });
      return new Set((await rs.json<{ o: string; t: string; id: string }>()).map(({ o, t, id }) => `${o}@${t}@${id}`));
    } catch (err) {
      throw this.#asRetryable(toClickHouseError(err, `reading stored rows of ${target.table}`));
    }
  }

  /** Inserts a block of fetches, one insert per table; a fetch whose partition was revoked meanwhile is left out. */
  async #flush(items: readonly Fetched[]): Promise<ReadonlyMap<Fetched, Error>> {
    const failed = new Map<Fetched, Error>();
    const byTable = new Map<string, Fetched[]>();
    for (const item of items) {
      if (!item.ctx.isRunning()) {
        failed.set(item, new KauditError('KAFKA_UNAVAILABLE', `partition ${item.owned} revoked or consumer stopping while its fetch waited: not inserting`));
        continue;
      }
      const group = byTable.get(item.target.table) ?? [];
      group.push(item);
      byTable.set(item.target.table, group);
    }
    for (const group of byTable.values()) {
      // Deterministic order: by partition, each partition's records in offset order (one fetch per partition).
      group.sort((a, b) => (a.owned < b.owned ? -1 : a.owned > b.owned ? 1 : 0));
      try {
        await this.#insertFetched(group);
      } catch (err) {
        // Its insert may still be running in ClickHouse (a client-side timeout): the retry must wait for it.
        for (const item of group) this.#generations.delete(item.owned);
        const e = err instanceof Error ? err : new KauditError('INTERNAL', String(err));
        for (const item of group) failed.set(item, e);
      }
    }
    return failed;
  }

  async #insertFetched(group: readonly Fetched[]): Promise<void> {
    const first = group[0];
    if (first === undefined) return;
    const target = first.target;
    const ctxs = group.map((g) => g.ctx);
    const { todo, broken } = await this.#notStored(target, group.map((g) => g.batch));
    // Dead letters first: a crash before the rows are in re-sends them at worst (the DLQ is at-least-once).
    await this.#deadLetter(target.table, broken, 'INPUT_INVALID', 'read-frame');
    if (todo.length === 0) return;
    if (await this.#insertStreaming(target, todo, ctxs)) return;

    // Slow path (a record that does not decode, or a block ClickHouse rejected): decode everything first.
    const pending: Pending[] = [];
    const undecodable: Undecodable[] = [];
    for (const record of todo) {
      try {
        pending.push({ record, row: target.toRow(record) });
      } catch (err) {
        if (!isKauditError(err, 'INPUT_INVALID')) throw err;
        undecodable.push({ record, message: err.message });
      }
    }
    // Dead letters first: a crash before the rows are in re-sends them at worst (the DLQ is at-least-once).
    await this.#deadLetter(target.table, undecodable, 'INPUT_INVALID', 'decode');
    if (pending.length === 0) return;
    await this.#insertBisecting(target.table, pending, ctxs);
  }

  /** The query_id prefix of every insert into one table (any replica's). */
  #queryIdPrefix(table: string): string {
    return `kaudit-sink:${this.#deps.database}.${table}:`;
  }

  /**
   * An insert's query_id: the table's prefix, a unique id, then `;topic:partition;` for each partition in the
   * block (Kafka topic names cannot hold `:` or `;`), which is what #awaitOtherInserts looks for.
   */
  #queryId(table: string, records: readonly IncomingRecord[]): string {
    const partitions = new Set(records.map((r) => `${r.topic}:${r.partition}`));
    return `${this.#queryIdPrefix(table)}${randomUUID()};${[...partitions].join(';')};`;
  }

  /** Waits until no insert of this partition is running in ClickHouse (one of a previous owner, sent before it was fenced). */
  async #awaitOtherInserts(table: string, topic: string, partition: number): Promise<void> {
    const prefix = this.#queryIdPrefix(table);
    const needle = `;${topic}:${partition};`;
    const deadline = Date.now() + (this.#deps.previousOwnerWaitMs ?? 60_000);
    for (let polls = 0; ; polls++) {
      let running: number;
      try {
        const rs = await this.#deps.clickhouse.query({
          query: `SELECT toString(count()) AS n FROM system.processes WHERE startsWith(query_id, {prefix:String}) AND position(query_id, {needle:String}) > 0`,
          query_params: { prefix, needle },
          format: 'JSONEachRow',
        });
        running = Number((await rs.json<{ n: string }>())[0]?.n ?? '0');
      } catch (err) {
        throw this.#asRetryable(toClickHouseError(err, `looking for running inserts of ${topic}:${partition}`));
      }
      if (running === 0) return;
      if (Date.now() >= deadline) {
        throw new KauditError('CLICKHOUSE_UNAVAILABLE', `an insert of ${topic}:${partition} into ${table} by a previous owner is still running; not reading the table before it ends`);
      }
      if (polls === 0) this.#deps.telemetry.emit({ event: 'previous_owner_insert_running', fields: { table, topic, partition, running } });
      await sleep(200);
    }
  }

  /**
   * Just before an insert: this member must still own every partition of the block (a heartbeat, which reports a
   * rebalance — one is enough, it is the member's — then the consumer's ownership checks). Throwing leaves the
   * block's fetches uncommitted for whoever owns them now.
   */
  async #ensureOwner(ctxs: readonly BatchContext[]): Promise<void> {
    await ctxs[0]?.heartbeat();
    if (!ctxs.every((ctx) => ctx.isRunning())) throw new KauditError('KAFKA_UNAVAILABLE', 'partition revoked or consumer stopping: not inserting');
  }

  /**
   * Fast path: records are decoded while the insert streams, so Avro decoding overlaps with ClickHouse parsing
   * instead of preceding it. A record that does not decode aborts the stream (pipeline destroys the request, so
   * the unfinished block is never committed) and the slow path takes over; so does a block ClickHouse rejects.
   * Resolves true when the whole block was inserted.
   *
   * The body is JSONEachRow text written in chunks of many rows, sent with exec(): the client's insert() takes a
   * stream of row objects and writes each row to the socket as its own chunk, and those per-row stream and
   * socket writes cost the sink more CPU than building the rows (issue 16). Same statement, rows, order,
   * settings and deduplication token as insert() would send.
   */
  async #insertStreaming(target: SinkTarget, records: readonly IncomingRecord[], ctxs: readonly BatchContext[]): Promise<boolean> {
    const token = deduplicationToken(records);
    await this.#ensureOwner(ctxs);
    let undecodable = false;
    function* lines(): Generator<string> {
      for (const record of records) {
        let row: AuditRow;
        try {
          row = target.toRow(record);
        } catch (err) {
          if (isKauditError(err, 'INPUT_INVALID')) undecodable = true;
          throw err;
        }
        yield JSON.stringify(row);
      }
    }
    try {
      const result = await this.#deps.clickhouse.exec({
        query: `INSERT INTO ${this.#deps.database}.${target.table} FORMAT JSONEachRow`,
        query_id: this.#queryId(target.table, records),
        values: Readable.from(jsonLinesBody(lines(), BODY_CHUNK_BYTES), { objectMode: false }),
        clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token },
      });
      // The (empty) response must be read to the end before the socket goes back to the pool.
      await finished(result.stream.resume());
    } catch (err) {
      if (undecodable) return false;
      const e = this.#asRetryable(toClickHouseError(err, `insert into ${target.table} (${token})`));
      if (e.code === 'CLICKHOUSE_REJECTED') return false;
      throw e;
    }
    this.#deps.onInsert?.(target.table, records.length, oldestTimestampMs(records));
    this.#deps.onRows?.(target.table, 'inserted', records.length);
    return true;
  }

  /**
   * For each fetch's partition (`topic:partition`): offset → Kafka timestamps of the rows stored between the fetch's
   * first and last offset (inclusive). A partition with nothing stored there has no entry.
   */
  async #storedPositions(table: string, batches: readonly Pick<RecordBatch, 'topic' | 'partition' | 'firstOffset' | 'lastOffset'>[]): Promise<ReadonlyMap<string, StoredPositions>> {
    const byPartition = new Map<string, Map<string, Map<string, number>>>();
    if (batches.length === 0) return byPartition;
    const params: Record<string, string | number> = { db: this.#deps.database, table };
    const ranges = batches.map((b, i) => {
      Object.assign(params, { [`t${i}`]: b.topic, [`p${i}`]: b.partition, [`f${i}`]: b.firstOffset, [`l${i}`]: b.lastOffset });
      return `(_topic = {t${i}:String} AND _partition = {p${i}:UInt16} AND _offset BETWEEN {f${i}:UInt64} AND {l${i}:UInt64})`;
    });
    try {
      const rs = await this.#deps.clickhouse.query({
        query: `SELECT _topic AS k, toString(_partition) AS p, toString(_offset) AS o, toString(toUnixTimestamp64Milli(_timestamp)) AS t, toString(count()) AS n
                FROM {db:Identifier}.{table:Identifier} WHERE ${ranges.join(' OR ')} GROUP BY _topic, _partition, _offset, _timestamp`,
        query_params: params,
        format: 'JSONEachRow',
      });
      for (const { k, p, o, t, n } of await rs.json<{ k: string; p: string; o: string; t: string; n: string }>()) {
        const key = `${k}:${p}`;
        const stored = byPartition.get(key) ?? new Map<string, Map<string, number>>();
        byPartition.set(key, stored);
        const timestamps = stored.get(o) ?? new Map<string, number>();
        timestamps.set(t, (timestamps.get(t) ?? 0) + Number(n));
        stored.set(o, timestamps);
      }
      return byPartition;
    } catch (err) {
      throw this.#asRetryable(toClickHouseError(err, `reading stored offsets of ${table}`));
    }
  }

  async #insertBisecting(table: string, block: Pending[], ctxs: readonly BatchContext[]): Promise<void> {
    const token = deduplicationToken(block.map((p) => p.record));
    await this.#ensureOwner(ctxs);
    try {
      await this.#deps.clickhouse.insert({
        table: `${this.#deps.database}.${table}`,
        query_id: this.#queryId(table, block.map((p) => p.record)),
        values: block.map((p) => p.row),
        format: 'JSONEachRow',
        clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token },
      });
      this.#deps.onInsert?.(table, block.length, oldestTimestampMs(block.map((p) => p.record)));
      this.#deps.onRows?.(table, 'inserted', block.length);
      return;
    } catch (err) {
      const e = this.#asRetryable(toClickHouseError(err, `insert into ${table} (${token})`));
      if (e.code !== 'CLICKHOUSE_REJECTED') throw e;
      if (block.length === 1) {
        const only = block[0] as Pending;
        await this.#deadLetter(table, [{ record: only.record, message: e.message }], 'CLICKHOUSE_REJECTED', 'insert');
        return;
      }
      this.#deps.telemetry.emit({ event: 'insert_rejected_bisecting', level: 'warn', fields: { table, token, rows: block.length, error: e.message } });
    }
    const mid = Math.ceil(block.length / 2);
    await this.#insertBisecting(table, block.slice(0, mid), ctxs);
    await this.#insertBisecting(table, block.slice(mid), ctxs);
  }

  #asRetryable(err: KauditError): KauditError {
    const code = err.details.clickhouseCode;
    if (err.code === 'CLICKHOUSE_REJECTED' && typeof code === 'string' && SCHEMA_ERROR_CODES.has(code)) {
      return new KauditError('CLICKHOUSE_UNAVAILABLE', `${err.message} (schema problem: are the migrations applied?)`, { cause: err, details: err.details });
    }
    return err;
  }

  async #deadLetter(
    table: string,
    items: readonly Undecodable[],
    code: 'INPUT_INVALID' | 'CLICKHOUSE_REJECTED',
    stage: string,
  ): Promise<void> {
    if (items.length === 0) return;
    await this.#deps.deadLetters.sendMany(
      items.map(({ record, message }) => ({
        // An event of an enriched.v2 record: its own bytes, the record's headers and its index in the record.
        original: {
          value: record.value,
          key: record.key,
          headers: record.eventIndex === undefined ? record.headers : { ...record.headers, [ENRICHED_EVENT_INDEX_HEADER]: Buffer.from(String(record.eventIndex)) },
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
        },
        reason: { code, message, stage },
      })),
    );
    for (const { record, message } of items) {
      this.#deps.telemetry.emit({
        event: 'row_dead_lettered',
        level: 'warn',
        fields: { table, code, stage, topic: record.topic, partition: record.partition, offset: record.offset, reason: message.slice(0, 500) },
      });
    }
    this.#deps.onRows?.(table, 'dead_lettered', items.length);
  }
}
