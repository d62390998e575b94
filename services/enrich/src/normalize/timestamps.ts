import { KauditError } from '@kaudit/errors';

/**
 * RFC 3339 → microseconds since the epoch. Date keeps only milliseconds, so digits 4–6 of the
 * fraction are added separately instead of losing precision. (Hot path: no regex; the event schema
 * has already checked the format, Date.parse rejects anything else.)
 */
export function toMicros(timestamp: string): number {
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms)) throw new KauditError('INPUT_INVALID', `not an RFC 3339 timestamp: ${timestamp}`);
  const dot = timestamp.indexOf('.', 19);
  if (dot !== 19) return ms * 1000;
  let micros = 0;
  for (let i = dot + 4; i < dot + 7; i++) {
    const digit = timestamp.charCodeAt(i) - 48;
    micros = micros * 10 + (digit >= 0 && digit <= 9 ? digit : 0);
    // Fewer than 6 fraction digits: the missing ones are zeros (the loop keeps scaling by 10).
  }
  return ms * 1000 + micros;
}
