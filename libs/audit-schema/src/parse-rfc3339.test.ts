import { describe, expect, it } from 'vitest';
import { parseRfc3339 } from './parse-rfc3339.js';

const S = Date.parse('2026-11-20T09:14:03Z') * 1000;

describe('parseRfc3339', () => {
  it.each([
    ['2026-11-20T09:14:03Z', S],
    ['2026-11-20T09:14:03.4Z', S + 400_000],
    ['2026-11-20T09:14:03.481922Z', S + 481_922],
    ['2026-11-20T09:14:03.481922789Z', S + 481_922],
    ['2026-11-20T11:14:03.000001+02:00', S + 1],
    ['2026-11-20T08:44:03-00:30', S],
    ['2024-02-29T00:00:00Z', Date.parse('2024-02-29T00:00:00Z') * 1000],
    ['0050-01-01T00:00:00Z', Date.parse('0050-01-01T00:00:00Z') * 1000],
  ])('%s is an instant', (ts, micros) => {
    expect(parseRfc3339(ts)).toEqual({ ok: true, micros });
  });

  it.each([
    ['2024-13-45T25:61:61Z', /month 13/],
    ['2026-02-29T00:00:00Z', /day 29 does not exist in month 2 of 2026/],
    ['2026-04-31T00:00:00Z', /day 31/],
    ['2026-01-00T00:00:00Z', /day 0/],
    ['2026-01-01T24:00:00Z', /hour 24/],
    ['2026-01-01T23:60:00Z', /minute 60/],
    ['2026-01-01T23:59:60Z', /second 60/],
    ['2026-01-01T00:00:00+24:00', /offset/],
    ['2026-01-01T00:00:00.Z', /fraction/],
    ['2026-01-01 00:00:00Z', /YYYY/],
    ['yesterday at noon', /YYYY/],
  ])('%s is refused, saying why', (ts, why) => {
    const parsed = parseRfc3339(ts);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(why);
  });
});
