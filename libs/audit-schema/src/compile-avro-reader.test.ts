import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { compileAvroReader } from './compile-avro-reader.js';

const schemaOf = (version: number): avro.Type =>
  avro.Type.forSchema(JSON.parse(readFileSync(fileURLToPath(new URL(`../avro/audit-record-v${version}.avsc.json`, import.meta.url)), 'utf8')) as avro.Schema);

/** Same values, same keys in the same order (what JSON shows): the compiled reader must be indistinguishable. */
function expectSame(actual: unknown, expected: unknown): void {
  expect(actual).toEqual(expected);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
}

describe('compileAvroReader', () => {
  const v1 = schemaOf(1);
  const v2 = schemaOf(2);

  it('reads what avsc reads, for random records of every version, into the current shape', () => {
    const same = compileAvroReader(v2, v2);
    const old = compileAvroReader(v1, v2);
    expect(same).toBeDefined();
    expect(old).toBeDefined();
    const resolver = v2.createResolver(v1);
    for (let i = 0; i < 300; i++) {
      const b2 = v2.toBuffer(v2.random());
      expectSame(same?.(b2), v2.fromBuffer(b2));
      const b1 = v1.toBuffer(v1.random());
      const fromV1 = old?.(b1) as { summary: unknown };
      expectSame(fromV1, v2.fromBuffer(b1, resolver));
      expect(fromV1.summary).toBeNull();
    }
  });

  it('returns plain objects, not avsc record instances', () => {
    const value = compileAvroReader(v2, v2)?.(v2.toBuffer(v2.random())) as object;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it('gives each string its own text: repeated, colliding, non-ASCII, empty and long strings', () => {
    const type = avro.Type.forSchema({ type: 'array', items: 'string' });
    const read = compileAvroReader(type, type);
    // Same length and same first, middle and last bytes: they share a slot of the string table.
    const strings = ['abcXe', 'abcYe', 'abcXe', 'abcYe', '', 'é', 'aé', 'żółw', 'x'.repeat(32), 'x'.repeat(33), 'y'.repeat(1000), 'team-1', 'team-2', 'team-1', '日本語テキスト'];
    for (let round = 0; round < 3; round++) expect(read?.(type.toBuffer(strings))).toEqual(strings);
  });

  it('reads negative block counts (a block preceded by its size), as other Avro writers may send', () => {
    const type = avro.Type.forSchema({ type: 'map', values: 'long' });
    // count -2 (zig-zag 3), size 6 bytes (12), "a" → 1, "b" → -1, then the end block.
    const bytes = Buffer.from([3, 12, 2, 0x61, 2, 2, 0x62, 1, 0]);
    expect(compileAvroReader(type, type)?.(bytes)).toEqual({ a: 1, b: -1 });
    expect(type.fromBuffer(bytes)).toEqual({ a: 1, b: -1 });
  });

  it('rejects truncated bytes, trailing bytes, bad union indexes and longs beyond 2^53, as avsc does', () => {
    const read = compileAvroReader(v2, v2);
    const bytes = v2.toBuffer(v2.random());
    expect(() => read?.(bytes.subarray(0, bytes.length - 1))).toThrow();
    expect(() => read?.(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/trailing data/);
    const union = avro.Type.forSchema(['null', 'string']);
    expect(() => compileAvroReader(union, union)?.(Buffer.from([4]))).toThrow(/invalid union index/);
    const long = avro.Type.forSchema('long');
    const huge = Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(() => long.fromBuffer(huge)).toThrow(/precision/);
    expect(() => compileAvroReader(long, long)?.(huge)).toThrow(/precision/);
    const max = long.toBuffer(9007199254740990);
    expect(compileAvroReader(long, long)?.(max)).toBe(9007199254740990);
    expect(compileAvroReader(long, long)?.(long.toBuffer(-123456789012))).toBe(-123456789012);
  });

  it('declines what needs avsc\'s general resolution or types kaudit does not use', () => {
    const rec = (fields: unknown[]) => avro.Type.forSchema({ type: 'record', name: 'R', fields } as avro.Schema);
    const fieldsA = [{ name: 'x', type: 'string' }, { name: 'y', type: 'int' }];
    const a = rec(fieldsA);
    expect(compileAvroReader(a, rec([{ name: 'x', type: 'string' }]))).toBeUndefined(); // reader dropped a field
    expect(compileAvroReader(a, rec([{ name: 'x', type: 'string' }, { name: 'y', type: 'long' }]))).toBeUndefined(); // promotion
    expect(compileAvroReader(a, rec([...fieldsA, { name: 'z', type: 'string', default: 'd' }]))).toBeUndefined(); // non-null default
    const e = avro.Type.forSchema({ type: 'enum', name: 'E', symbols: ['A'] });
    expect(compileAvroReader(e, e)).toBeUndefined();
  });
});
