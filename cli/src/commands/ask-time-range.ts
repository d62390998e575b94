import { KauditError } from '@kaudit/errors';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `1h`, `30m`, `7d`, `2w` (before `now`) or an ISO 8601 time → a Date; CONFIG_INVALID naming the option otherwise. */
export function parseTimeArg(value: string, now: Date, option: string): Date {
  const rel = /^(\d+)\s*([smhdw])$/.exec(value.trim());
  if (rel) return new Date(now.getTime() - Number(rel[1]) * (UNIT_MS[rel[2] as string] as number));
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new KauditError('CONFIG_INVALID', `${option} "${value}" is neither a duration (30m, 1h, 7d, 2w) nor an ISO 8601 time`);
  return new Date(ms);
}

export interface TimeRange {
  since: Date;
  until: Date;
}

/** The range of a question; `until` defaults to now, `since` to the question's own default. */
export function resolveTimeRange(opts: { since?: string; until?: string }, now: Date, defaultSince: string): TimeRange {
  const since = parseTimeArg(opts.since ?? defaultSince, now, '--since');
  const until = opts.until === undefined ? now : parseTimeArg(opts.until, now, '--until');
  if (since.getTime() >= until.getTime()) throw new KauditError('CONFIG_INVALID', `--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  return { since, until };
}

/** A Date as a DateTime64(6) query parameter value (UTC, `YYYY-MM-DD hh:mm:ss.ffffff`). */
export function toClickHouseTime(d: Date): string {
  return `${d.toISOString().slice(0, 23).replace('T', ' ')}000`;
}
