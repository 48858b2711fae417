// Auth0's timestamps (ISO 8601, as `2026-11-01T10:11:12.345Z`), read strictly into epoch milliseconds.

// Date and time, a fraction of a second if any, and Z or an offset: what Auth0 writes (always Z,
// with milliseconds) and what any ISO 8601 writer does. Date.parse accepts far more ("2026", "0",
// "1 2 3", "2026-02-30T00:00:00Z" as March 2nd), and Postgres refuses some of what it accepts.
const ISO_8601 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d\d):(\d\d))$/;

/** The epoch milliseconds of an ISO 8601 date and time, or undefined if it is not one (or not a real date). */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = ISO_8601.exec(value);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  // Milliseconds, the finer digits cut (the columns hold milliseconds).
  const millis = match[7] ? Number(match[7].slice(0, 3).padEnd(3, '0')) : 0;
  let offset = 0;
  if (!match[8]) {
    const offsetHours = Number(match[10]);
    const offsetMinutes = Number(match[11]);
    if (offsetHours > 23 || offsetMinutes > 59) return undefined;
    offset = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  }
  // Date.UTC reads years 0 to 99 as 1900 to 1999: those are shifted by one 400-year Gregorian cycle (146,097 days).
  const utc = year < 100 ? Date.UTC(year + 400, month - 1, day, hour, minute, second, millis) - 146_097 * 86_400_000 : Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return utc - offset;
}

const daysIn = (year: number, month: number) => (month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);
