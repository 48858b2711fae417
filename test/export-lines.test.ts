// The export line parser's shortcuts give the answers of what they stand in for.
import { copyBytes, copyText, type ImportedUser } from '../src/modules/users/users-bulk-upsert';
import { parseTimestamp } from '../src/modules/users/timestamps';
import { isDate } from '../src/sync/export-lines';

const readsAsDate = (value: string) => parseTimestamp(value) !== undefined;

it('reads last_login and updated_at as parseTimestamp does on timestamps shaped like Auth0 writes them, across the calendar', () => {
  // The realistic export's values are new Date(ms).toISOString() of random instants; these span
  // 1970 to 2200, every month and leap day, at random times of day.
  let seed = 15;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values = Array.from({ length: 50_000 }, () => new Date(Math.floor(random() * Date.UTC(2200, 0, 1))).toISOString());
  for (let year = 1999; year <= 2101; year += 1) for (let month = 0; month < 12; month += 1) values.push(new Date(Date.UTC(year, month + 1, 0, 23, 59, 59, 999)).toISOString());
  for (const value of values) expect([value, isDate(value)]).toEqual([value, readsAsDate(value)]);
  expect(values.every(readsAsDate)).toBe(true);
});

it.each([
  '2024-02-29T12:00:00.000Z', // a leap day
  '2023-02-29T12:00:00.000Z', // not a leap year
  '2100-02-29T12:00:00.000Z', // a century that is not a leap year
  '2000-02-29T12:00:00.000Z', // one that is
  '2026-04-31T00:00:00.000Z',
  '2026-00-10T00:00:00.000Z',
  '2026-13-10T00:00:00.000Z',
  '2026-01-00T00:00:00.000Z',
  '2026-01-32T00:00:00.000Z',
  '2026-01-01T24:00:00.000Z',
  '2026-01-01T23:60:00.000Z',
  '2026-01-01T23:59:60.000Z',
  '2026-01-01t00:00:00.000z',
  '2026-01-01T00:00:00.000+02:00',
  '2026-01-01 00:00:00.000Z',
  '2026-01-01T00:00:00.00aZ',
  '2O26-01-01T00:00:00.000Z',
  '２０２６-01-01T00:00:00.000Z',
  '0000-01-01T00:00:00.000Z',
  '+002026-01-01T00:00:00.000Z',
  '-000001-01-01T00:00:00.000Z',
  '2026-01-01',
  '2026-01-01T00:00:00Z',
  'Thu, 01 Jan 2026 00:00:00 GMT',
  '1 January 2026',
  '',
  ' 2026-01-01T00:00:00.000Z',
  'yesterday',
])('reads %j as parseTimestamp does', (value) => {
  expect(isDate(value)).toBe(readsAsDate(value));
});

it('makes the same COPY text as bytes (copyBytes) as copyText does as a string, escapes and multi-byte characters included', () => {
  const users: ImportedUser[] = [
    { auth0Id: 'auth0|plain', email: 'ada@example.com', emailVerified: true, name: 'Ada', picture: null, connection: 'Username-Password-Authentication', loginsCount: 3, lastLoginAt: '2026-10-01T00:00:00.000Z', auth0UpdatedAt: '2026-10-02T00:00:00.000Z' },
    { auth0Id: 'auth0|back\\slash', email: null, emailVerified: false, name: 'Tab\there\nnew line\r\\', picture: 'https://example.com/é.png', connection: null, loginsCount: 0, lastLoginAt: null, auth0UpdatedAt: null },
    // Beyond the buffer's first size: 2,048 three-byte characters, and characters outside the BMP.
    { auth0Id: 'sms|+33600000000', email: '"zoë"@exämple.com', emailVerified: false, name: 'Zoë 🦊 Nguyễn', picture: '€'.repeat(2048), connection: 'sms', loginsCount: 2_147_483_647, lastLoginAt: '2026-02-28T23:59:59.999Z', auth0UpdatedAt: '2026-03-01T00:00:00+01:00' },
  ];
  // The first column is a fresh UUIDv7 at each call: compared without it.
  const withoutIds = (text: string) => text.split('\n').map((row) => row.slice(row.indexOf('\t')));
  const bytes = copyBytes(users);
  expect(bytes.byteOffset).toBe(0);
  expect(withoutIds(new TextDecoder().decode(bytes))).toEqual(withoutIds(copyText(users)));
  expect(bytes.byteLength).toBe(Buffer.byteLength(copyText(users)));
});
