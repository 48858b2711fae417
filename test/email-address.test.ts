// isEmailAddress: what the import, addUser and the legacy import accept as an address (ASCII domains take a fast path).
import { isEmailAddress } from '../src/modules/users/user-input';

it.each([
  'ada@example.com',
  'ada+tag@mail.example.co.uk',
  'a@1.2',
  'a@xn--bcher-kva.de',
  'zoë@bücher.de',
  'ü@ü.ü',
  '"quoted @ local"@example.com',
  `a@${'x'.repeat(63)}.com`,
  'a@a-b.c-d',
])('accepts %s', (address) => {
  expect(isEmailAddress(address)).toBe(true);
});

it.each([
  'a@b',
  'a@-b.com',
  'a@b-.com',
  'a@.com',
  'a@b..com',
  'a@b.com.',
  `a@${'x'.repeat(64)}.com`,
  'a b@example.com',
  '@example.com',
  'a@',
  'a@exa_mple.com',
  'a@example.com\n',
  'a@bü-.de',
])('refuses %j', (address) => {
  expect(isEmailAddress(address)).toBe(false);
});
