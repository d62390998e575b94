import { describe, expect, it } from 'vitest';
import { jsonLinesBody } from './json-lines-body.js';

describe('jsonLinesBody', () => {
  it('is every line and its newline, in order, as UTF-8, however the chunks fall', () => {
    // ASCII, 2- and 3-byte characters, a surrogate pair (4 bytes), and lines longer than a chunk.
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ i, s: ['plain', 'café ünïcödé', '監査ログ', '🔐 key', 'x'.repeat(i % 7 === 0 ? 300 : 3)][i % 5] }));
    const chunks = [...jsonLinesBody(lines, 256)];
    expect(Buffer.concat(chunks).toString('utf8')).toBe(`${lines.join('\n')}\n`);
    expect(chunks.length).toBeGreaterThan(10);
    // A chunk holds whole lines only and grows past chunkBytes only for a line that alone needs more.
    for (const chunk of chunks) {
      expect(chunk[chunk.length - 1]).toBe(0x0a);
      const longest = Math.max(...chunk.toString('utf8').split('\n').map((l) => l.length));
      expect(chunk.length <= 256 || longest * 3 + 1 > 256).toBe(true);
    }
  });

  it('never writes into a chunk it has yielded (the socket may still be sending it)', () => {
    const yielded: { chunk: Buffer; copy: Buffer }[] = [];
    for (const chunk of jsonLinesBody(Array.from({ length: 200 }, (_, i) => `{"n":${i}}`), 64)) yielded.push({ chunk, copy: Buffer.from(chunk) });
    for (const { chunk, copy } of yielded) expect(chunk.equals(copy)).toBe(true);
  });

  it('yields nothing for no lines, and passes on what the lines throw', () => {
    expect([...jsonLinesBody([], 64)]).toEqual([]);
    function* failing(): Generator<string> {
      yield '{}';
      throw new Error('undecodable record');
    }
    expect(() => [...jsonLinesBody(failing(), 64)]).toThrow('undecodable record');
  });
});
