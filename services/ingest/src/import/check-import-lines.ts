import { isUtf8 } from 'node:buffer';
import type { EventTimeWindow } from '@kaudit/audit-schema';
import { eventBytesIn, type EventBytes } from '../body/check-audit-body.js';
import { checkEvents, type RejectedEvent } from '../publish/build-raw-records.js';
import { normalizeImportLine, type ImportFormat } from './normalize-import-record.js';

export interface CheckImportLinesTask {
  /** Whole lines of an import file (the reader cuts at newlines). */
  chunk: Uint8Array;
  format: ImportFormat;
  maxEventBytes: number;
  /** When the import started (ms): the reference of the event time window. */
  receivedAtMs: number;
  window: EventTimeWindow;
}

/** Only structured-cloneable data, with byte ranges of the chunk instead of buffers: it comes back from a worker thread. */
export interface CheckedImportLines {
  /** Non-blank lines read (each one record of the summary). */
  records: number;
  /** `user` is the event's user.username, half of its raw record key (rawRecordKey). */
  accepted: { value: EventBytes; user: string; truncated?: string }[];
  rejected: (Omit<RejectedEvent, 'value'> & { value: EventBytes })[];
  truncated: number;
  /** The record (1-based, within the chunk) each event came from, by event index (accepted and rejected alike). */
  eventRecords: number[];
  /** Lines that held no event that could be read, with their bytes for the DLQ. */
  failed: { record: number; reason: string; value: EventBytes }[];
}

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Reads, normalises and validates a chunk of JSON lines (normalizeImportLine + checkEvents, the webhook's own
 * rule). An event that is its line unchanged (an apiserver log line) is published as the line's bytes, so the
 * common case costs one JSON.parse and no JSON.stringify. Pure, so it runs on a worker thread.
 */
export function checkImportLines(task: CheckImportLinesTask): CheckedImportLines {
  const chunk = Buffer.from(task.chunk.buffer, task.chunk.byteOffset, task.chunk.byteLength);
  // Invalid UTF-8 is read as U+FFFD, as a text decoder does; such a line's bytes are not published as they are.
  const utf8 = isUtf8(chunk);
  const items: unknown[] = [];
  const originals: (Buffer | undefined)[] = [];
  const eventRecords: number[] = [];
  const failed: CheckedImportLines['failed'] = [];
  let records = 0;
  for (let start = 0; start < chunk.length; ) {
    const newline = chunk.indexOf(NEWLINE, start);
    const next = newline === -1 ? chunk.length : newline + 1;
    const end = newline === -1 ? chunk.length : chunk[newline - 1] === CR && newline - 1 >= start ? newline - 1 : newline;
    const bytes = chunk.subarray(start, end);
    start = next;
    const line = bytes.toString('utf8');
    if (line.trim() === '') continue;
    const record = ++records;
    const normalized = normalizeImportLine(line, task.format);
    if (!normalized.ok) {
      failed.push({ record, reason: normalized.reason, value: { span: [bytes.byteOffset - chunk.byteOffset, bytes.byteOffset - chunk.byteOffset + bytes.length] } });
      continue;
    }
    const verbatim = normalized.verbatim === true && (utf8 || isUtf8(bytes));
    for (const event of normalized.events) {
      items.push(event);
      originals.push(verbatim ? bytes : undefined);
      eventRecords.push(record);
    }
  }
  const checked = checkEvents(items, task.maxEventBytes, originals, { window: task.window, referenceMs: task.receivedAtMs });
  return {
    records,
    accepted: checked.accepted.map((e) => ({ value: eventBytesIn(chunk, e.value), user: e.user, ...(e.truncated !== undefined ? { truncated: e.truncated } : {}) })),
    rejected: checked.rejected.map((r) => ({ ...r, value: eventBytesIn(chunk, r.value) })),
    truncated: checked.truncated,
    eventRecords,
    failed,
  };
}
