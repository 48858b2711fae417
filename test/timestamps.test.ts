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
