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
    expect(spans('{"items":[{"first":1}],"items":[{"second":2}]}')).toEqual(['{"second":2}']);
  });

  it('stops at the depth limit, counting brackets inside strings as text', () => {
    expect(scanJson(Buffer.from('['.repeat(65) + ']'.repeat(65)), 64).tooDeep).toBe(true);
    expect(scanJson(Buffer.from('[' + '"[[[[["'.repeat(100) + ']'), 2).tooDeep).toBe(false);
    expect(scanJson(Buffer.from('{"a":{"b":{"c":{}}}}'), 3).tooDeep).toBe(true);
  });
});
