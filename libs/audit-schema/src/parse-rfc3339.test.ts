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

  it('gives Date’s instant for every day of a whole 400-year cycle (years 0–399, where Date.UTC would read 0–99 as 1900s), 1900–2100 and 9600–9999', () => {
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    let checked = 0;
    const wrong: string[] = [];
    for (const [from, to] of [[0, 399], [1900, 2100], [9600, 9999]] as const) {
      // Day by day through Date itself (its setUTCDate rolls months and years over as the calendar does).
      const d = new Date(0);
      d.setUTCFullYear(from, 0, 1);
      for (let n = 0; d.getUTCFullYear() <= to; n++, d.setUTCDate(d.getUTCDate() + 1)) {
        const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
        const time = `${pad(n % 24, 2)}:${pad((n * 7) % 60, 2)}:${pad((n * 13) % 60, 2)}`;
        const fraction = (n * 7919) % 1_000_000;
        // The same arithmetic as the parser's (whole seconds, then µs): beyond 2^53 µs (year ~2255) the order rounds.
        const expected = Date.parse(`${date}T${time}Z`) * 1000 + fraction;
        const ts = `${date}T${time}.${pad(fraction, 6)}Z`;
        const parsed = parseRfc3339(ts);
        if (!parsed.ok || parsed.micros !== expected) wrong.push(ts);
        checked++;
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(290_000);
  });

  it('reads zone offsets and fractions of every length as before', () => {
    const base = Date.parse('2026-03-01T00:30:00Z') * 1000;
    expect(parseRfc3339('2026-03-01T01:30:00+01:00')).toEqual({ ok: true, micros: base });
    expect(parseRfc3339('2026-02-28T23:45:00-00:45')).toEqual({ ok: true, micros: base });
    expect(parseRfc3339('2026-03-01t00:30:00z')).toEqual({ ok: true, micros: base });
    const fractions = ['1', '12', '123', '1234', '12345', '123456', '1234567', '12345678', '123456789'];
    fractions.forEach((f) => expect(parseRfc3339(`2026-03-01T00:30:00.${f}Z`)).toEqual({ ok: true, micros: base + Number(f.slice(0, 6).padEnd(6, '0')) }));
  });
});
