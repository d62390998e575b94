import { FetchGatherer, groupEnrichedRecords, RAW_EVENT_INDEX_HEADER, splitRawRecord, type BatchHandler, type DeadLetterWriter, type IncomingRecord, type OutgoingRecord, type Producer, type RecordBatch } from '@kaudit/kafka';
import type { Telemetry } from '@kaudit/logging';
import type { EnrichMetrics } from './enrich-metrics.js';
import type { EnrichOutcome, Enricher } from './enricher.js';
import { deadLetterReason, type DeadLetterReason } from './dead-letter-reason.js';
import type { EnrichThreads } from './threads/enrich-threads.js';

export interface EnrichHandlerDeps {
  enricher: Enricher;
  producer: Producer;
  deadLetters: DeadLetterWriter;
  outputTopic: string;
  metrics: EnrichMetrics;
  telemetry: Telemetry;
  /** Enrich threads (ENRICH_THREADS > 0): batches are enriched there instead of on the event loop. */
  threads?: EnrichThreads | undefined;
  /**
   * Batches the consumer can hand over at once (its partitionsConsumedConcurrently); default 1. Those handed over
   * together — the partitions of one fetch — are produced together, see createEnrichHandler.
   */
  gatherUpTo?: number;
}

/**
 * Below the broker default message.max.bytes (1 MiB) with margin: usually one produce per fetched
 * batch (each produce is a full acks=all round trip), never a MESSAGE_TOO_LARGE that would retry forever.
 */
const MAX_SEND_BYTES = 900 * 1024;
/** Per-record framing plus our headers (schema fingerprint, cluster), counted with key and value. */
const RECORD_OVERHEAD_BYTES = 160;

function byteSize(value: string | Buffer | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/** Splits items into runs whose summed size stays under `max` (an item larger than `max` goes alone). */
export function chunkBySize<T>(items: readonly T[], size: (item: T) => number, max: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const s = size(item);
    if (current.length > 0 && bytes + s > max) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += s;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The consumer's batch handler: enrich every record of the batch (identity lookups run
 * concurrently), produce the enriched records, dead-letter the rest, and resolve only once both
 * writes are acknowledged — the consumer then commits. A Kafka failure throws, so the batch is
 * retried, never skipped.
 *
 * The batches of one fetch (kafkajs hands them to the handlers in one turn of the event loop) are produced
 * together: one run of produce requests filled up to MAX_SEND_BYTES for all of them, instead of one run per
 * partition, each with its own acks=all round trip and encoding — at 5,000 events/s over 6 partitions those
 * serial round trips, not the enrichment, set the pace of a fetch (issue 15/16: enrich fell behind, and the
 * bigger batches that came with it cost more GC per event). Each batch still resolves only after the whole
 * block it is in was acknowledged, and all of them fail if any part of it failed (each is then retried on
 * its own). Per-key order holds: a key's records come from one input partition, a block holds at most one
 * batch of a partition (FetchGatherer), its records keep the batch's order, and requests go out one after
 * another.
 */
export function createEnrichHandler(deps: EnrichHandlerDeps): BatchHandler {
  type Dead = Parameters<DeadLetterWriter['sendMany']>[0][number];

  /** What the DLQ keeps of a raw event (or of a whole record whose frame is damaged): its bytes, headers, position. */
  const deadRecord = (raw: IncomingRecord, reason: DeadLetterReason): Dead => {
    deps.telemetry.emit({ event: 'record_dead_lettered', level: 'warn', fields: { code: reason.code, stage: reason.stage, reason: reason.message.slice(0, 300), partition: raw.partition, offset: raw.offset } });
    return { original: { value: raw.value, key: raw.key, headers: raw.headers, topic: raw.topic, partition: raw.partition, offset: raw.offset }, reason };
  };

  /** `out`: the enriched.v2 records; `events`: how many enriched events they carry. */
  type Slice = { out: OutgoingRecord[]; events: number; dead: Dead[] };

  const enrichSlice = async (fetched: readonly IncomingRecord[]): Promise<Slice> => {
    // A raw.v2 record carries many events: each is enriched (or dead-lettered, alone) as a v1 record would be,
    // in the record's order. `records` are the events; `eventIndex` says which of its record's events one is
    // (-1: a v1 record), for the DLQ. A damaged frame is dead-lettered whole: its event bounds are unknown.
    const records: IncomingRecord[] = [];
    const eventIndex: number[] = [];
    const broken: Dead[] = [];
    for (const record of fetched) {
      const split = splitRawRecord(record);
      if (!split.ok) {
        broken.push(deadRecord(record, { code: 'INPUT_INVALID', stage: 'read-frame', message: split.reason }));
        continue;
      }
      for (let i = 0; i < split.events.length; i++) {
        records.push(split.events[i] as IncomingRecord);
        eventIndex.push(split.layout === 'v1' ? -1 : i);
      }
    }
    // Each record is finished before the next is decoded (enrich is synchronous unless a remote directory is
    // asked), so only its Avro bytes outlive it; the records that wait for a remote lookup wait concurrently.
    // Slots keep the batch's order for what is produced and dead-lettered.
    const slots: (OutgoingRecord | Dead | undefined)[] = new Array<OutgoingRecord | Dead | undefined>(records.length);
    const waiting: Promise<void>[] = [];
    // Counted per slice, not per record: a labelled inc() hashes its labels on every call.
    const operations = new Map<string, number>();
    const enriched = (i: number, out: OutgoingRecord, operation: string): void => {
      slots[i] = out;
      operations.set(operation, (operations.get(operation) ?? 0) + 1);
    };
    const deadLettered = (i: number, raw: IncomingRecord, reason: DeadLetterReason): void => {
      const index = eventIndex[i] as number;
      slots[i] = deadRecord(index < 0 ? raw : { ...raw, headers: { ...raw.headers, [RAW_EVENT_INDEX_HEADER]: Buffer.from(String(index)) } }, reason);
    };
    const place = (outcome: EnrichOutcome, i: number, raw: IncomingRecord): void => {
      if (outcome.ok) enriched(i, outcome.out, outcome.record.operation);
      else deadLettered(i, raw, deadLetterReason(outcome.error));
    };
    const onEventLoop = (i: number, raw: IncomingRecord): void => {
      const outcome = deps.enricher.enrich(raw);
      if (outcome instanceof Promise) waiting.push(outcome.then((o) => place(o, i, raw)));
      else place(outcome, i, raw);
    };
    if (deps.threads !== undefined && records.length > 0) {
      const outcomes = await deps.threads.enrich(records);
      for (let i = 0; i < records.length; i++) {
        const raw = records[i] as IncomingRecord;
        const outcome = outcomes[i];
        if (outcome === undefined || outcome.kind === 'on-event-loop') {
          // The HTTP directory is asked about this one: the event loop's resolver owns it (cache, breaker, metrics).
          onEventLoop(i, raw);
          continue;
        }
        // Counted here as the event loop's resolver counts its own (kaudit_enrich_identities_total).
        if (outcome.resolvedBy !== '') deps.metrics.identityResolved(outcome.resolvedBy, 'skipped');
        if (outcome.kind === 'enriched') enriched(i, outcome.out, outcome.operation);
        else deadLettered(i, raw, outcome.reason);
      }
    } else {
      for (let i = 0; i < records.length; i++) onEventLoop(i, records[i] as IncomingRecord);
    }
    if (waiting.length > 0) await Promise.all(waiting);
    const out: OutgoingRecord[] = [];
    const dead: Dead[] = broken;
    for (const slot of slots) {
      if (slot === undefined) continue;
      if ('original' in slot) dead.push(slot);
      else out.push(slot);
    }
    for (const [operation, count] of operations) deps.metrics.operations.inc({ operation }, count);
    // enriched.v2: one record per key of this batch (up to its bounds) instead of one per event, so the produce,
    // the broker and the sink's and alert's consumers pay their per-record costs ~a key's events less often.
    return { out: groupEnrichedRecords(out), events: out.length, dead };
  };

  const send = async (blocks: readonly Slice[]): Promise<void> => {
    const out = blocks.length === 1 ? (blocks[0]?.out ?? []) : blocks.flatMap((b) => b.out);
    const dead = blocks.length === 1 ? (blocks[0]?.dead ?? []) : blocks.flatMap((b) => b.dead);
    // Size-bounded chunks keep each produce request under the broker's message.max.bytes (a fetched
    // batch can hold more than one produce may carry); sent one after another to keep order.
    for (const chunk of chunkBySize(out, (r) => byteSize(r.value) + byteSize(r.key) + RECORD_OVERHEAD_BYTES, MAX_SEND_BYTES)) await deps.producer.send(deps.outputTopic, chunk);
    for (const chunk of chunkBySize(dead, (d) => byteSize(d.original.value) + 1024, MAX_SEND_BYTES)) await deps.deadLetters.sendMany(chunk);
    let events = 0;
    for (const b of blocks) events += b.events;
    deps.metrics.records.inc({ outcome: 'enriched' }, events);
    deps.metrics.records.inc({ outcome: 'dead_lettered' }, dead.length);
  };

  // Never lingers: a block is cut once the burst of batches that brought it has been handed over, or at once when
  // every batch the consumer can hold is in it. Nothing waits beyond the batches in hand (Kafka keeps the backlog).
  const gatherer = new FetchGatherer<Slice>(
    { maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER, lingerMs: 1, lingerBelowRows: 0, maxHeld: deps.gatherUpTo ?? 1 },
    async (blocks) => {
      await send(blocks);
      return new Map();
    },
  );

  return async (batch: RecordBatch) => {
    // The whole batch is enriched, then produced with the others of its fetch in as few requests as fit under
    // message.max.bytes. (Measured: pipelining smaller slices to overlap CPU with produce cost more in extra
    // produce round trips than it saved; the handler resolves — and the consumer commits — only after the
    // last send of its block is acknowledged.)
    const enriched = await enrichSlice(batch.records);
    await gatherer.join({ item: enriched, key: `${batch.topic}:${batch.partition}`, rows: batch.records.length, bytes: 0 });
    const behind = BigInt(batch.highWatermark) - BigInt(batch.lastOffset) - 1n;
    deps.metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(behind < 0n ? 0n : behind));
  };
}
