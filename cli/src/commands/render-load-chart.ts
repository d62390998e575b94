import type { LoadDimension } from './ask-queries.js';
import type { LoadSeries } from './load-chart.js';

export interface LoadChartInput {
  by: LoadDimension;
  since: Date;
  until: Date;
  series: readonly LoadSeries[];
  /** Columns of the sparklines at most; a longer range puts several minutes in one column. */
  width?: number;
}

/** Eight heights; a minute without requests is `·`, so a quiet minute and a small one never look alike. */
const LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
const QUIET = '·';
const MINUTE_MS = 60_000;
const MAX_LABEL = 40;

const isoMinute = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16)}Z`;

/** The height of `value` on a scale whose top is `max` (any request shows at least the lowest bar). */
function bar(value: number, max: number): string {
  if (value <= 0 || max <= 0) return QUIET;
  return LEVELS[Math.min(LEVELS.length, Math.max(1, Math.ceil((value / max) * LEVELS.length))) - 1] ?? QUIET;
}

/** A person by name (their account goes at the end of the line); any other key as it is. */
function label(s: LoadSeries, by: LoadDimension): string {
  const text = by === 'user' && s.who !== '' ? s.who : s.key === '' ? '(none)' : s.key;
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

/**
 * `kaudit ask load --chart` as text: one sparkline per key, on one scale for all (so the busiest key's burst is
 * the tallest bar), the key's total and its peak rate beside it, and a time axis under them. A column is one
 * minute, or, when the range has more minutes than `width`, several — drawn at the busiest of them, so a burst
 * keeps its height however long the range. Plain Unicode, no colour: it reads the same piped to a file.
 */
export function renderLoadChart(input: LoadChartInput): string {
  const width = Math.max(1, Math.floor(input.width ?? 60));
  const first = Math.floor(input.since.getTime() / MINUTE_MS) * MINUTE_MS;
  const minutes = Math.max(1, Math.ceil((input.until.getTime() - first) / MINUTE_MS));
  const perColumn = Math.ceil(minutes / width);
  const columns = Math.ceil(minutes / perColumn);
  const top = Math.max(0, ...input.series.map((s) => s.peakPerMinute));
  const span = perColumn === 1 ? 'one column = 1 min' : `one column = ${perColumn} min (its busiest minute)`;
  const header = `Requests per minute by ${input.by}, ${isoMinute(first)} to ${isoMinute(input.until.getTime())}; ${span}; █ = ${top}/min`;
  if (input.series.length === 0) return `${header}\n(no requests)`;

  const labels = input.series.map((s) => label(s, input.by));
  const labelWidth = Math.max(...labels.map((l) => l.length));
  const lines = input.series.map((s, i) => {
    const cols = new Array<number>(columns).fill(0);
    for (const p of s.points) {
      const c = Math.floor((Date.parse(p.minute) - first) / MINUTE_MS / perColumn);
      if (c >= 0 && c < columns) cols[c] = Math.max(cols[c] ?? 0, p.requests);
    }
    const spark = cols.map((v) => bar(v, top)).join('');
    const peak = s.peakPerMinute > 0 ? `, peak ${s.peakPerMinute}/min at ${isoMinute(Date.parse(s.peakMinute))}` : '';
    const account = input.by === 'user' && s.who !== '' && s.who !== s.key ? `  [${s.key}]` : '';
    return `${(labels[i] ?? '').padEnd(labelWidth)}  ${spark}  ${s.requests} request${s.requests === 1 ? '' : 's'}${peak}${account}`;
  });
  // Within one UTC day the header has the date, so the axis needs only the time of day (and fits narrow charts).
  const last = first + columns * perColumn * MINUTE_MS;
  const sameDay = new Date(first).toISOString().slice(0, 10) === new Date(last - 1).toISOString().slice(0, 10);
  const tick = (ms: number) => (sameDay ? isoMinute(ms).slice(11, 16) : isoMinute(ms));
  const start = tick(first);
  const end = tick(last);
  const axis = columns >= start.length + end.length + 1 ? `${start}${' '.repeat(columns - start.length - end.length)}${end}` : start;
  return [header, '', ...lines, `${' '.repeat(labelWidth + 2)}${axis}`].join('\n');
}
