// Auth0's timestamps read strictly: what Date.parse would wrongly accept is refused, never turned into another date.
import { parseTimestamp } from '../src/modules/users/timestamps';

it.each([
  ['2026-11-01T10:11:12.345Z', '2026-11-01T10:11:12.345Z'],
  ['2026-11-01T10:11:12Z', '2026-11-01T10:11:12.000Z'],
  ['2026-11-01T10:11:12.3Z', '2026-11-01T10:11:12.300Z'],
  ['2026-11-01T10:11:12.345678Z', '2026-11-01T10:11:12.345Z'],
  ['2026-11-01T10:11:12.345+02:00', '2026-11-01T08:11:12.345Z'],
  ['2026-11-01T00:30:00-01:30', '2026-11-01T02:00:00.000Z'],
  ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
  ['2000-02-29T23:59:59.999Z', '2000-02-29T23:59:59.999Z'],
  ['0050-06-15T12:00:00Z', '0050-06-15T12:00:00.000Z'],
  ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
])('%s is %s', (text, iso) => {
  const ms = parseTimestamp(text);
  expect(ms).toBe(Date.parse(iso));
  expect(new Date(ms!).toISOString()).toBe(iso);
});

it.each([
  '2026', // Date.parse: 2026-01-01
  '0', // Date.parse: 2000-01-01
  '1 2 3', // Date.parse: 2003-01-02
  'Tue, 01 Nov 2026',
  '2026-11-01',
  '2026-02-30T00:00:00Z', // Date.parse: March 2nd
  '2026-02-29T00:00:00Z',
  '1900-02-29T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-11-00T00:00:00Z',
  '2026-11-01T24:00:00Z',
  '2026-11-01T10:60:00Z',
  '2026-11-01T10:11:60Z',
  '2026-11-01T10:11:12+24:00',
  '2026-11-01T10:11:12',
  '2026-11-01 10:11:12Z',
  ' 2026-11-01T10:11:12Z',
  '2026-11-01T10:11:12.Z',
  '+275760-09-13T00:00:00Z',
  '',
])('%j is refused', (text) => {
  expect(parseTimestamp(text)).toBeUndefined();
});

it.each([[1_700_000_000_000], [null], [true], [{}], [['2026-11-01T10:11:12Z']]])('%j (not a string) is refused', (value) => {
  expect(parseTimestamp(value)).toBeUndefined();
});

it('reads Auth0-shaped timestamps (its shortcut, without the regex) as Date.parse does, across the calendar', () => {
  // The realistic export's values are new Date(ms).toISOString() of random instants; these span
  // 1970 to 2200, every month and leap day, at random times of day, plus every month's last instant.
  let seed = 15;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values = Array.from({ length: 50_000 }, () => new Date(Math.floor(random() * Date.UTC(2200, 0, 1))).toISOString());
  for (let year = 1999; year <= 2101; year += 1) for (let month = 0; month < 12; month += 1) values.push(new Date(Date.UTC(year, month + 1, 0, 23, 59, 59, 999)).toISOString());
  const wrong = values.filter((value) => parseTimestamp(value) !== Date.parse(value));
  expect(wrong).toEqual([]);
});

it.each([
  ['2024-02-29T12:00:00.000Z', true], // a leap day
  ['2023-02-29T12:00:00.000Z', false], // not a leap year
  ['2100-02-29T12:00:00.000Z', false], // a century that is not a leap year
  ['2000-02-29T12:00:00.000Z', true], // one that is
  ['2026-04-31T00:00:00.000Z', false],
  ['2026-00-10T00:00:00.000Z', false],
  ['2026-13-10T00:00:00.000Z', false],
  ['2026-01-00T00:00:00.000Z', false],
  ['2026-01-32T00:00:00.000Z', false],
  ['2026-01-01T24:00:00.000Z', false],
  ['2026-01-01T23:60:00.000Z', false],
  ['2026-01-01T23:59:60.000Z', false],
  ['2026-01-01t00:00:00.000z', false],
  ['2026-01-01 00:00:00.000Z', false],
  ['2026-01-01T00:00:00.00aZ', false],
  ['2O26-01-01T00:00:00.000Z', false],
  ['２０２６-01-01T00:00:00.000Z', false],
  ['-001-01-01T00:00:00.000Z', false],
  ['0000-01-01T00:00:00.000Z', true],
  ['0099-12-31T23:59:59.999Z', true],
  ['9999-12-31T23:59:59.999Z', true],
])('%j, shaped like Auth0 writes, is read as Date.parse reads it: %s', (value, valid) => {
  expect(parseTimestamp(value)).toBe(valid ? Date.parse(value) : undefined);
});
