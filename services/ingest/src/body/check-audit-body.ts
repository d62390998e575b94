import type { EventTimeWindow } from '@kaudit/audit-schema';
import { isKauditError } from '@kaudit/errors';
import { checkEvents, type RejectedEvent } from '../publish/build-raw-records.js';
import { parseAuditBody, type BodyProblem } from './parse-audit-body.js';

/**
 * Where an event's bytes are in what a worker thread hands back: a range of the body the caller
 * already holds (the common case: nothing is copied back), or bytes of their own (re-serialised or
 * truncated events).
 */
export type EventBytes = { span: [number, number] } | { bytes: Uint8Array };

export interface CheckBodyTask {
  body: Uint8Array;
  maxDepth: number;
  maxEventBytes: number;
  /** When the request arrived (ms): the reference of the event time window. */
  receivedAtMs: number;
  window: EventTimeWindow;
}

export type CheckedBody =
  | { ok: false; problem: BodyProblem; message: string }
  | {
      ok: true;
      accepted: { value: EventBytes; user: string; truncated?: string }[];
      rejected: (Omit<RejectedEvent, 'value'> & { value: EventBytes })[];
      truncated: number;
    };

/** `value` as a range of `body` when it is a view of it (nothing to copy back from a worker), else its own bytes. */
export function eventBytesIn(body: Buffer, value: Buffer): EventBytes {
  const start = value.byteOffset - body.byteOffset;
  return value.buffer === body.buffer && start >= 0 && start + value.length <= body.length ? { span: [start, start + value.length] } : { bytes: value };
}

/**
 * Parses and validates a webhook body (parseAuditBody + checkEvents) into a result made only of
 * structured-cloneable data with byte ranges instead of buffers, so it can run on a worker thread:
 * JSON.parse and validation are most of ingest's CPU besides Kafka's encoding.
 */
export function checkAuditBody(task: CheckBodyTask): CheckedBody {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  let parsed;
  try {
    parsed = parseAuditBody(body, { maxDepth: task.maxDepth });
  } catch (err) {
    if (!isKauditError(err, 'INPUT_INVALID')) throw err;
    return { ok: false, problem: err.details.problem as BodyProblem, message: err.message };
  }
  const checked = checkEvents(parsed.items, task.maxEventBytes, parsed.originals, { window: task.window, referenceMs: task.receivedAtMs });
  const where = (value: Buffer): EventBytes => eventBytesIn(body, value);
  return {
    ok: true,
    accepted: checked.accepted.map((e) => ({ value: where(e.value), user: e.user, ...(e.truncated !== undefined ? { truncated: e.truncated } : {}) })),
    rejected: checked.rejected.map((r) => ({ ...r, value: where(r.value) })),
    truncated: checked.truncated,
  };
}
