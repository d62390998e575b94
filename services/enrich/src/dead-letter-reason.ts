import { isKauditError, type ErrorCode } from '@kaudit/errors';
import { RawDecodeError } from './normalize/decode-raw-record.js';

/** Why a raw record is dead-lettered: the DLQ headers' code, stage and message. */
export interface DeadLetterReason {
  code: ErrorCode;
  stage: string;
  message: string;
}

/** The reason of an enrich failure (on the event loop or on an enrich thread, alike). */
export function deadLetterReason(error: unknown): DeadLetterReason {
  if (error instanceof RawDecodeError) return { code: error.code, stage: error.stage, message: error.message };
  if (isKauditError(error)) return { code: error.code, stage: 'enrich', message: error.message };
  // Anything else is a bug in enrich (e.g. Avro refused a built record): still dead-letter with the
  // original bytes so the partition moves and the record can be replayed after the fix.
  return { code: 'INTERNAL', stage: 'enrich', message: error instanceof Error ? error.message : String(error) };
}
