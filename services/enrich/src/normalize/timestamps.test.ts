import { describe, expect, it } from 'vitest';
import { toMicros } from './timestamps.js';

// The parsing itself is tested with the shared parser (libs/audit-schema/src/parse-rfc3339.test.ts).
describe('toMicros', () => {
  it('keeps all six fraction digits', () => {
    expect(toMicros('2026-11-20T11:14:03.481922+02:00')).toBe(Date.parse('2026-11-20T09:14:03Z') * 1000 + 481_922);
  });

  it('rejects what is not a timestamp, or not a real instant', () => {
    expect(() => toMicros('yesterday')).toThrowError(/not a valid RFC 3339 time/);
    // Date.parse would read this as March 2nd.
    expect(() => toMicros('2026-02-30T00:00:00Z')).toThrowError(/day 30 does not exist/);
  });
});
