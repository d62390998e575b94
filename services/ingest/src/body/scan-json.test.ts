import { describe, expect, it } from 'vitest';
import { scanJson } from './scan-json.js';

const spans = (text: string) => {
  const bytes = Buffer.from(text);
  return scanJson(bytes, 64).items.map((s) => (s ? bytes.subarray(s[0], s[1]).toString() : undefined));
};

describe('scanJson', () => {
  it('finds each object element of the top-level items array, byte-exact', () => {
    const text = '{"kind":"EventList","items":[ {"a":"x,}]\\"{","n":12345678901234567890} ,{"b":[1,{"c":2}]},"str",{"ü":"é"}],"metadata":{"items":[{"no":1}]}}';
    expect(spans(text)).toEqual(['{"a":"x,}]\\"{","n":12345678901234567890}', '{"b":[1,{"c":2}]}', undefined, '{"ü":"é"}']);
  });

  it('ignores "items" used as a value or nested deeper, and keeps the last of repeated keys', () => {
    expect(spans('{"kind":"items","x":[{"a":1}]}')).toEqual([]);
    expect(scanJson(Buffer.from('{"kind":"items","x":[{"a":1}]}'), 8).itemsKeys).toBe(0);
    expect(spans('{"items":[{"first":1}],"items":[{"second":2}]}')).toEqual(['{"second":2}']);
    expect(scanJson(Buffer.from('{"items":[{"first":1}],"items":[{"second":2}]}'), 8).itemsKeys).toBe(2);
  });

  it('reads the key as JSON.parse does: an escaped spelling of "items" is items', () => {
    const text = '{"items":[{"first":1}],"\\u0069tems" : [{"second":2}]}';
    expect(spans(text)).toEqual(['{"second":2}']);
    expect(scanJson(Buffer.from(text), 8).itemsKeys).toBe(2);
    expect(scanJson(Buffer.from('{"\\u0069t\\u0065ms":[{"only":1}]}'), 8)).toMatchObject({ itemsKeys: 1, items: [[20, 30]] });
    expect(scanJson(Buffer.from('{"item\\"s":[{"a":1}]}'), 8).itemsKeys).toBe(0);
  });

  it('gives spans that parse to exactly the elements JSON.parse finds', () => {
    const bodies = [
      '{"kind":"EventList","items":[{"a":"]}\\\\"},{"b":"\\"items\\":[{}]"}],"metadata":{}}',
      '{"items":[{"x":1}],"\\u0069tems":[{"y":[{"z":"}"}]},{"w":"é"}]}',
      '\n { "items" \t:\n [ {"k":"v"} , {"k":"w"} ] }',
    ];
    for (const text of bodies) {
      const bytes = Buffer.from(text);
      const parsed = (JSON.parse(text) as { items: unknown[] }).items;
      const scanned = scanJson(bytes, 16).items.map((s) => (s ? (JSON.parse(bytes.subarray(s[0], s[1]).toString()) as unknown) : undefined));
      expect(scanned, text).toEqual(parsed);
    }
  });

  it('stops at the depth limit, counting brackets inside strings as text', () => {
    expect(scanJson(Buffer.from('['.repeat(65) + ']'.repeat(65)), 64).tooDeep).toBe(true);
    expect(scanJson(Buffer.from('[' + '"[[[[["'.repeat(100) + ']'), 2).tooDeep).toBe(false);
    expect(scanJson(Buffer.from('{"a":{"b":{"c":{}}}}'), 3).tooDeep).toBe(true);
  });
});
