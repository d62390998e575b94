import { auditEventSchema, describeIssues } from '@kaudit/audit-schema';
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

/**
 * Validates each event on its own and turns the valid ones into raw-topic records (one record per
 * event, key = cluster). An event over the per-event limit is kept without its request/response
 * objects and marked, not dropped; invalid events are returned for the DLQ with the reason.
 */
export function buildRawRecords(items: readonly unknown[], ctx: RawRecordContext, originals: readonly (Buffer | undefined)[] = []): RawRecords {
  const records: OutgoingRecord[] = [];
  const rejected: RejectedEvent[] = [];
  let truncated = 0;
  const baseHeaders = {
    [RAW_HEADERS.cluster]: ctx.cluster,
    [RAW_HEADERS.receivedAt]: ctx.receivedAt.toISOString(),
    [RAW_HEADERS.source]: ctx.source,
    [RAW_HEADERS.instance]: ctx.instance,
  };
  items.forEach((item, index) => {
    const checked = auditEventSchema.safeParse(item);
    if (!checked.success || !isRecord(item)) {
      rejected.push({ index, value: originals[index] ?? Buffer.from(JSON.stringify(item) ?? 'null'), code: 'INPUT_INVALID', reason: `invalid audit event: ${checked.success ? 'not an object' : describeIssues(checked.error)}` });
      return;
    }
    const event = item;
    // The bytes as sent when we have them: no re-serialisation cost, and integers beyond 2^53 stay exact.
    let value = originals[index] ?? Buffer.from(JSON.stringify(event));
    const headers: Record<string, string> = { ...baseHeaders };
    if (value.length > ctx.maxEventBytes) {
      const dropped = DROPPABLE.filter((k) => event[k] !== undefined);
      const slim: Record<string, unknown> = { ...event };
      for (const k of dropped) delete slim[k];
      const annotations = isRecord(event.annotations) ? event.annotations : {};
      slim.annotations = { ...annotations, [TRUNCATED_ANNOTATION]: dropped.join(',') };
      value = Buffer.from(JSON.stringify(slim));
      if (dropped.length === 0 || value.length > ctx.maxEventBytes) {
        rejected.push({
          index,
          value: originals[index] ?? Buffer.from(JSON.stringify(event)),
          code: 'INPUT_TOO_LARGE',
          reason: `audit event ${String(event.auditID)} is larger than ${ctx.maxEventBytes} bytes even without requestObject/responseObject`,
        });
        return;
      }
      headers[RAW_HEADERS.truncated] = dropped.join(',');
      truncated++;
    }
    records.push({ key: ctx.cluster, value, headers });
  });
  return { records, rejected, truncated };
}
