import { describe, expect, it } from 'vitest';
import { decodeJson, withoutBom } from './decode-json.js';

const SECRET = 'hunter2-s3cr3t-value';

describe('decodeJson', () => {
  it('reads strict UTF-8 JSON and ignores a leading byte order mark', () => {
    expect(decodeJson(Buffer.from('{"a":"é"}'))).toEqual({ ok: true, value: { a: 'é' } });
    expect(decodeJson(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))).toEqual({ ok: true, value: { a: 1 } });
    expect(withoutBom(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d])).toString()).toBe('{}');
  });

  it('refuses invalid UTF-8 instead of reading it as U+FFFD', () => {
    expect(decodeJson(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).toMatchObject({ ok: false, problem: 'invalid-utf8' });
  });

  it.each([
    [`{"password": ${SECRET}}`, 13],
    [`{"a":"${SECRET}"  zzz}`, 29],
    [`[1,]`, 3],
    [`{"token":"${SECRET}`, 9],
    [`{"kind":"EventList",\n"items":[${SECRET}]}`, 30],
  ])('names the position of the error in %j without quoting the input', (text, position) => {
    const decoded = decodeJson(Buffer.from(text));
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.problem).toBe('malformed-json');
    expect(decoded.message).toContain(`position ${position}`);
    expect(decoded.message).not.toContain(SECRET);
    expect(decoded.message).not.toContain('hunter');
  });

  it('says which line and column, for multi-line documents', () => {
    const decoded = decodeJson(Buffer.from('{\n  "a": 1,\n  "b": nope\n}'));
    expect(decoded).toMatchObject({ ok: false, message: expect.stringMatching(/line 3, column 8/) as unknown });
  });
});
