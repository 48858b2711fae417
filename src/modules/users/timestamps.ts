// Auth0's timestamps (ISO 8601, as `2026-11-01T10:11:12.345Z`), read strictly into epoch milliseconds.

// Date and time, a fraction of a second if any, and Z or an offset: what Auth0 writes (always Z,
// with milliseconds) and what any ISO 8601 writer does. Date.parse accepts far more ("2026", "0",
// "1 2 3", "2026-02-30T00:00:00Z" as March 2nd), and Postgres refuses some of what it accepts.
const ISO_8601 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d\d):(\d\d))$/;

/** The epoch milliseconds of an ISO 8601 date and time, or undefined if it is not one (or not a real date). */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  // Auth0's own shape (an export has a million of them) is read without the regex.
  if (isAuth0Shape(value)) {
    return utc(digits(value, 0, 4), digits(value, 5, 2), digits(value, 8, 2), digits(value, 11, 2), digits(value, 14, 2), digits(value, 17, 2), digits(value, 20, 3), 0);
  }
  const match = ISO_8601.exec(value);
  if (!match) return undefined;
  // Milliseconds, the finer digits cut (the columns hold milliseconds).
  const millis = match[7] ? Number(match[7].slice(0, 3).padEnd(3, '0')) : 0;
  let offset = 0;
  if (!match[8]) {
    const offsetHours = Number(match[10]);
    const offsetMinutes = Number(match[11]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offset = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  return utc(Number(match[1]), Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6]), millis, offset);
}

// YYYY-MM-DDTHH:MM:SS.mmmZ, the separators checked here and the digits by digits() (-1 if not one).
const isAuth0Shape = (v: string) =>
  v.length === 24 && v.charCodeAt(4) === 45 && v.charCodeAt(7) === 45 && v.charCodeAt(10) === 84 && v.charCodeAt(13) === 58 && v.charCodeAt(16) === 58 && v.charCodeAt(19) === 46 && v.charCodeAt(23) === 90;

// The decimal number of `length` ASCII digits at `at`, or -1 if one is not a digit.
function digits(v: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i += 1) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** The epoch milliseconds of a calendar date and time at `offsetMs` from UTC, or undefined if there is no such date or time. */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number, offsetMs: number): number | undefined {
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || millis < 0) return undefined;
  // Date.UTC reads years 0 to 99 as 1900 to 1999: those are shifted by one 400-year Gregorian cycle (146,097 days).
  const at = year < 100 ? Date.UTC(year + 400, month - 1, day, hour, minute, second, millis) - 146_097 * 86_400_000 : Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return at - offsetMs;
}

const daysIn = (year: number, month: number) => (month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31);
