import { describe, expect, it } from 'vitest';
import { decodeEnrichedBatch } from './enriched-batch-codec.js';
import { groupEnrichedRecords } from './group-enriched-records.js';
import { splitEnrichedRecord } from './split-enriched-record.js';
import type { IncomingRecord, OutgoingRecord } from './types.js';

const fp = Buffer.from('fingerprint');
const rec = (key: string, n: number, cluster = key.split('/')[0] as string): OutgoingRecord => ({ key, value: Buffer.from(`${key}#${n}`), headers: { 'kaudit-schema': fp, cluster } });
const events = (r: OutgoingRecord): string[] => {
  const d = decodeEnrichedBatch(r.value as Buffer);
  if (!d.ok) throw new Error(d.reason);
  return d.events.map((e) => e.toString());
};
const incoming = (r: OutgoingRecord, offset: string): IncomingRecord => ({ topic: 't', partition: 2, offset, key: Buffer.from(r.key as string), value: r.value as Buffer, headers: r.headers as Record<string, Buffer>, timestamp: '17' });

describe('groupEnrichedRecords (enrich writes kaudit.audit.enriched.v2)', () => {
  it('puts the records of one key in one record, in their order, keys in the order of their first record', () => {
    const input = [rec('c/alice', 1), rec('c/bob', 1), rec('c/alice', 2), rec('c/bob', 2), rec('c/alice', 3), rec('d/carol', 1)];
    const out = groupEnrichedRecords(input);
    expect(out.map((r) => r.key)).toEqual(['c/alice', 'c/bob', 'd/carol']);
    expect(out.map(events)).toEqual([['c/alice#1', 'c/alice#2', 'c/alice#3'], ['c/bob#1', 'c/bob#2'], ['d/carol#1']]);
    expect(out[2]?.headers).toEqual({ 'kaudit-schema': fp, cluster: 'd' });
  });

  it('cuts at the bounds, and never lets a record inherit headers its events did not have', () => {
    const input = [rec('c/a', 1), rec('c/a', 2), rec('c/a', 3), rec('c/a', 4, 'other'), rec('c/a', 5)];
    const out = groupEnrichedRecords(input, { maxEvents: 2, maxBytes: 1 << 20 });
    expect(out.map(events)).toEqual([['c/a#1', 'c/a#2'], ['c/a#3'], ['c/a#4'], ['c/a#5']]);
    expect(out.map((r) => String(r.headers?.cluster))).toEqual(['c', 'c', 'other', 'c']);
  });

  it('splitEnrichedRecord gives back each event as a v1 record would be, and a v1 record as itself', () => {
    const [v2] = groupEnrichedRecords([rec('c/a', 1), rec('c/a', 2)]);
    const split = splitEnrichedRecord(incoming(v2 as OutgoingRecord, '41'));
    if (!split.ok) throw new Error(split.reason);
    expect(split.layout).toBe('v2');
    expect(split.events.map((e) => [e.offset, e.key?.toString(), e.value?.toString(), e.timestamp, e.headers.cluster?.toString()])).toEqual([
      ['41', 'c/a', 'c/a#1', '17', 'c'],
      ['41', 'c/a', 'c/a#2', '17', 'c'],
    ]);
    const v1 = incoming(rec('c/a', 9), '42');
    expect(splitEnrichedRecord(v1)).toEqual({ ok: true, layout: 'v1', events: [v1] });
    const damaged = incoming({ ...(v2 as OutgoingRecord), value: (v2?.value as Buffer).subarray(0, 12) }, '43');
    expect(splitEnrichedRecord(damaged)).toMatchObject({ ok: false });
  });
});
