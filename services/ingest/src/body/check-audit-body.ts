import type { EventTimeWindow } from '@kaudit/audit-schema';
import { isKauditError } from '@kaudit/errors';
import { checkEvents, type AcceptedEvent, type RejectedEvent } from '../publish/build-raw-records.js';
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

/**
 * The accepted events of a body in a few arrays rather than an object per event: a worker thread's answer is
 * structured-cloned, and 400 small objects (each with its range and user) cost ~1.2 µs per event to post and
 * receive, typed arrays and a short list of users ~0.02 (issue 16). Read back with acceptedEvents().
 */
export interface AcceptedEvents {
  count: number;
  /** Per event, where its bytes are in the body (start, end), or -1, -1 when they are its own (in `own`). */
  spans: Int32Array;
  /** Events with bytes of their own (re-serialised, or truncated to fit the per-event limit), by index. */
  own: { index: number; bytes: Uint8Array; truncated?: string }[];
  /** The distinct users, and each event's index into them. */
  users: string[];
  userOf: Uint32Array;
}

export type CheckedBody =
  | { ok: false; problem: BodyProblem; message: string }
  | {
      ok: true;
      accepted: AcceptedEvents;
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
    accepted: compactAccepted(body, checked.accepted),
    rejected: checked.rejected.map((r) => ({ ...r, value: where(r.value) })),
    truncated: checked.truncated,
  };
}

function compactAccepted(body: Buffer, accepted: readonly AcceptedEvent[]): AcceptedEvents {
  const spans = new Int32Array(accepted.length * 2);
  const userOf = new Uint32Array(accepted.length);
  const own: AcceptedEvents['own'] = [];
  const users: string[] = [];
  const userIndex = new Map<string, number>();
  accepted.forEach((e, i) => {
    let u = userIndex.get(e.user);
    if (u === undefined) {
      u = users.push(e.user) - 1;
      userIndex.set(e.user, u);
    }
    userOf[i] = u;
    const where = eventBytesIn(body, e.value);
    if ('span' in where && e.truncated === undefined) {
      spans[2 * i] = where.span[0];
      spans[2 * i + 1] = where.span[1];
      return;
    }
    spans[2 * i] = -1;
    spans[2 * i + 1] = -1;
    own.push({ index: i, bytes: e.value, ...(e.truncated !== undefined ? { truncated: e.truncated } : {}) });
  });
  return { count: accepted.length, spans, own, users, userOf };
}

/** The accepted events again, their values views of `body` (the one the worker checked) or their own bytes. */
export function acceptedEvents(body: Buffer, a: AcceptedEvents): AcceptedEvent[] {
  const out = new Array<AcceptedEvent>(a.count);
  for (let i = 0; i < a.count; i++) {
    const start = a.spans[2 * i] as number;
    out[i] = { value: start < 0 ? body.subarray(0, 0) : body.subarray(start, a.spans[2 * i + 1]), user: a.users[a.userOf[i] as number] as string };
  }
  for (const o of a.own) {
    const user = a.users[a.userOf[o.index] as number] as string;
    out[o.index] = { value: Buffer.from(o.bytes.buffer, o.bytes.byteOffset, o.bytes.byteLength), user, ...(o.truncated !== undefined ? { truncated: o.truncated } : {}) };
  }
  return out;
}
