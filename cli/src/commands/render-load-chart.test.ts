import { describe, expect, it } from 'vitest';
import type { LoadSeries } from './load-chart.js';
import { renderLoadChart } from './render-load-chart.js';

const series = (key: string, who: string, points: [string, number][]): LoadSeries => {
  const top = points.reduce((best, p) => (p[1] >= best[1] ? p : best), ['', 0] as [string, number]);
  return { key, who, requests: points.reduce((n, p) => n + p[1], 0), peakPerMinute: top[1], peakMinute: top[0], points: points.map(([minute, requests]) => ({ minute, requests })) };
};

describe('renderLoadChart', () => {
  const alice = series('user:alice@example.com', 'Alice Example', [['2026-03-10T10:02:00Z', 10], ['2026-03-10T10:07:00Z', 20]]);
  const ci = series('sa:ci:deployer', 'ci/deployer', [['2026-03-10T10:02:00Z', 5]]);

  it('draws one sparkline per key on one scale, a minute per column, with the total and the peak rate beside it', () => {
    const text = renderLoadChart({ by: 'user', since: new Date('2026-03-10T10:00:30Z'), until: new Date('2026-03-10T10:10:00Z'), series: [alice, ci] });
    const lines = text.split('\n');
    expect(lines[0]).toBe('Requests per minute by user, 2026-03-10T10:00Z to 2026-03-10T10:10Z; one column = 1 min; █ = 20/min');
    expect(lines[2]).toBe('Alice Example  ··▄····█··  30 requests, peak 20/min at 2026-03-10T10:07Z  [user:alice@example.com]');
    expect(lines[3]).toBe('ci/deployer    ··▂·······  5 requests, peak 5/min at 2026-03-10T10:02Z  [sa:ci:deployer]');
    // Within a day the axis shows times of day; ten columns cannot hold both, so only the start, under the first column.
    expect(lines[4]).toBe(`${' '.repeat(15)}10:00`);
  });

  it('puts several minutes in a column when the range is wider than the chart, drawn at the busiest (a burst keeps its height)', () => {
    // Two 20s sharing a column draw at 20 (half the top), not at their sum.
    const burst = series('get', '', [['2026-03-10T10:02:00Z', 1], ['2026-03-10T10:03:00Z', 40], ['2026-03-10T10:04:00Z', 20], ['2026-03-10T10:05:00Z', 20], ['2026-03-10T11:59:00Z', 4]]);
    const text = renderLoadChart({ by: 'verb', since: new Date('2026-03-10T10:00:00Z'), until: new Date('2026-03-10T12:00:00Z'), series: [burst], width: 60 });
    const lines = text.split('\n');
    expect(lines[0]).toContain('one column = 2 min (its busiest minute); █ = 40/min');
    const spark = (lines[2] ?? '').slice('get  '.length, 'get  '.length + 60);
    expect(spark).toBe(`·█▄${'·'.repeat(56)}▁`);
    expect(lines[2]).toContain('85 requests, peak 40/min at 2026-03-10T10:03Z');
    expect(lines[3]).toBe(`     10:00${' '.repeat(60 - 10)}12:00`);
    // Across days the axis names the dates too.
    const days = renderLoadChart({ by: 'verb', since: new Date('2026-03-09T12:00:00Z'), until: new Date('2026-03-10T12:00:00Z'), series: [burst], width: 60 }).split('\n');
    expect(days[0]).toContain('one column = 24 min (its busiest minute)');
    expect(days[3]).toBe(`     2026-03-09T12:00Z${' '.repeat(60 - 34)}2026-03-10T12:00Z`);
  });

  it('labels an empty key and says so when there were no requests', () => {
    expect(renderLoadChart({ by: 'code', since: new Date('2026-03-10T10:00:00Z'), until: new Date('2026-03-10T11:00:00Z'), series: [] })).toBe(
      'Requests per minute by code, 2026-03-10T10:00Z to 2026-03-10T11:00Z; one column = 1 min; █ = 0/min\n(no requests)',
    );
    const text = renderLoadChart({ by: 'useragent', since: new Date('2026-03-10T10:00:00Z'), until: new Date('2026-03-10T10:03:00Z'), series: [series('', '', [['2026-03-10T10:01:00Z', 3]])] });
    expect(text.split('\n')[2]).toBe('(none)  ·█·  3 requests, peak 3/min at 2026-03-10T10:01Z');
    // A user without a name is its account, once; one request is singular.
    const nameless = renderLoadChart({ by: 'user', since: new Date('2026-03-10T10:00:00Z'), until: new Date('2026-03-10T10:02:00Z'), series: [series('user:x', '', [['2026-03-10T10:01:00Z', 1]])] });
    expect(nameless.split('\n')[2]).toBe('user:x  ·█  1 request, peak 1/min at 2026-03-10T10:01Z');
  });
});
