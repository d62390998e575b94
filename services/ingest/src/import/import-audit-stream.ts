import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pick from 'stream-json/filters/pick.js';
import parser from 'stream-json/parser.js';
import streamValues from 'stream-json/streamers/stream-values.js';
import { isKauditError, KauditError } from '@kaudit/errors';
import type { IngestPipeline } from '../ingest-pipeline.js';
import { normalizeImportLine, normalizeImportRecord, type ImportFormat, type Normalized } from './normalize-import-record.js';

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
  /** Events per publish; bounded so memory stays flat whatever the file size. */
  batchEvents?: number;
  batchBytes?: number;
}

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
 * (source=import), with bounded memory: records are read, normalised, published in bounded batches,
 * and reading waits for each batch's acknowledgement. Bad records go to the DLQ and are counted;
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
    if (result?.status === 'fulfilled' && result.value !== undefined) {
      summary.accepted += result.value.accepted;
      summary.rejected += result.value.rejected;
      summary.truncated += result.value.truncated;
      for (const e of result.value.errors) {
        noteFailure(recordOf[e.index] ?? -1, e.reason);
        if (e.problem === 'too-old') summary.tooOld++;
        else if (e.problem === 'too-new') summary.tooNew++;
      }
    }
    summary.failedRecords = failedRecords.size;
    options.onProgress?.({ bytes: summary.bytes, records: summary.records, accepted: summary.accepted });
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

  if (summary.mode === 'lines') {
    const lines = createInterface({ input: replay, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.trim() === '') continue;
      await take(normalizeImportLine(line, options.format), line);
    }
  } else {
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
  }
  await flush();
  return summary;
}
