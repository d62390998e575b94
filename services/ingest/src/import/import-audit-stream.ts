import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pick from 'stream-json/filters/pick.js';
import parser from 'stream-json/parser.js';
import streamValues from 'stream-json/streamers/stream-values.js';
import { isKauditError, KauditError } from '@kaudit/errors';
import { eventBuffer } from '../body/body-checker.js';
import type { IngestContext, IngestPipeline, IngestResult } from '../ingest-pipeline.js';
import type { CheckedEvents } from '../publish/build-raw-records.js';
import type { CheckedImportLines } from './check-import-lines.js';
import { ImportLineChecker } from './import-line-checker.js';
import { wholeLineChunks } from './whole-line-chunks.js';
import { normalizeImportRecord, type ImportFormat, type Normalized } from './normalize-import-record.js';

export interface ImportProgress {
  /** Bytes read from the input so far. */
  bytes: number;
  /** Lines (or JSON document elements) read. */
  records: number;
  /** Events acknowledged on the raw topic. */
  accepted: number;
}

export interface ImportSummary extends ImportProgress {
  /** Events found in the input (accepted + rejected). */
  events: number;
  /** All refused events (invalid, or outside the time window), each in the DLQ. */
  rejected: number;
  /** Of those: older than the retention keeps (ClickHouse's TTL would delete them on arrival). */
  tooOld: number;
  /** Of those: further ahead of this clock than KAUDIT_MAX_FUTURE_SKEW_MS. */
  tooNew: number;
  truncated: number;
  /** Lines/elements that could not be read or held an invalid event; all of them are in the DLQ. */
  failedRecords: number;
  /** The first few failures, for the summary the CLI prints. */
  failures: { record: number; reason: string }[];
  /** How the input was read: JSON lines, or one JSON document streamed element by element. */
  mode: 'lines' | 'document';
}

export interface ImportOptions {
  input: AsyncIterable<Buffer | string>;
  format: ImportFormat;
  cluster: string;
  pipeline: IngestPipeline;
  onProgress?: (progress: ImportProgress) => void;
  now?: () => Date;
  /** Events per publish of a JSON document; bounded so memory stays flat whatever the file size. */
  batchEvents?: number;
  batchBytes?: number;
  /** JSON lines: bytes of whole lines read, checked and published as one batch. */
  chunkBytes?: number;
  /** JSON lines: worker threads reading and validating chunks (0: on the event loop). */
  parseThreads?: number;
  /**
   * JSON lines: a checker the caller started (and stops) ahead of time, so its threads load while Kafka
   * connects; without it the import starts one of `parseThreads` threads itself.
   */
  checker?: ImportLineChecker;
}

/**
 * Bytes per producer send: a send's records may all land on one partition (today every raw record's key is the
 * cluster), and the broker refuses a partition batch over message.max.bytes (1 MiB by default). The bench's raw
 * baseline sends the same records in sends of this size.
 */
export const IMPORT_SEND_BYTES = 900 * 1024;
/** JSON lines chunks: one check task and one publish each (about 1,000 apiserver log lines). */
const CHUNK_BYTES = 1024 * 1024;
/** Reads of an import file: a chunk's worth each, so a chunk is rarely pieced together from many reads. */
export const IMPORT_READ_BYTES = CHUNK_BYTES;
/**
 * Chunks published and not yet acknowledged: the next one is queued while one is on the wire (the producer
 * keeps one kafkajs send in flight), so the wire never waits for the reader.
 */
const MAX_PUBLISHING = 2;

const PEEK_BYTES = 64 * 1024;
const MAX_FAILURES_LISTED = 20;

/**
 * Chooses how to read the input: one JSON document (a pretty-printed EventList, an array of log
 * entries, `{"records": […]}`) is streamed element by element; anything else is JSON lines.
 */
function detectMode(head: string, format: ImportFormat): 'lines' | 'document' {
  if (format === 'eventlist') return 'document';
  const trimmed = head.trimStart();
  if (trimmed.startsWith('[')) return 'document';
  if (!trimmed.startsWith('{')) return 'lines';
  const newline = trimmed.indexOf('\n');
  const first = newline === -1 ? trimmed : trimmed.slice(0, newline);
  if (newline === -1 && trimmed.length >= PEEK_BYTES) return 'document'; // a first line longer than the peek: one big document
  try {
    JSON.parse(first);
    return 'lines';
  } catch {
    return 'document';
  }
}

/**
 * Streams an audit export through the same validation and publishing path as the webhook
 * (source=import), with bounded memory: records are read, normalised, published in bounded batches
 * (JSON lines: checked on worker threads while earlier chunks are on the wire; a JSON document: each
 * batch acknowledged before reading on), and counted as accepted only once Kafka acknowledged them. Bad records go to the DLQ and are counted;
 * so are events outside the time window (older than the retention: history the TTL would delete on
 * arrival), counted apart so the summary can say so.
 */
export async function importAuditStream(options: ImportOptions): Promise<ImportSummary> {
  const now = options.now ?? (() => new Date());
  const batchEvents = options.batchEvents ?? 500;
  const batchBytes = options.batchBytes ?? 2 * 1024 * 1024;
  const summary: ImportSummary = { bytes: 0, records: 0, accepted: 0, events: 0, rejected: 0, tooOld: 0, tooNew: 0, truncated: 0, failedRecords: 0, failures: [], mode: 'lines' };
  const failedRecords = new Set<number>();
  const noteFailure = (record: number, reason: string) => {
    if (!failedRecords.has(record) && summary.failures.length < MAX_FAILURES_LISTED) summary.failures.push({ record, reason });
    failedRecords.add(record);
  };

  // Peek at the head to choose the mode, then replay it in front of the rest of the input.
  const source = options.input[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let headSize = 0;
  let exhausted = false;
  while (headSize < PEEK_BYTES) {
    const next = await source.next();
    if (next.done === true) {
      exhausted = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    headChunks.push(chunk);
    headSize += chunk.length;
  }
  const head = Buffer.concat(headChunks);
  summary.mode = detectMode(head.toString('utf8'), options.format);
  const replay = Readable.from(
    (async function* () {
      summary.bytes += head.length;
      yield head;
      if (exhausted) return;
      for (;;) {
        const next = await source.next();
        if (next.done === true) return;
        const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
        summary.bytes += chunk.length;
        yield chunk;
      }
    })(),
    { objectMode: false },
  );

  // What a published batch adds to the summary once Kafka acknowledged it.
  const account = (result: IngestResult, recordOf: (eventIndex: number) => number) => {
    summary.accepted += result.accepted;
    summary.rejected += result.rejected;
    summary.truncated += result.truncated;
    for (const e of result.errors) {
      noteFailure(recordOf(e.index), e.reason);
      if (e.problem === 'too-old') summary.tooOld++;
      else if (e.problem === 'too-new') summary.tooNew++;
    }
    summary.failedRecords = failedRecords.size;
    options.onProgress?.({ bytes: summary.bytes, records: summary.records, accepted: summary.accepted });
  };

  if (summary.mode === 'lines') {
    await importLines(replay, options, summary, noteFailure, account);
    summary.failedRecords = failedRecords.size;
    return summary;
  }

  let events: unknown[] = [];
  let eventRecord: number[] = [];
  let pendingBytes = 0;
  let deadLetters: Promise<unknown>[] = [];
  const flush = async () => {
    const batch = events;
    const recordOf = eventRecord;
    const dlq = deadLetters;
    events = [];
    eventRecord = [];
    deadLetters = [];
    pendingBytes = 0;
    const published = batch.length > 0 ? options.pipeline.ingestEvents(batch, { cluster: options.cluster, source: 'import', receivedAt: now() }) : undefined;
    // Settle everything before failing, so no dead-letter write rejects unobserved.
    const [result, ...dead] = await Promise.allSettled([published, ...dlq]);
    for (const outcome of [result, ...dead]) if (outcome?.status === 'rejected') throw outcome.reason;
    if (result?.status === 'fulfilled' && result.value !== undefined) account(result.value, (index) => recordOf[index] ?? -1);
    else {
      summary.failedRecords = failedRecords.size;
      options.onProgress?.({ bytes: summary.bytes, records: summary.records, accepted: summary.accepted });
    }
  };
  const take = async (normalized: Normalized, raw: string) => {
    const record = ++summary.records;
    if (!normalized.ok) {
      noteFailure(record, normalized.reason);
      deadLetters.push(
        options.pipeline.deadLetter(Buffer.from(raw), { cluster: options.cluster, source: 'import', receivedAt: now() }, { code: 'INPUT_INVALID', message: `record ${record}: ${normalized.reason}`, stage: 'import-normalize' }),
      );
    } else {
      for (const e of normalized.events) {
        events.push(e);
        eventRecord.push(record);
      }
      summary.events += normalized.events.length;
    }
    pendingBytes += raw.length;
    if (events.length >= batchEvents || pendingBytes >= batchBytes || deadLetters.length >= batchEvents) await flush();
  };

  // Elements of a top-level array, or of the arrays that hold records in the known wrappers.
  // pipeline() (not .pipe) so a malformed document fails the import instead of hanging it.
  try {
    await pipeline(replay, parser.asStream(), pick.asStream({ filter: /^((items|records|events|logEvents)\.)?\d+$/ }), streamValues.asStream(), async (values: AsyncIterable<{ value: unknown }>) => {
      for await (const item of values) {
        await take(normalizeImportRecord(item.value, options.format), JSON.stringify(item.value) ?? 'null');
      }
    });
  } catch (err) {
    // Dead letters already handed over must settle first (none may reject unobserved).
    await Promise.allSettled(deadLetters);
    if (isKauditError(err)) throw err;
    // A broken document cannot be resynchronised like a bad line can: stop, saying how far it got.
    throw new KauditError(
      'INPUT_INVALID',
      `malformed JSON document after ${summary.records} element(s) and ${summary.bytes} bytes: ${(err as Error).message} (for one JSON object per line use --format jsonl)`,
      { cause: err },
    );
  }
  await flush();
  return summary;
}

/**
 * Worker threads checking lines: one per core besides the event loop's, two at most. (Not ingest's rule, which parses
 * on the event loop on two cores: an import is one reader streaming a file, not measured on two cores against the
 * loop; bench/import.ts is where to decide it.)
 */
export function defaultImportThreads(): number {
  return Math.min(2, Math.max(1, availableParallelism() - 1));
}

type NoteFailure = (record: number, reason: string) => void;
type Account = (result: IngestResult, recordOf: (eventIndex: number) => number) => void;

/** Settles `p` even if nobody awaits it yet (a rejection waiting in a queue is not unhandled), keeping its outcome. */
function held<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * JSON lines: chunks of whole lines are checked on worker threads while earlier chunks are published, in file
 * order; a chunk counts as accepted only once Kafka acknowledged it. Bounded: a few chunks being checked,
 * MAX_PUBLISHING being published. On a failure everything already started settles before the import fails.
 */
async function importLines(input: AsyncIterable<Buffer>, options: ImportOptions, summary: ImportSummary, noteFailure: NoteFailure, account: Account): Promise<void> {
  const now = options.now ?? (() => new Date());
  const threads = options.parseThreads ?? defaultImportThreads();
  const checker = options.checker ?? new ImportLineChecker({ threads });
  const window = options.pipeline.window;
  const maxEventBytes = options.pipeline.maxEventBytes;
  const checking: { chunk: Buffer; ctx: IngestContext; result: Promise<CheckedImportLines> }[] = [];
  const publishing: Promise<void>[] = [];
  const maxChecking = Math.max(2, threads + 1);

  // The next checked chunk, in file order: dead letters for its unreadable lines, its events to the raw topic.
  const publishNext = async () => {
    const next = checking.shift();
    if (next === undefined) return;
    const { chunk, ctx } = next;
    const checked = await next.result;
    const base = summary.records;
    summary.records += checked.records;
    summary.events += checked.eventRecords.length;
    const deadLetters = checked.failed.map((f) => {
      noteFailure(base + f.record, f.reason);
      return options.pipeline.deadLetter(eventBuffer(chunk, f.value), ctx, { code: 'INPUT_INVALID', message: `record ${base + f.record}: ${f.reason}`, stage: 'import-normalize' });
    });
    const events: CheckedEvents = {
      accepted: checked.accepted.map((e) => ({ value: eventBuffer(chunk, e.value), user: e.user, ...(e.truncated !== undefined ? { truncated: e.truncated } : {}) })),
      rejected: checked.rejected.map((r) => ({ ...r, value: eventBuffer(chunk, r.value) })),
      truncated: checked.truncated,
    };
    const published = events.accepted.length + events.rejected.length > 0 ? options.pipeline.ingestChecked(events, ctx) : undefined;
    publishing.push(
      held(
        (async () => {
          // Settle everything before failing, so no dead-letter write rejects unobserved.
          const [result, ...dead] = await Promise.allSettled([published, ...deadLetters]);
          for (const outcome of [result, ...dead]) if (outcome?.status === 'rejected') throw outcome.reason;
          const recordOf = (index: number) => {
            const record = checked.eventRecords[index];
            return record === undefined ? -1 : base + record;
          };
          account(result?.status === 'fulfilled' && result.value !== undefined ? result.value : { accepted: 0, rejected: 0, truncated: 0, errors: [] }, recordOf);
        })(),
      ),
    );
    while (publishing.length >= MAX_PUBLISHING) await publishing.shift();
  };

  if (options.checker === undefined) checker.start();
  try {
    for await (const chunk of wholeLineChunks(input, options.chunkBytes ?? CHUNK_BYTES)) {
      const receivedAt = now();
      const ctx: IngestContext = { cluster: options.cluster, source: 'import', receivedAt };
      checking.push({ chunk, ctx, result: held(checker.check({ chunk, format: options.format, maxEventBytes, window, receivedAtMs: receivedAt.getTime() })) });
      while (checking.length >= maxChecking) await publishNext();
    }
    while (checking.length > 0) await publishNext();
    while (publishing.length > 0) await publishing.shift();
  } catch (err) {
    await Promise.allSettled([...publishing, ...checking.map((c) => c.result)]);
    throw err;
  } finally {
    if (options.checker === undefined) await checker.stop();
  }
}
