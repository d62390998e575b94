import { Readable } from 'node:stream';
import type { ClickHouse } from '@kaudit/clickhouse';
import { toClickHouseError } from '@kaudit/clickhouse';
import { isKauditError, KauditError } from '@kaudit/errors';
import type { BatchContext, DeadLetterWriter, IncomingRecord, RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { AuditRow } from './audit-row.js';
import { deduplicationToken, recordsAfter } from './records-after.js';
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
  input_format_parallel_parsing: 0,
  max_insert_block_size: '10000000',
  min_insert_block_size_rows: '0',
  min_insert_block_size_bytes: '0',
} as const;

interface Pending {
  record: IncomingRecord;
  row: AuditRow;
}

export interface BatchSinkDeps {
  clickhouse: ClickHouse;
  database: string;
  /** Topic → what to do with it. */
  targets: ReadonlyMap<string, SinkTarget>;
  deadLetters: DeadLetterWriter;
  telemetry: Telemetry;
  /** Called once per inserted or dead-lettered row, for metrics. */
  onRows?: (table: string, outcome: 'inserted' | 'dead_lettered' | 'already_stored', count: number) => void;
}

/**
 * Writes Kafka batches into ClickHouse exactly once (DESIGN.md "Guarantees"; issue 5).
 *
 * How, and why it holds across crashes:
 * 1. Every row stores where it came from (`_topic`, `_partition`, `_offset`; the `by_offset` projection keeps
 *    that lookup cheap and is written atomically with each part).
 * 2. For one partition, rows reach ClickHouse strictly in offset order: a batch is inserted only after every
 *    earlier offset was inserted or dead-lettered (the consumer handles one batch per partition at a time and
 *    commits only after this handler resolved; dead letters are written BEFORE the rows after them are
 *    inserted). So "the highest stored offset ≥ the batch's first offset is M" means every offset ≤ M is done.
 * 3. Before inserting, the handler asks for that M and leaves out the records ≤ M. After a crash between insert
 *    and commit, kafkajs may re-present the range cut differently (fetch sizes vary), so a re-cut batch could
 *    never match the old token; asking ClickHouse what it holds makes the cut deterministic: the already-stored
 *    prefix is recognised exactly and skipped (the "re-cut to end at M and re-insert with the identical
 *    token" would only work for one insert per batch; skipping also covers batches that needed several inserts).
 * 4. Everything else is inserted as one block with insert_deduplication_token = topic:partition:first-last and a
 *    deduplication window on the table (and the rollup behind its materialized view), so a retried insert whose
 *    first attempt did land — timed out on our side, or still running when we asked in step 3 — is dropped by
 *    ClickHouse instead of stored twice.
 * 5. Offsets are committed by the consumer only after handle() resolves; a ClickHouse outage throws and the
 *    consumer retries the same batch with backoff. A batch whose partition was revoked meanwhile throws
 *    instead of inserting, so a zombie owner does not insert what the new owner is about to.
 * Bad data: undecodable records are dead-lettered; a block ClickHouse rejects as bad data is bisected (each
 * half inserted with its own range token, left to right so step 2 still holds) down to the single rows it
 * rejects, which are dead-lettered with the server's error. After a crash, rows dead-lettered past M may be
 * dead-lettered a second time: the DLQ is at-least-once, the table exactly-once.
 */
export class BatchSink {
  readonly #deps: BatchSinkDeps;

  constructor(deps: BatchSinkDeps) {
    this.#deps = deps;
  }

  async handle(batch: RecordBatch, ctx: BatchContext): Promise<void> {
    const target = this.#deps.targets.get(batch.topic);
    if (target === undefined) throw new KauditError('INTERNAL', `no sink target for topic ${batch.topic}`);
    const storedMax = await this.storedMaxOffset(target.table, batch.topic, batch.partition, batch.firstOffset);
    const todo = recordsAfter(batch.records, storedMax);
    const skipped = batch.records.length - todo.length;
    if (skipped > 0) {
      this.#deps.telemetry.emit({
        event: 'already_stored_skipped',
        fields: { topic: batch.topic, partition: batch.partition, firstOffset: batch.firstOffset, storedMax: String(storedMax), skipped },
      });
      this.#deps.onRows?.(target.table, 'already_stored', skipped);
    }
    if (todo.length === 0) return;
    if (!ctx.isRunning()) throw new KauditError('KAFKA_UNAVAILABLE', 'partition revoked or consumer stopping: not inserting');
    if (await this.#insertStreaming(target, todo)) return;

    // Slow path (a record that does not decode, or a block ClickHouse rejected): decode everything first.
    const pending: Pending[] = [];
    const undecodable: { record: IncomingRecord; message: string }[] = [];
    for (const record of todo) {
      try {
        pending.push({ record, row: target.toRow(record) });
      } catch (err) {
        if (!isKauditError(err, 'INPUT_INVALID')) throw err;
        undecodable.push({ record, message: err.message });
      }
    }
    // Dead letters first: once a later offset is stored, step 2 above assumes these are handled.
    await this.#deadLetter(target.table, undecodable, 'INPUT_INVALID', 'decode');
    if (pending.length === 0) return;
    await this.#insertBisecting(target.table, pending);
  }

  /**
   * Fast path: records are decoded while the insert streams, so Avro decoding overlaps with ClickHouse parsing
   * instead of preceding it. A record that does not decode aborts the stream (pipeline destroys the request, so
   * the unfinished block is never committed) and the slow path takes over; so does a block ClickHouse rejects.
   * Resolves true when the whole block was inserted.
   */
  async #insertStreaming(target: SinkTarget, records: readonly IncomingRecord[]): Promise<boolean> {
    const token = deduplicationToken(records);
    let undecodable = false;
    function* rows(): Generator<AuditRow> {
      for (const record of records) {
        let row: AuditRow;
        try {
          row = target.toRow(record);
        } catch (err) {
          if (isKauditError(err, 'INPUT_INVALID')) undecodable = true;
          throw err;
        }
        yield row;
      }
    }
    try {
      await this.#deps.clickhouse.insert({
        table: `${this.#deps.database}.${target.table}`,
        values: Readable.from(rows(), { objectMode: true }),
        format: 'JSONEachRow',
        clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token },
      });
    } catch (err) {
      if (undecodable) return false;
      const e = this.#asRetryable(toClickHouseError(err, `insert into ${target.table} (${token})`));
      if (e.code === 'CLICKHOUSE_REJECTED') return false;
      throw e;
    }
    this.#deps.onRows?.(target.table, 'inserted', records.length);
    return true;
  }

  /** Highest `_offset` stored for the partition at or after `from`, or null. */
  async storedMaxOffset(table: string, topic: string, partition: number, from: string): Promise<bigint | null> {
    try {
      const rs = await this.#deps.clickhouse.query({
        query: `SELECT toString(maxOrNull(_offset)) AS m FROM {db:Identifier}.{table:Identifier}
                WHERE _topic = {topic:String} AND _partition = {partition:UInt16} AND _offset >= {from:UInt64}`,
        query_params: { db: this.#deps.database, table, topic, partition, from },
        format: 'JSONEachRow',
      });
      const [row] = await rs.json<{ m: string | null }>();
      return row?.m === null || row?.m === undefined ? null : BigInt(row.m);
    } catch (err) {
      throw this.#asRetryable(toClickHouseError(err, `reading stored offsets of ${table}`));
    }
  }

  async #insertBisecting(table: string, block: Pending[]): Promise<void> {
    const token = deduplicationToken(block.map((p) => p.record));
    try {
      await this.#deps.clickhouse.insert({
        table: `${this.#deps.database}.${table}`,
        values: block.map((p) => p.row),
        format: 'JSONEachRow',
        clickhouse_settings: { ...INSERT_SETTINGS, insert_deduplication_token: token },
      });
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
    await this.#insertBisecting(table, block.slice(0, mid));
    await this.#insertBisecting(table, block.slice(mid));
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
    items: readonly { record: IncomingRecord; message: string }[],
    code: 'INPUT_INVALID' | 'CLICKHOUSE_REJECTED',
    stage: string,
  ): Promise<void> {
    if (items.length === 0) return;
    await this.#deps.deadLetters.sendMany(
      items.map(({ record, message }) => ({
        original: { value: record.value, key: record.key, headers: record.headers, topic: record.topic, partition: record.partition, offset: record.offset },
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
