import { describe, expect, it } from 'vitest';
import { decodeEnrichedBatch, encodeEnrichedBatches, isEnrichedBatch } from './enriched-batch-codec.js';
import { isRawBatch } from './raw-batch-codec.js';

const avro = (n: number, pad = 0): Buffer => Buffer.from(`avro-${n}-${'x'.repeat(pad)}`);

describe('enriched batch codec (kaudit.audit.enriched.v2 values)', () => {
  it('round-trips every event\'s bytes, in order', () => {
    const events = [avro(1), Buffer.from([0, 1, 2, 255]), avro(3)];
    const [value, ...more] = encodeEnrichedBatches(events);
    expect(more).toEqual([]);
    const decoded = decodeEnrichedBatch(value as Buffer);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.events.map((e) => e.toString('hex'))).toEqual(events.map((e) => e.toString('hex')));
  });

  it('is told apart from a v1 value (Avro: the cluster string first) and from a raw batch by its magic', () => {
    // An AuditRecord starts with its cluster: zigzag length then bytes; an empty one (0x00) then 'prod'.
    const v1 = Buffer.concat([Buffer.from([0x00, 0x08]), Buffer.from('prod')]);
    const [v2] = encodeEnrichedBatches([v1]);
    expect(isEnrichedBatch(v2 as Buffer)).toBe(true);
    expect(isEnrichedBatch(v1)).toBe(false);
    expect(isRawBatch(v2 as Buffer)).toBe(false);
    expect(isEnrichedBatch(Buffer.alloc(0))).toBe(false);
  });

  it('bounds a record in events and in bytes, order kept; an event larger than the bound goes alone', () => {
    const events = Array.from({ length: 25 }, (_, i) => avro(i, i === 12 ? 5_000 : 10));
    const values = encodeEnrichedBatches(events, { maxEvents: 10, maxBytes: 1_000 });
    const back = values.map((v) => {
      const d = decodeEnrichedBatch(v);
      if (!d.ok) throw new Error(d.reason);
      return d.events;
    });
    for (const [i, v] of values.entries()) {
      expect((back[i] as Buffer[]).length).toBeLessThanOrEqual(10);
      if ((back[i] as Buffer[]).length > 1) expect(v.length).toBeLessThanOrEqual(1_000);
    }
    expect(back.some((b) => b.length === 1 && (b[0] as Buffer).length > 5_000)).toBe(true);
    expect(back.flat().map((e) => e.toString())).toEqual(events.map((e) => e.toString()));
  });

  it('refuses a damaged frame whole instead of guessing event bounds', () => {
    const [value] = encodeEnrichedBatches([avro(1), avro(2)]);
    const v = value as Buffer;
    expect(decodeEnrichedBatch(v.subarray(0, v.length - 1))).toMatchObject({ ok: false });
    expect(decodeEnrichedBatch(Buffer.concat([v, Buffer.from([0])]))).toMatchObject({ ok: false });
    const flagged = Buffer.from(v);
    flagged[8] = 1; // the first event's flags: reserved in enriched.v2
    expect(decodeEnrichedBatch(flagged)).toMatchObject({ ok: false, reason: expect.stringContaining('flags') });
    const zero = Buffer.from(v.subarray(0, 8));
    zero.writeUInt32BE(0, 4);
    expect(decodeEnrichedBatch(zero)).toMatchObject({ ok: false, reason: expect.stringContaining('no events') });
  });
});
