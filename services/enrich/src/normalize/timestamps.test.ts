import { describe, expect, it } from 'vitest';
import { toMicros } from './timestamps.js';

const S = Date.parse('2026-11-20T09:14:03Z') * 1000;

describe('toMicros', () => {
  it.each([
    ['2026-11-20T09:14:03Z', S],
    ['2026-11-20T09:14:03.4Z', S + 400_000],
    ['2026-11-20T09:14:03.4819Z', S + 481_900],
    ['2026-11-20T09:14:03.481922Z', S + 481_922],
    ['2026-11-20T09:14:03.481922789Z', S + 481_922],
    ['2026-11-20T11:14:03.000001+02:00', S + 1],
  ])('%s', (ts, expected) => {
    expect(toMicros(ts)).toBe(expected);
  });

  it('rejects what is not a timestamp, or not a real instant', () => {
    expect(() => toMicros('yesterday')).toThrowError(/not a valid RFC 3339 time/);
    // Date.parse would read this as March 2nd.
    expect(() => toMicros('2026-02-30T00:00:00Z')).toThrowError(/day 30 does not exist/);
  });
});
