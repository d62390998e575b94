import { checkAuditEvent, decodeJson, type AuditEvent, type EventTimeWindow } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { RAW_HEADERS, type IncomingRecord } from '@kaudit/kafka';
import type { RawMeta } from './build-audit-record.js';
import { RawHeaderMemo } from './raw-header-memo.js';

export interface DecodedRaw {
  event: AuditEvent;
  meta: RawMeta;
}

/** Where decoding failed, for the DLQ `stage` header. */
export class RawDecodeError extends KauditError {
  readonly stage: string;
  constructor(stage: string, message: string, cause?: unknown) {
    super('INPUT_INVALID', message, cause === undefined ? {} : { cause });
    this.name = 'RawDecodeError';
    this.stage = stage;
  }
}

/**
 * One `kaudit.audit.raw.v1` record → audit Event + what the headers say. Throws RawDecodeError
 * (INPUT_INVALID) when the record cannot be enriched; the caller dead-letters it.
 *
 * The bytes are read and checked exactly as ingest did before acknowledging them (decodeJson +
 * checkAuditEvent from @kaudit/audit-schema), with ingest's `received-at` as the reference of the time
 * window: what ingest accepted decodes here, whenever it is consumed. What is still refused here came
 * from elsewhere (an older ingest, a hand-made record) or an ingest with another retention setting.
 *
 * `memo`: the caller's, kept across the records it decodes (the events of a raw.v2 record share its headers).
 */
export function decodeRawRecord(record: IncomingRecord, window: EventTimeWindow, memo: RawHeaderMemo = new RawHeaderMemo()): DecodedRaw {
  const clusterHeader = record.headers[RAW_HEADERS.cluster];
  // Keys are `cluster` (before issue 16) or `cluster/user`; cluster names never hold a '/'.
  const cluster = clusterHeader !== undefined ? memo.cluster(clusterHeader) : record.key?.toString('utf8').split('/', 1)[0];
  if (!cluster) throw new RawDecodeError('read-headers', 'record has neither a cluster header nor a key');
  if (record.value === null || record.value.length === 0) throw new RawDecodeError('parse-json', 'record has no value');
  const receivedAtHeader = record.headers[RAW_HEADERS.receivedAt];
  const receivedAt = receivedAtHeader !== undefined ? memo.receivedAt(receivedAtHeader) : undefined;
  // Without the header (an older ingest, a hand-made record) the broker timestamp is the best proxy.
  const ingestedMs = receivedAt !== undefined ? receivedAt.ms : Number(record.timestamp);
  // The header is ours, written by ingest as an ISO date; its text is not body content.
  if (Number.isNaN(ingestedMs)) throw new RawDecodeError('read-headers', `invalid ${RAW_HEADERS.receivedAt} header: ${(receivedAt?.text ?? '').slice(0, 40)}`);
  const json = decodeJson(record.value);
  // The message names the problem and position only: the value may hold a Secret (issue 11).
  if (!json.ok) throw new RawDecodeError('parse-json', `value is not JSON: ${json.message}`);
  const checked = checkAuditEvent(json.value, { window, referenceMs: ingestedMs });
  if (!checked.ok) throw new RawDecodeError('validate-event', checked.reason);
  return {
    event: checked.event,
    meta: { cluster, ingestedUs: ingestedMs * 1000, truncated: record.headers[RAW_HEADERS.truncated] !== undefined, requestReceivedUs: checked.requestReceivedUs, stageUs: checked.stageUs },
  };
}
