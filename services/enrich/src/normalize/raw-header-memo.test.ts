import { describe, expect, it } from 'vitest';
import { RAW_HEADERS, type IncomingRecord } from '@kaudit/kafka';
import { decodeRawRecord } from './decode-raw-record.js';
import { RawHeaderMemo } from './raw-header-memo.js';

const window = { retentionDays: 3650, maxFutureSkewMs: 900_000 };
const event = JSON.stringify({ level: 'Metadata', auditID: 'a1', stage: 'ResponseComplete', requestURI: '/api/v1/pods', verb: 'list', user: { username: 'alice' }, requestReceivedTimestamp: '2026-12-01T09:59:00Z', stageTimestamp: '2026-12-01T09:59:00Z' });

function raw(headers: Record<string, Buffer>): IncomingRecord {
  return { topic: 'raw', partition: 0, offset: '1', key: Buffer.from('k'), value: Buffer.from(event), headers, timestamp: '0' };
}

describe('RawHeaderMemo: what decodeRawRecord derives from the headers the events of one raw record share', () => {
  it('answers each header value as decoding it afresh would, whether it repeats or changes', () => {
    const memo = new RawHeaderMemo();
    const values = ['2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:01.000Z', 'not a date', '2026-12-01T10:00:01.000Z', ''];
    for (const v of values) {
      const bytes = Buffer.from(v);
      expect(memo.receivedAt(bytes)).toEqual({ text: v, ms: Date.parse(v) });
      expect(memo.cluster(bytes)).toBe(v);
    }
  });

  it('reads the bytes, not the Buffer object: one Buffer changed in place between two records gives the new value', () => {
    const memo = new RawHeaderMemo();
    const receivedAt = Buffer.from('2026-12-01T10:00:00.000Z');
    const cluster = Buffer.from('prod-eu');
    expect(memo.receivedAt(receivedAt).ms).toBe(Date.parse('2026-12-01T10:00:00.000Z'));
    expect(memo.cluster(cluster)).toBe('prod-eu');
    receivedAt.write('2026-12-01T11:00:00.000Z');
    cluster.write('prod-us');
    expect(memo.receivedAt(receivedAt).ms).toBe(Date.parse('2026-12-01T11:00:00.000Z'));
    expect(memo.cluster(cluster)).toBe('prod-us');
  });

  it('compares long header values whole too (beyond the byte loop)', () => {
    const memo = new RawHeaderMemo();
    const a = Buffer.from(`${'c'.repeat(100)}a`);
    const b = Buffer.from(`${'c'.repeat(100)}b`);
    expect(memo.cluster(a)).toBe(a.toString());
    expect(memo.cluster(b)).toBe(b.toString());
    expect(memo.cluster(Buffer.from('c'.repeat(100)))).toBe('c'.repeat(100));
  });

  it('decodeRawRecord with one memo over records of different headers gives each its own cluster and ingest time', () => {
    const memo = new RawHeaderMemo();
    const records = [
      ['prod-eu', '2026-12-01T10:00:00.000Z'],
      ['prod-eu', '2026-12-01T10:00:00.000Z'],
      ['prod-us', '2026-12-01T10:00:00.000Z'],
      ['prod-us', '2026-12-01T10:00:02.500Z'],
    ] as const;
    for (const [cluster, receivedAt] of records) {
      const r = raw({ [RAW_HEADERS.cluster]: Buffer.from(cluster), [RAW_HEADERS.receivedAt]: Buffer.from(receivedAt) });
      const withMemo = decodeRawRecord(r, window, memo).meta;
      expect(withMemo).toEqual(decodeRawRecord(r, window).meta);
      expect(withMemo.cluster).toBe(cluster);
      expect(withMemo.ingestedUs).toBe(Date.parse(receivedAt) * 1000);
    }
  });
});
