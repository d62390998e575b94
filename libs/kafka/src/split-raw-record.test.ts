import { describe, expect, it } from 'vitest';
import { encodeRawBatches } from './raw-batch-codec.js';
import { splitRawRecord } from './split-raw-record.js';
import { RAW_HEADERS } from './topics.js';
import type { IncomingRecord } from './types.js';

const headers = { [RAW_HEADERS.cluster]: Buffer.from('prod-eu'), [RAW_HEADERS.receivedAt]: Buffer.from('2026-12-02T06:00:00.000Z') };
const record = (value: Buffer, extra: Record<string, Buffer> = {}): IncomingRecord => ({ topic: 'raw', partition: 4, offset: '77', key: Buffer.from('prod-eu/alice'), value, headers: { ...headers, ...extra }, timestamp: '1764655200000' });

describe('splitRawRecord', () => {
  it('passes a v1 record through as its one event', () => {
    const v1 = record(Buffer.from('{"auditID":"a"}'), { [RAW_HEADERS.truncated]: Buffer.from('responseObject') });
    expect(splitRawRecord(v1)).toEqual({ ok: true, layout: 'v1', events: [v1] });
  });

  it('gives each event of a v2 record as a v1 record would be: own bytes, the record\'s headers and position, its own truncated mark', () => {
    const values = ['{"auditID":"a"}', '{"auditID":"b"}', '{"auditID":"c"}'].map((s) => Buffer.from(s));
    const [value] = encodeRawBatches([{ value: values[0] as Buffer }, { value: values[1] as Buffer, truncated: 'requestObject,responseObject' }, { value: values[2] as Buffer }]);
    // A record-level truncated header (hand-made) is not inherited by the events the frame says are whole.
    const split = splitRawRecord(record(value as Buffer, { [RAW_HEADERS.truncated]: Buffer.from('requestObject') }));
    if (!split.ok) throw new Error(split.reason);
    expect(split.layout).toBe('v2');
    expect(split.events.map((e) => e.value?.toString())).toEqual(values.map(String));
    expect(split.events.map((e) => e.headers[RAW_HEADERS.truncated]?.toString())).toEqual([undefined, 'requestObject,responseObject', undefined]);
    for (const e of split.events) {
      expect(e).toMatchObject({ topic: 'raw', partition: 4, offset: '77', key: Buffer.from('prod-eu/alice'), timestamp: '1764655200000' });
      expect(e.headers[RAW_HEADERS.cluster]?.toString()).toBe('prod-eu');
      expect(e.headers[RAW_HEADERS.receivedAt]?.toString()).toBe('2026-12-02T06:00:00.000Z');
    }
  });

  it('refuses a damaged v2 frame whole, with the reason', () => {
    const [value] = encodeRawBatches([{ value: Buffer.from('{"auditID":"a"}') }]);
    const split = splitRawRecord(record((value as Buffer).subarray(0, 12)));
    expect(split.ok).toBe(false);
    if (!split.ok) expect(split.reason).toMatch(/raw batch/);
  });
});
