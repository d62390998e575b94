import { KauditError } from '@kaudit/errors';

/**
 * RFC 3339 → microseconds since the epoch. The apiserver writes microsecond fractions and Date
 * keeps only milliseconds, so the fraction is read separately instead of losing precision.
 */
export function toMicros(timestamp: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(timestamp);
  if (!m) throw new KauditError('INPUT_INVALID', `not an RFC 3339 timestamp: ${timestamp}`);
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) throw new KauditError('INPUT_INVALID', `not a valid date: ${timestamp}`);
  const micros = Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
  return seconds * 1000 + micros;
}
