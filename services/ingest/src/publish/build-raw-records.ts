import { checkAuditEvent, type EventCheckRules, type EventProblem } from '@kaudit/audit-schema';
import { RAW_HEADERS, type OutgoingRecord } from '@kaudit/kafka';

export type IngestSource = 'webhook' | 'import';

export interface RawRecordContext {
  /** From the verified identity, never from the body. */
  cluster: string;
  receivedAt: Date;
  source: IngestSource;
  instance: string;
  maxEventBytes: number;
}

export interface RejectedEvent {
  index: number;
  /** The event as JSON bytes, for the DLQ. */
  value: Buffer;
  code: 'INPUT_INVALID' | 'INPUT_TOO_LARGE';
  /** Which rule refused it, for counting (`too-old` / `too-new`: outside the stored time window). */
  problem: EventProblem | 'too-large';
  reason: string;
}

export interface RawRecords {
  records: OutgoingRecord[];
  rejected: RejectedEvent[];
  truncated: number;
}

/** Objects dropped from an oversize event; their names go in the header and the annotation. */
const DROPPABLE = ['requestObject', 'responseObject'] as const;
export const TRUNCATED_ANNOTATION = 'kaudit.io/truncated';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A valid event's bytes as they will be published, and which objects were dropped to fit the limit. */
export interface AcceptedEvent {
  value: Buffer;
  /** `user.username` of the event: with the cluster, its record key (see rawRecordKey). */
  user: string;
  truncated?: string;
}

/**
 * Key of a raw record: the cluster and the user who made the request. One big cluster spreads over
 * the raw topic's partitions — hence over enrich consumers — by its users (issue 16), while the
 * records of one user stay on one partition, in the order the apiserver sent them: enrich keeps that
 * order on the enriched topic (key cluster/actor), where the alert windows read it. Enrich takes the
 * cluster from the `cluster` header, never from this key.
 */
export function rawRecordKey(cluster: string, user: string): string {
  return `${cluster}/${user}`;
}

export interface CheckedEvents {
  accepted: AcceptedEvent[];
  rejected: RejectedEvent[];
  truncated: number;
}

/**
 * Validates each event on its own, by the rule enrich applies too (checkAuditEvent: schema, real
 * instants, a time ClickHouse keeps), so what is accepted here is what gets stored. An event over the
 * per-event limit is kept without its request/response objects and marked, not dropped; refused events
 * are returned for the DLQ with the reason. Needs nothing but plain data, so it can run on a worker thread.
 */
export function checkEvents(items: readonly unknown[], maxEventBytes: number, originals: readonly (Buffer | undefined)[], rules: EventCheckRules): CheckedEvents {
  const accepted: AcceptedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  let truncated = 0;
  items.forEach((item, index) => {
    const checked = checkAuditEvent(item, rules);
    if (!checked.ok || !isRecord(item)) {
      rejected.push({ index, value: originals[index] ?? Buffer.from(JSON.stringify(item) ?? 'null'), code: 'INPUT_INVALID', problem: checked.ok ? 'invalid-event' : checked.problem, reason: checked.ok ? 'invalid audit event: not an object' : checked.reason });
      return;
    }
    const event = item;
    // An anonymous request may carry no username: all of those share one key.
    const user = checked.event.user.username ?? '';
    // The bytes as sent when we have them: no re-serialisation cost, and integers beyond 2^53 stay exact.
    const value = originals[index] ?? Buffer.from(JSON.stringify(event));
    if (value.length <= maxEventBytes) {
      accepted.push({ value, user });
      return;
    }
    const dropped = DROPPABLE.filter((k) => event[k] !== undefined);
    const slim: Record<string, unknown> = { ...event };
    for (const k of dropped) delete slim[k];
    const annotations = isRecord(event.annotations) ? event.annotations : {};
    slim.annotations = { ...annotations, [TRUNCATED_ANNOTATION]: dropped.join(',') };
    const slimValue = Buffer.from(JSON.stringify(slim));
    if (dropped.length === 0 || slimValue.length > maxEventBytes) {
      rejected.push({
        index,
        value,
        code: 'INPUT_TOO_LARGE',
        problem: 'too-large',
        reason: `audit event ${String(event.auditID)} is larger than ${maxEventBytes} bytes even without requestObject/responseObject`,
      });
      return;
    }
    accepted.push({ value: slimValue, user, truncated: dropped.join(',') });
    truncated++;
  });
  return { accepted, rejected, truncated };
}

/** Raw-topic records (one per event, key = cluster/user, the raw headers) for checked events. */
export function toRawRecords(checked: CheckedEvents, ctx: RawRecordContext): RawRecords {
  const baseHeaders = {
    [RAW_HEADERS.cluster]: ctx.cluster,
    [RAW_HEADERS.receivedAt]: ctx.receivedAt.toISOString(),
    [RAW_HEADERS.source]: ctx.source,
    [RAW_HEADERS.instance]: ctx.instance,
  };
  // One key string per user, not one per record: a batch has few users, and kafkajs measures and copies each key.
  const keys = new Map<string, string>();
  const keyOf = (user: string) => {
    let key = keys.get(user);
    if (key === undefined) keys.set(user, (key = rawRecordKey(ctx.cluster, user)));
    return key;
  };
  const records = checked.accepted.map((e): OutgoingRecord => ({
    key: keyOf(e.user),
    value: e.value,
    // Records share the header object unless one carries its own truncation marker.
    headers: e.truncated === undefined ? baseHeaders : { ...baseHeaders, [RAW_HEADERS.truncated]: e.truncated },
  }));
  return { records, rejected: checked.rejected, truncated: checked.truncated };
}

/** checkEvents then toRawRecords: the whole path for callers that already hold parsed items (import). */
export function buildRawRecords(items: readonly unknown[], ctx: RawRecordContext & { window: EventCheckRules['window'] }, originals: readonly (Buffer | undefined)[] = []): RawRecords {
  return toRawRecords(checkEvents(items, ctx.maxEventBytes, originals, { window: ctx.window, referenceMs: ctx.receivedAt.getTime() }), ctx);
}
