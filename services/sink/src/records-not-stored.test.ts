import { describe, expect, it } from 'vitest';
import { deduplicationToken, recordsNotStored } from './records-not-stored.js';

const rec = (offset: string, timestamp = '1000') => ({ topic: 't', partition: 1, offset, key: null, value: null, headers: {}, timestamp });

describe('recordsNotStored', () => {
  const recs = ['9007199254740991', '9007199254740992', '9007199254740993'].map((o) => rec(o));
  it('keeps every record when nothing is stored', () => {
    expect(recordsNotStored(recs, new Map())).toEqual({ todo: recs, skipped: 0, reused: 0 });
  });
  it('skips only the offsets actually stored, not everything below the highest one', () => {
    const stored = new Map([['9007199254740993', new Set(['1000'])]]);
    expect(recordsNotStored(recs, stored)).toEqual({ todo: recs.slice(0, 2), skipped: 1, reused: 0 });
  });
  it('stores a record whose offset is taken by another record (a recreated topic), and counts it', () => {
    const stored = new Map([['9007199254740991', new Set(['999'])], ['9007199254740992', new Set(['999', '1000'])]]);
    expect(recordsNotStored(recs, stored)).toEqual({ todo: [recs[0], recs[2]], skipped: 1, reused: 1 });
  });
  it('takes a row from before timestamps were stored as that record', () => {
    expect(recordsNotStored(recs, new Map([['9007199254740991', new Set(['0'])]]))).toEqual({ todo: recs.slice(1), skipped: 1, reused: 0 });
  });
});

describe('deduplicationToken', () => {
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
