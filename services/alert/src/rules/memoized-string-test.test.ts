import { describe, expect, it } from 'vitest';
import { MemoizedStringTest } from './memoized-string-test.js';

const direct = (v: string): boolean => v.startsWith('10.') || v.endsWith('7');

describe('MemoizedStringTest', () => {
  it('answers as the test it wraps, for repeated values and past its bound', () => {
    const memo = new MemoizedStringTest(direct, 64);
    const values = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? `10.0.0.${i % 5}` : `v${(i * 7919) % 300}`));
    for (const v of values) expect({ v, answer: memo.test(v) }).toEqual({ v, answer: direct(v) });
  });

  it('holds at most its bound of values, whatever the input', () => {
    const memo = new MemoizedStringTest(direct, 100);
    for (let i = 0; i < 10_000; i++) {
      memo.test(`value-${i}`);
      expect(memo.size).toBeLessThanOrEqual(100);
    }
  });

  it('does not keep long values, and still answers them', () => {
    const memo = new MemoizedStringTest(direct, 100);
    const long = `10.${'x'.repeat(300)}`;
    expect(memo.test(long)).toBe(true);
    expect(memo.test(`${long}y`)).toBe(direct(`${long}y`));
    expect(memo.size).toBe(0);
  });
});
