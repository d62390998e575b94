import { describe, expect, it } from 'vitest';
import { decodeRawBatch, encodeRawBatches, isRawBatch, RAW_BATCH_LIMITS, RAW_BATCH_MAGIC, type RawBatchEvent } from './raw-batch-codec.js';

const event = (n: number, pad = 0): RawBatchEvent => ({ value: Buffer.from(JSON.stringify({ auditID: `id-${n}`, pad: 'x'.repeat(pad) })) });

describe('raw batch codec (kaudit.audit.raw.v2 values)', () => {
  it('round-trips every event\'s original bytes, in order, with its truncated mark', () => {
    // Bytes that a re-serialisation would change: an integer beyond 2^53, odd spacing, non-ASCII.
    const odd = Buffer.from('{ "auditID":"é",  "generation":12345678901234567890 }');
    const events: RawBatchEvent[] = [event(1), { value: odd, truncated: 'requestObject,responseObject' }, event(3), { value: event(4).value, truncated: 'responseObject' }, { value: event(5).value, truncated: 'requestObject' }];
    const [value, ...more] = encodeRawBatches(events);
    expect(more).toEqual([]);
    expect(value).toBeDefined();
    const decoded = decodeRawBatch(value as Buffer);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.events.map((e) => e.value.toString('hex'))).toEqual(events.map((e) => e.value.toString('hex')));
    expect(decoded.events.map((e) => e.truncated)).toEqual([undefined, 'requestObject,responseObject', undefined, 'responseObject', 'requestObject']);
  });

  it('starts with a magic no JSON text can start with, so v1 and v2 values are told apart', () => {
    const [value] = encodeRawBatches([event(1)]);
    expect(isRawBatch(value as Buffer)).toBe(true);
    expect((value as Buffer).subarray(0, RAW_BATCH_MAGIC.length).equals(RAW_BATCH_MAGIC)).toBe(true);
    expect(isRawBatch(event(1).value)).toBe(false);
    expect(isRawBatch(Buffer.from(' {"a":1}'))).toBe(false);
    expect(isRawBatch(Buffer.alloc(0))).toBe(false);
  });

  it('bounds a record in events: a long run is cut into several records, none over the bound, order kept', () => {
    const events = Array.from({ length: 25 }, (_, i) => event(i));
    const values = encodeRawBatches(events, { maxEvents: 10, maxBytes: 1 << 20 });
    const counts = values.map((v) => {
      const d = decodeRawBatch(v);
      if (!d.ok) throw new Error(d.reason);
      return d.events;
    });
    expect(counts.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(counts.flat().map((e) => e.value.toString())).toEqual(events.map((e) => e.value.toString()));
  });

  it('bounds a record in bytes; an event alone over the bound still goes, alone', () => {
    const events = [event(1, 300), event(2, 300), event(3, 2000), event(4, 10), event(5, 10)];
    const values = encodeRawBatches(events, { maxEvents: 100, maxBytes: 1000 });
    const decoded = values.map((v) => {
      const d = decodeRawBatch(v);
      if (!d.ok) throw new Error(d.reason);
      return d.events.map((e) => (JSON.parse(e.value.toString()) as { auditID: string }).auditID);
    });
    expect(decoded).toEqual([['id-1', 'id-2'], ['id-3'], ['id-4', 'id-5']]);
    for (const [i, v] of values.entries()) if (i !== 1) expect(v.length).toBeLessThanOrEqual(1000);
  });

  it('defaults stay well under the broker\'s message.max.bytes (1 MiB) with the produce overhead', () => {
    expect(RAW_BATCH_LIMITS.maxBytes).toBeLessThanOrEqual(512 * 1024);
    const values = encodeRawBatches(Array.from({ length: 3000 }, (_, i) => event(i, 500)));
    for (const v of values) expect(v.length).toBeLessThanOrEqual(RAW_BATCH_LIMITS.maxBytes);
    expect(values.length).toBeGreaterThan(1);
  });

  it('makes no record of no events', () => {
    expect(encodeRawBatches([])).toEqual([]);
  });

  it('refuses a damaged frame with a reason instead of guessing at event bounds', () => {
    const [value] = encodeRawBatches([event(1), event(2)]) as [Buffer];
    const cases: [string, Buffer][] = [
      ['cut short', value.subarray(0, value.length - 3)],
      ['trailing bytes', Buffer.concat([value, Buffer.from('zz')])],
      ['no count', value.subarray(0, RAW_BATCH_MAGIC.length + 2)],
      ['not a batch', event(1).value],
      ['unknown flags', Buffer.from(value).fill(0xf0, RAW_BATCH_MAGIC.length + 4, RAW_BATCH_MAGIC.length + 5)],
    ];
    for (const [name, bytes] of cases) {
      const decoded = decodeRawBatch(bytes);
      expect(decoded.ok, name).toBe(false);
      if (!decoded.ok) expect(decoded.reason.length, name).toBeGreaterThan(0);
    }
    const zero = Buffer.from(value);
    zero.writeUInt32BE(0, RAW_BATCH_MAGIC.length);
    expect(decodeRawBatch(zero).ok).toBe(false);
  });
});
