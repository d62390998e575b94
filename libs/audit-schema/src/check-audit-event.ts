import { fastAcceptAuditEvent } from './fast-accept-audit-event.js';
import { auditEventSchema, describeIssues, type AuditEvent } from './k8s-audit-event.js';
import { parseRfc3339 } from './parse-rfc3339.js';

const DAY_MS = 86_400_000;

/**
 * Which event times kaudit stores: ClickHouse deletes a row `retentionDays` after its event time
 * (the TTL of audit_events), so an older event would be deleted on arrival, silently.
 */
export interface EventTimeWindow {
  /** KAUDIT_RETENTION_DAYS: the TTL of audit_events and the rollups. */
  retentionDays: number;
  /** KAUDIT_MAX_FUTURE_SKEW_MS: how far past the receiving clock an event time may be (apiserver clock skew). */
  maxFutureSkewMs: number;
}

/**
 * An event must reach ClickHouse with at least this much time left before the TTL deletes it: a sink
 * behind by up to a day still stores it, and it is then deleted by retention like any other row.
 */
export const RETENTION_HEADROOM_MS = DAY_MS;

/** The oldest and newest event time accepted for something received at `referenceMs`. */
export function acceptedTimeRange(window: EventTimeWindow, referenceMs: number): { oldestMs: number; newestMs: number } {
  return { oldestMs: referenceMs - window.retentionDays * DAY_MS + RETENTION_HEADROOM_MS, newestMs: referenceMs + window.maxFutureSkewMs };
}

/** Why an event is refused: `invalid-event` (schema), `invalid-time` (no such instant), `too-old` / `too-new` (outside the window). */
export type EventProblem = 'invalid-event' | 'invalid-time' | 'too-old' | 'too-new';

export type CheckedAuditEvent =
  | { ok: true; event: AuditEvent; requestReceivedUs: number; stageUs: number }
  | { ok: false; problem: EventProblem; reason: string };

export interface EventCheckRules {
  window: EventTimeWindow;
  /** When the event was received (ingest's clock; enrich reads it from the `received-at` header), ms. */
  referenceMs: number;
}

const TIME_FIELDS = ['requestReceivedTimestamp', 'stageTimestamp'] as const;

/** Bodies kaudit keeps as they are (zod reads them as unknown, so nothing in them is rebuilt or lost). */
const OPAQUE_FIELDS = new Set(['requestObject', 'responseObject']);

/**
 * Where an own `__proto__` key sits (JSON.parse makes one from `"__proto__": …`), outside the opaque bodies:
 * zod's copy of an object or record leaves such a key out, so the event would be stored without it — a
 * silent loss. Refused instead, which dead-letters the event's original bytes.
 */
function ownProtoKeyPath(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 8) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = ownProtoKeyPath(value[i], `${path}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (key === '__proto__') return at;
    if (depth === 0 && OPAQUE_FIELDS.has(key)) continue;
    const found = ownProtoKeyPath((value as Record<string, unknown>)[key], at, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The one acceptance rule of kaudit, shared by ingest (which answers the apiserver) and enrich (which
 * would otherwise dead-letter after the 200): the audit Event schema, real calendar instants, and event
 * times ClickHouse will keep. Given the same bytes and the same `received-at`, both decide alike, so
 * every event ingest acknowledges is one enrich can store. Reasons name the field and the rule; they
 * quote only the timestamp, which the schema has already restricted to digits and separators.
 */
export function checkAuditEvent(value: unknown, rules: EventCheckRules): CheckedAuditEvent {
  // The fast check accepts only what zod accepts; everything else (and every reason) is zod's.
  let event = fastAcceptAuditEvent(value);
  if (event === undefined) {
    const protoKey = ownProtoKeyPath(value);
    if (protoKey !== undefined) return { ok: false, problem: 'invalid-event', reason: `invalid audit event: ${protoKey}: a "__proto__" key is not accepted (it would be lost from the stored event)` };
    const parsed = auditEventSchema.safeParse(value);
    if (!parsed.success) return { ok: false, problem: 'invalid-event', reason: `invalid audit event: ${describeIssues(parsed.error)}` };
    event = parsed.data;
  }
  const { oldestMs, newestMs } = acceptedTimeRange(rules.window, rules.referenceMs);
  const micros: number[] = [];
  for (const field of TIME_FIELDS) {
    const ts = event[field];
    const time = parseRfc3339(ts);
    if (!time.ok) return { ok: false, problem: 'invalid-time', reason: `${field}: ${time.reason}` };
    const ms = time.micros / 1000;
    if (ms < oldestMs) {
      return {
        ok: false,
        problem: 'too-old',
        reason: `${field} ${ts} is older than the retention keeps (KAUDIT_RETENTION_DAYS=${rules.window.retentionDays}: events from ${new Date(oldestMs).toISOString()} on); ClickHouse would delete it on arrival`,
      };
    }
    if (ms > newestMs) {
      return {
        ok: false,
        problem: 'too-new',
        reason: `${field} ${ts} is more than ${rules.window.maxFutureSkewMs} ms ahead of the receiving clock (KAUDIT_MAX_FUTURE_SKEW_MS; latest accepted ${new Date(newestMs).toISOString()})`,
      };
    }
    micros.push(time.micros);
  }
  return { ok: true, event, requestReceivedUs: micros[0] as number, stageUs: micros[1] as number };
}
