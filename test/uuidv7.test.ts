// The ids the bulk upsert gives new users: UUIDv7, increasing.
import { uuidv7s } from '../src/modules/users/uuidv7';

it('makes version 7, RFC 9562 variant UUIDs that carry the current time in milliseconds', () => {
  const before = Date.now();
  const [id] = uuidv7s(1);
  const after = Date.now();
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ms = parseInt(id!.replace(/-/g, '').slice(0, 12), 16);
  expect(ms).toBeGreaterThanOrEqual(before);
  expect(ms).toBeLessThanOrEqual(after);
});

it('gives strictly increasing ids, within one call and across calls, beyond 4,096 in a millisecond', () => {
  const ids = [...uuidv7s(10_000), ...uuidv7s(10_000)];
  const sorted = [...ids].sort();
  expect(ids).toEqual(sorted);
  expect(new Set(ids).size).toBe(ids.length);
});
