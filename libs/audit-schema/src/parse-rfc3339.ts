/**
 * RFC 3339 timestamps (`2026-11-20T09:14:03.481922Z`, `…+02:00`) → microseconds since the epoch, or the
 * reason it is not a real instant. Date.parse alone is not a check: it turns `2026-02-30` into March 1st
 * and accepts `24:00:00`, and keeps only milliseconds. The event schema has already checked the shape
 * (digits where digits go), so this reads fields by position (hot path: no regex, no allocation).
 */
export type ParsedTimestamp = { ok: true; micros: number } | { ok: false; reason: string };

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// A function, not a closure in parseRfc3339: that closure was allocated (and, under tsx, named) per call.
function bad(what: string): ParsedTimestamp {
  return { ok: false, reason: `not a valid RFC 3339 time: ${what}` };
}

/** Character codes the parser compares with (charCodeAt: no one-character string per comparison). */
const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const PLUS = 0x2b;
const UPPER_T = 0x54;
const LOWER_T = 0x74;
const UPPER_Z = 0x5a;
const LOWER_Z = 0x7a;
/** 10 ** (6 - k) for k fraction digits kept (1–6). */
const FRACTION_SCALE = [0, 100_000, 10_000, 1000, 100, 10, 1] as const;

export function parseRfc3339(ts: string): ParsedTimestamp {
  const t = ts.charCodeAt(10);
  if (ts.length < 20 || ts.charCodeAt(4) !== DASH || ts.charCodeAt(7) !== DASH || (t !== UPPER_T && t !== LOWER_T) || ts.charCodeAt(13) !== COLON || ts.charCodeAt(16) !== COLON) return bad('expected YYYY-MM-DDThh:mm:ss');
  const year = digits(ts, 0, 4);
  const month = digits(ts, 5, 2);
  const day = digits(ts, 8, 2);
  const hour = digits(ts, 11, 2);
  const minute = digits(ts, 14, 2);
  const second = digits(ts, 17, 2);
  // digits() gives a finite number or NaN, so the sum is NaN exactly when one of them is (no array per call).
  if (Number.isNaN(year + month + day + hour + minute + second)) return bad('expected digits');
  if (month < 1 || month > 12) return bad(`month ${month} does not exist`);
  const monthDays = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > monthDays) return bad(`day ${day} does not exist in month ${month} of ${year}`);
  if (hour > 23) return bad(`hour ${hour} is out of range`);
  if (minute > 59) return bad(`minute ${minute} is out of range`);
  // The apiserver (Go's time package) never writes a leap second; 60 is refused like any other overflow.
  if (second > 59) return bad(`second ${second} is out of range`);
  let i = 19;
  let micros = 0;
  if (ts.charCodeAt(i) === DOT) {
    const start = ++i;
    while (i < ts.length && ts.charCodeAt(i) >= 48 && ts.charCodeAt(i) <= 57) i++;
    const count = i - start;
    if (count === 0 || count > 9) return bad('expected 1 to 9 fraction digits');
    // Digits beyond the sixth are below ClickHouse's DateTime64(6) precision: dropped, not rounded.
    const kept = count < 6 ? count : 6;
    micros = digits(ts, start, kept) * (FRACTION_SCALE[kept] as number);
  }
  let offsetMinutes = 0;
  // NaN past the end, which matches no zone.
  const zone = ts.charCodeAt(i);
  if (zone === UPPER_Z || zone === LOWER_Z) {
    if (i + 1 !== ts.length) return bad('unexpected characters after the zone');
  } else if (zone === PLUS || zone === DASH) {
    if (i + 6 !== ts.length || ts.charCodeAt(i + 3) !== COLON) return bad('expected a zone offset ±hh:mm');
    const oh = digits(ts, i + 1, 2);
    const om = digits(ts, i + 4, 2);
    if (Number.isNaN(oh) || Number.isNaN(om) || oh > 23 || om > 59) return bad('zone offset out of range');
    offsetMinutes = (zone === PLUS ? 1 : -1) * (oh * 60 + om);
  } else {
    return bad('expected Z or a zone offset');
  }
  return { ok: true, micros: (utcMs(year, month, day, hour, minute, second) - offsetMinutes * 60_000) * 1000 + micros };
}

/**
 * Date.UTC's milliseconds for a valid proleptic Gregorian date and time of years 0–9999, by integer arithmetic (days
 * from the civil date, H. Hinnant's algorithm): Date.UTC was most of this function's time, and reads years 0–99 as
 * 1900–1999 besides. parse-rfc3339.test.ts compares it with Date over every day of the years it covers.
 */
function utcMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  // Years start in March, so that the leap day is the last day of the year.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  const days = era * 146_097 + dayOfEra - 719_468;
  return days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000;
}
