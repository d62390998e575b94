/**
 * Formats microseconds since the epoch as ClickHouse DateTime64(6) text (`YYYY-MM-DD hh:mm:ss.ffffff`, UTC).
 * Text, not a number: a bare number in JSONEachRow is read as whole seconds for DateTime64, and `Date` alone
 * would drop the microseconds that order events within one millisecond.
 */
export function formatMicros(us: number): string {
  const seconds = Math.floor(us / 1_000_000);
  const micros = us - seconds * 1_000_000;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return `${base}.${String(micros).padStart(6, '0')}`;
}

/** A Kafka timestamp (ms since the epoch, as the int64 string kafkajs gives) as ClickHouse DateTime64(3) text. */
export function formatMillis(ms: string): string {
  return formatMicros(Number(ms) * 1000);
}
