import { auditEventSchema, describeIssues, type AuditEvent } from '@kaudit/audit-schema';
import { KauditError } from '@kaudit/errors';
import { RAW_HEADERS, headerString, type IncomingRecord } from '@kaudit/kafka';
import type { RawMeta } from './build-audit-record.js';

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
 */
export function decodeRawRecord(record: IncomingRecord): DecodedRaw {
  const cluster = headerString(record.headers, RAW_HEADERS.cluster) ?? record.key?.toString('utf8');
  if (!cluster) throw new RawDecodeError('read-headers', 'record has neither a cluster header nor a key');
  if (record.value === null || record.value.length === 0) throw new RawDecodeError('parse-json', 'record has no value');
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch (cause) {
    throw new RawDecodeError('parse-json', `value is not JSON: ${(cause as Error).message}`, cause);
  }
  const parsed = auditEventSchema.safeParse(json);
  if (!parsed.success) throw new RawDecodeError('validate-event', `not an audit event: ${describeIssues(parsed.error)}`);
  const receivedAt = headerString(record.headers, RAW_HEADERS.receivedAt);
  // Without the header (an older ingest, a hand-made record) the broker timestamp is the best proxy.
  const ingestedMs = receivedAt !== undefined ? Date.parse(receivedAt) : Number(record.timestamp);
  if (Number.isNaN(ingestedMs)) throw new RawDecodeError('read-headers', `invalid ${RAW_HEADERS.receivedAt} header: ${receivedAt ?? ''}`);
  return {
    event: parsed.data,
    meta: { cluster, ingestedUs: ingestedMs * 1000, truncated: record.headers[RAW_HEADERS.truncated] !== undefined },
  };
}
