/**
 * Formats microseconds since the epoch as ClickHouse DateTime64(6) text (`YYYY-MM-DD hh:mm:ss.ffffff`, UTC).
 * Text, not a number: a bare number in JSONEachRow is read as whole seconds for DateTime64, and `Date` alone
 * would drop the microseconds that order events within one millisecond.
 *
 * Computed with integer arithmetic (days → civil date, as in H. Hinnant's `civil_from_days`) instead of
 * Date#toISOString and string surgery: every row formats four instants, and that was 5% of the sink's CPU
 * (issue 16). Years outside 1000–9999 (which DateTime64 cannot hold anyway) keep the Date path's text.
 */
export function formatMicros(us: number): string {
  const seconds = Math.floor(us / 1_000_000);
  const micros = us - seconds * 1_000_000;
  const days = Math.floor(seconds / 86_400);
  const secondOfDay = seconds - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  // Negated so that NaN (a bad Kafka timestamp) takes the Date path too, which throws as it always did.
  if (!(year >= 1000 && year <= 9999)) return viaDate(seconds, micros);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor(secondOfDay / 60) - hour * 60;
  const second = secondOfDay - Math.floor(secondOfDay / 60) * 60;
  return `${year}-${two(month)}-${two(day)} ${two(hour)}:${two(minute)}:${two(second)}.${six(micros)}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function six(n: number): string {
  return n >= 100_000 ? `${n}` : `${n}`.padStart(6, '0');
}

function viaDate(seconds: number, micros: number): string {
  const base = new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return `${base}.${String(micros).padStart(6, '0')}`;
}

/** A Kafka timestamp (ms since the epoch, as the int64 string kafkajs gives) as ClickHouse DateTime64(3) text. */
export function formatMillis(ms: string): string {
  return formatMicros(Number(ms) * 1000);
}
