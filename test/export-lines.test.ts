// The export line parser's shortcuts give the answers of what they stand in for.
import { copyBytes, copyText, type ImportedUser } from '../src/modules/users/users-bulk-upsert';

it('makes the same COPY text as bytes (copyBytes) as copyText does as a string, escapes and multi-byte characters included', () => {
  const users: ImportedUser[] = [
    { auth0Id: 'auth0|plain', email: 'ada@example.com', emailVerified: true, name: 'Ada', picture: null, connection: 'Username-Password-Authentication', loginsCount: 3, lastLoginMs: Date.UTC(2026, 9, 1), auth0UpdatedMs: Date.UTC(2026, 9, 2) },
    { auth0Id: 'auth0|back\\slash', email: null, emailVerified: false, name: 'Tab\there\nnew line\r\\', picture: 'https://example.com/é.png', connection: null, loginsCount: 0, lastLoginMs: null, auth0UpdatedMs: null },
    // Beyond the buffer's first size: 2,048 three-byte characters, and characters outside the BMP.
    { auth0Id: 'sms|+33600000000', email: '"zoë"@exämple.com', emailVerified: false, name: 'Zoë 🦊 Nguyễn', picture: '€'.repeat(2048), connection: 'sms', loginsCount: 2_147_483_647, lastLoginMs: Date.UTC(2026, 1, 28, 23, 59, 59, 999), auth0UpdatedMs: -62_135_596_800_000 },
  ];
  // The first column is a fresh UUIDv7 at each call: compared without it.
  const withoutIds = (text: string) => text.split('\n').map((row) => row.slice(row.indexOf('\t')));
  const bytes = copyBytes(users);
  expect(bytes.byteOffset).toBe(0);
  expect(withoutIds(new TextDecoder().decode(bytes))).toEqual(withoutIds(copyText(users)));
  expect(bytes.byteLength).toBe(Buffer.byteLength(copyText(users)));
});
