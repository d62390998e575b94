import { describe, expect, it } from 'vitest';
import { decodeRawBatch, RAW_HEADERS, type OutgoingRecord, type RawBatchEvent } from '@kaudit/kafka';
import { sampleAuditEvent } from '../fixtures/sample-audit-event.js';
import { buildRawRecords, TRUNCATED_ANNOTATION } from './build-raw-records.js';

/** The events framed in one raw.v2 record. */
function eventsOf(record: OutgoingRecord | undefined): RawBatchEvent[] {
  const decoded = decodeRawBatch(record?.value as Buffer);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.events;
}
const json = (e: RawBatchEvent | undefined): Record<string, unknown> => JSON.parse(String(e?.value)) as Record<string, unknown>;

const ctx = { cluster: 'prod-eu', receivedAt: new Date('2026-11-22T15:00:00.123Z'), source: 'webhook' as const, instance: 'host/1', maxEventBytes: 4096, window: { retentionDays: 365, maxFutureSkewMs: 3_600_000 } };

describe('buildRawRecords', () => {
  it('puts one user\'s events of a body in one record, keyed by the verified cluster and the user, with the raw headers', () => {
    const { records, rejected, accepted } = buildRawRecords([sampleAuditEvent(1), sampleAuditEvent(2)], ctx);
    expect(rejected).toEqual([]);
    expect(accepted).toBe(2);
    expect(records).toHaveLength(1);
    expect(records[0]?.key).toBe(`prod-eu/${String((sampleAuditEvent(1).user as { username: string }).username)}`);
    expect(records[0]?.headers).toEqual({
      [RAW_HEADERS.cluster]: 'prod-eu',
      [RAW_HEADERS.receivedAt]: '2026-11-22T15:00:00.123Z',
      [RAW_HEADERS.source]: 'webhook',
      [RAW_HEADERS.instance]: 'host/1',
    });
    expect(eventsOf(records[0]).map(json)).toEqual([sampleAuditEvent(1), sampleAuditEvent(2)]);
  });

  it('spreads one cluster by user: one record per user, each user\'s events in body order (truncated ones too)', () => {
    const as = (n: number, username: string | undefined, extra: Record<string, unknown> = {}) => sampleAuditEvent(n, { user: username === undefined ? {} : { username }, ...extra });
    const { records } = buildRawRecords([as(1, 'alice'), as(2, 'bob'), as(3, 'alice', { responseObject: { data: 'x'.repeat(10_000) } }), as(4, undefined), as(5, 'bob')], ctx);
    expect(records.map((r) => r.key)).toEqual(['prod-eu/alice', 'prod-eu/bob', 'prod-eu/']);
    expect(records.map((r) => eventsOf(r).map((e) => json(e).auditID))).toEqual([[as(1, 'a').auditID, as(3, 'a').auditID], [as(2, 'b').auditID, as(5, 'b').auditID], [as(4, 'c').auditID]]);
    expect(eventsOf(records[0]).map((e) => e.truncated)).toEqual([undefined, 'requestObject,responseObject']);
  });

  it('cuts a long run of one user into records within the limits, in order', () => {
    const items = Array.from({ length: 23 }, (_, i) => sampleAuditEvent(i + 1));
    const { records, accepted } = buildRawRecords(items, { ...ctx, batchLimits: { maxEvents: 10, maxBytes: 1 << 20 } });
    expect(accepted).toBe(23);
    expect(records.map((r) => eventsOf(r).length)).toEqual([10, 10, 3]);
    expect(records.flatMap((r) => eventsOf(r).map((e) => json(e).auditID))).toEqual(items.map((e) => e.auditID));
  });

  it('rejects invalid events with the reason and keeps the rest', () => {
    const noId = sampleAuditEvent(2);
    delete noId.auditID;
    const { records, rejected } = buildRawRecords([sampleAuditEvent(1), noId, sampleAuditEvent(3, { stage: 'Bogus' }), 'text'], ctx);
    expect(records.flatMap(eventsOf)).toHaveLength(1);
    expect(rejected.map((r) => r.index)).toEqual([1, 2, 3]);
    expect(rejected[0]?.reason).toContain('auditID');
    expect(rejected[1]?.reason).toContain('stage');
    expect(JSON.parse(String(rejected[0]?.value))).toEqual(noId);
  });

  it('keeps an oversize event without its objects, marked as truncated', () => {
    const big = sampleAuditEvent(5, { responseObject: { data: 'x'.repeat(10_000) } });
    const { records, rejected, truncated } = buildRawRecords([big], ctx);
    expect(rejected).toEqual([]);
    expect(truncated).toBe(1);
    const [event] = eventsOf(records[0]);
    const value = json(event);
    expect(value.responseObject).toBeUndefined();
    expect(value.requestObject).toBeUndefined();
    expect(value.auditID).toBe(big.auditID);
    expect((value.annotations as Record<string, string>)[TRUNCATED_ANNOTATION]).toBe('requestObject,responseObject');
    // The mark is the event's own, in the frame (v1 had it as the record's header).
    expect(event?.truncated).toBe('requestObject,responseObject');
    expect(records[0]?.headers?.[RAW_HEADERS.truncated]).toBeUndefined();
  });

  it('dead-letters an event still too large without its objects', () => {
    const huge = sampleAuditEvent(6, { annotations: { big: 'y'.repeat(10_000) } });
    const { records, rejected } = buildRawRecords([huge], ctx);
    expect(records).toEqual([]);
    expect(rejected[0]?.code).toBe('INPUT_TOO_LARGE');
  });

  it('publishes the original bytes of an event when given, re-serialising only a truncated one', () => {
    const original = Buffer.from(JSON.stringify(sampleAuditEvent(7)).replace('"generation":42', '"generation":12345678901234567890'));
    const { records } = buildRawRecords([JSON.parse(original.toString()) as unknown], ctx, [original]);
    expect(eventsOf(records[0])[0]?.value.equals(original)).toBe(true);
    const big = sampleAuditEvent(8, { responseObject: { data: 'x'.repeat(10_000) } });
    const truncated = buildRawRecords([big], ctx, [Buffer.from(JSON.stringify(big))]);
    expect(eventsOf(truncated.records[0])[0]?.value.length).toBeLessThan(4096);
  });
});
