import { checkAuditEvent, type EventCheckRules, type EventProblem } from '@kaudit/audit-schema';
import { encodeRawBatches, RAW_BATCH_LIMITS, RAW_HEADERS, type OutgoingRecord, type RawBatchLimits } from '@kaudit/kafka';

export type IngestSource = 'webhook' | 'import';

export interface RawRecordContext {
  /** From the verified identity, never from the body. */
  cluster: string;
  receivedAt: Date;
  source: IngestSource;
  instance: string;
  maxEventBytes: number;
  /** How many events and bytes one raw record holds at most (default RAW_BATCH_LIMITS). */
  batchLimits?: RawBatchLimits;
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
  /** kaudit.audit.raw.v2 records: each holds several of the accepted events (raw-batch-codec.ts). */
  records: OutgoingRecord[];
  /** Events in `records`, all together. */
  accepted: number;
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

/**
 * Raw-topic records (kaudit.audit.raw.v2) for checked events: one user's events of this body go in as few records
 * as the limits allow (issue 16: the per-record cost of kafkajs, the broker and enrich, not the events, was most of
 * it), each event's bytes kept as they are. Per user, so the key (cluster/user) still spreads one big cluster over
 * partitions and keeps each user's events in the order the apiserver sent them.
 */
export function toRawRecords(checked: CheckedEvents, ctx: RawRecordContext): RawRecords {
  // All of this body's records share one header object: the truncated marks are per event, in the value.
  const headers = {
    [RAW_HEADERS.cluster]: ctx.cluster,
    [RAW_HEADERS.receivedAt]: ctx.receivedAt.toISOString(),
    [RAW_HEADERS.source]: ctx.source,
    [RAW_HEADERS.instance]: ctx.instance,
  };
  // Users in the order they first appear; each one's events in body order.
  const byUser = new Map<string, AcceptedEvent[]>();
  for (const e of checked.accepted) {
    const events = byUser.get(e.user);
    if (events === undefined) byUser.set(e.user, [e]);
    else events.push(e);
  }
  const records: OutgoingRecord[] = [];
  for (const [user, events] of byUser) {
    const key = rawRecordKey(ctx.cluster, user);
    for (const value of encodeRawBatches(events, ctx.batchLimits ?? RAW_BATCH_LIMITS)) records.push({ key, value, headers });
  }
  return { records, accepted: checked.accepted.length, rejected: checked.rejected, truncated: checked.truncated };
}

/** checkEvents then toRawRecords: the whole path for callers that already hold parsed items (import). */
export function buildRawRecords(items: readonly unknown[], ctx: RawRecordContext & { window: EventCheckRules['window'] }, originals: readonly (Buffer | undefined)[] = []): RawRecords {
  return toRawRecords(checkEvents(items, ctx.maxEventBytes, originals, { window: ctx.window, referenceMs: ctx.receivedAt.getTime() }), ctx);
}
