import { describe, expect, it } from 'vitest';
import { deduplicationToken, recordsNotStored } from './records-not-stored.js';

const rec = (offset: string, timestamp = '1000') => ({ topic: 't', partition: 1, offset, key: null, value: null, headers: {}, timestamp });

describe('recordsNotStored', () => {
  const recs = ['9007199254740991', '9007199254740992', '9007199254740993'].map((o) => rec(o));
  it('keeps every record when nothing is stored', () => {
    expect(recordsNotStored(recs, new Map())).toEqual({ todo: recs, partial: new Set(), skipped: 0, reused: 0 });
  });
  it('skips only the offsets actually stored, not everything below the highest one', () => {
    const stored = new Map([['9007199254740993', new Map([['1000', 1]])]]);
    expect(recordsNotStored(recs, stored)).toEqual({ todo: recs.slice(0, 2), partial: new Set(), skipped: 1, reused: 0 });
  });
  it('stores a record whose offset is taken by another record (a recreated topic), and counts it', () => {
    const stored = new Map([['9007199254740991', new Map([['999', 1]])], ['9007199254740992', new Map([['999', 1], ['1000', 1]])]]);
    expect(recordsNotStored(recs, stored)).toEqual({ todo: [recs[0], recs[2]], partial: new Set(), skipped: 1, reused: 1 });
  });
  it('takes a row from before timestamps were stored as that record', () => {
    expect(recordsNotStored(recs, new Map([['9007199254740991', new Map([['0', 1]])]]))).toEqual({ todo: recs.slice(1), partial: new Set(), skipped: 1, reused: 0 });
  });
});

describe('recordsNotStored on enriched.v2 records (several rows at one offset)', () => {
  const events = (offset: string, n: number) => Array.from({ length: n }, (_, eventIndex) => ({ ...rec(offset), eventIndex, eventCount: n }));
  it('skips a record only when all its rows are stored, and hands back one stored in part for its rows to decide', () => {
    const [whole, part, none] = [events('5', 3), events('6', 3), events('7', 2)];
    const stored = new Map([['5', new Map([['1000', 3]])], ['6', new Map([['1000', 1]])]]);
    const got = recordsNotStored([...whole, ...part, ...none], stored);
    expect(got.todo).toEqual([...part, ...none]);
    expect([...got.partial]).toEqual(part);
    expect(got.skipped).toBe(3);
  });
});

describe('deduplicationToken', () => {
  it('tells apart blocks holding different events of the same enriched.v2 records', () => {
    const ev = (offset: string, eventIndex: number) => ({ ...rec(offset), eventIndex, eventCount: 3 });
    expect(deduplicationToken([ev('5', 0), ev('5', 1)])).not.toBe(deduplicationToken([ev('5', 1), ev('5', 2)]));
    expect(deduplicationToken([ev('5', 0), ev('5', 1)])).toBe(deduplicationToken([ev('5', 0), ev('5', 1)]));
  });
  it('names the block by topic, partition, offset range and a digest of its records', () => {
    expect(deduplicationToken([rec('5'), rec('7')])).toMatch(/^t:1:5-7:[0-9a-f]{16}$/);
  });
  it('differs for another set of records in the same range, or the same range of another topic incarnation', () => {
    const base = deduplicationToken([rec('5'), rec('6'), rec('7')]);
    expect(deduplicationToken([rec('5'), rec('7')])).not.toBe(base);
    expect(deduplicationToken([rec('5', '2000'), rec('6', '2000'), rec('7', '2000')])).not.toBe(base);
    expect(deduplicationToken([rec('5'), rec('6'), rec('7')])).toBe(base);
  });
  it('names each partition of a block gathered from several, and tells the partitions apart in its digest', () => {
    const on = (partition: number, offset: string) => ({ ...rec(offset), partition });
    const token = deduplicationToken([on(1, '5'), on(1, '6'), on(3, '40')]);
    expect(token).toMatch(/^t:1:5-6,t:3:40-40:[0-9a-f]{16}$/);
    expect(deduplicationToken([on(1, '5'), on(1, '6'), on(3, '40')])).toBe(token);
    expect(deduplicationToken([on(1, '5'), on(2, '6'), on(3, '40')])).not.toBe(token);
  });
});
