// The API side of the automatic migration, through HTTP into the real app and Postgres: password
// checks in every encoding, unknown emails, limits, refusals, linking by addUser and its races.
import { randomUUID } from 'node:crypto';
import { passwordVerificationsStarted } from '../src/modules/legacy/password-hashes';
import { makeLegacyHash, type LegacyEncoding } from '../src/modules/legacy/make-legacy-hash';
import { createLegacyUser, type LegacyUserOptions } from './support/legacy';
import { expectData, expectError, graphql } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';

const VERIFY = /* GraphQL */ `
  mutation Verify($input: VerifyLegacyPasswordInput!) {
    verifyLegacyPassword(input: $input) { valid profile { legacyId auth0Id email emailVerified name picture userMetadata appMetadata migratedAt } }
  }
`;
const ADD_USER = /* GraphQL */ `
  mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created user { id auth0Id connection } } }
`;
const LEGACY_USER = /* GraphQL */ `query ($email: String!) { legacyUser(email: $email) { legacyId email migratedAt } }`;

interface VerifyData {
  verifyLegacyPassword: { valid: boolean; profile: { legacyId: string; auth0Id: string; email: string; userMetadata: Record<string, unknown>; appMetadata: Record<string, unknown>; migratedAt: string | null } | null };
}

let server: TestServer;
let token: string;
// Every body the API answered in this file: none may ever hold a hash.
const bodies: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ env: { LEGACY_MAX_FAILURES_PER_EMAIL: '3', LEGACY_MAX_FAILURES_PER_ADDRESS: '4' } });
  token = await server.machineToken(['migrate:users']);
});
afterAll(async () => {
  const text = bodies.join('\n');
  expect(text).not.toMatch(/\$2[aby]\$|\$argon2|\$scrypt\$|pbkdf2/);
  await server.close();
});

async function verify(email: string, password: string, clientIp?: string) {
  const response = await graphql<VerifyData>(server, { query: VERIFY, variables: { input: { email, password, clientIp } }, token });
  bodies.push(JSON.stringify(response));
  if (response.errors) throw new Error(`unexpected errors: ${JSON.stringify(response.errors)}`);
  return response.data!.verifyLegacyPassword;
}

const rowOf = async (auth0Id: string) =>
  (await server.prisma.user.findUniqueOrThrow({ where: { auth0Id }, select: { id: true, passwordHash: true, migratedAt: true, updatedAt: true, email: true } }));
const legacy = (options: LegacyUserOptions = {}) => createLegacyUser(server.database.url, options);

describe('verifyLegacyPassword accepts every documented encoding', () => {
  const encodings: Array<[string, LegacyEncoding, (hash: string) => string]> = [
    ['bcrypt $2a$', 'bcrypt', (hash) => hash.replace(/^\$2.\$/, '$2a$')],
    ['bcrypt $2b$', 'bcrypt', (hash) => hash.replace(/^\$2.\$/, '$2b$')],
    ['bcrypt $2y$', 'bcrypt', (hash) => hash.replace(/^\$2.\$/, '$2y$')],
    ['argon2id (PHC)', 'argon2id', (hash) => hash],
    ['scrypt (PHC)', 'scrypt', (hash) => hash],
    ['scrypt (passlib)', 'scrypt-passlib', (hash) => hash],
    ['PBKDF2-SHA256 (PHC)', 'pbkdf2-sha256', (hash) => hash],
    ['PBKDF2-SHA256 (Django)', 'pbkdf2-sha256-django', (hash) => hash],
    ['argon2i (PHC)', 'argon2i', (hash) => hash],
    ['PBKDF2-SHA1 (PHC)', 'pbkdf2-sha1', (hash) => hash],
    ['PBKDF2-SHA512 (PHC)', 'pbkdf2-sha512', (hash) => hash],
    ['salted SHA-1 (Auth0 custom_password_hash object)', 'sha1-salted', (hash) => hash],
    ['unsalted MD5 (Auth0 custom_password_hash object)', 'md5-unsalted', (hash) => hash],
    ['LDAP {SSHA}', 'ldap-ssha', (hash) => hash],
  ];
  it.each(encodings)('%s: the right password is valid and answers the profile, a wrong one is not, and the row is unchanged', async (_name, encoding, rewrite) => {
    const password = `pw-${randomUUID()}`;
    const user = await legacy({ passwordHash: rewrite(await makeLegacyHash(encoding, password)), password });
    const before = await rowOf(user.auth0Id);

    expect(await verify(user.email, `${password}x`)).toEqual({ valid: false, profile: null });
    const right = await verify(user.email, password);
    expect(right.valid).toBe(true);
    expect(right.profile).toMatchObject({ legacyId: user.legacyId, auth0Id: user.auth0Id, email: user.email, userMetadata: { theme: 'dark' }, appMetadata: { plan: 'gold' }, migratedAt: null });
    // Checking a password links nothing: that is addUser's job once Auth0 holds the user.
    expect(await rowOf(user.auth0Id)).toEqual(before);
  });

  // Hashes written by other implementations (OpenBSD's bcrypt test vector; Python's hashlib), not by our own helper.
  it.each([
    ['bcrypt', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', 'U*U'],
    ['Django PBKDF2', 'pbkdf2_sha256$1200$seasalt42$Sxb8KzN00P9XU6tfSvt7WpbsGI7MswV/KrWpodXbUXs=', 'correct horse ☃'],
    ['scrypt', '$scrypt$ln=10,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$iMF271AU6U9ZaOwzrWuC3/KGcPCfOwGX2uWG9jhpbOs', 'correct horse ☃'],
    ['passlib PBKDF2', '$pbkdf2-sha256$1500$MDEyMzQ1Njc4OWFiY2RlZg$Ev0WgPTDKFVR.Yv8zV6rLppNLhBA07EjDB2XqxKal0Q', 'correct horse ☃'],
  ])('a %s hash made elsewhere verifies', async (_name, passwordHash, password) => {
    const user = await legacy({ passwordHash });
    expect((await verify(user.email, password)).valid).toBe(true);
    expect((await verify(user.email, `${password} `)).valid).toBe(false);
  });
});

it('a Unicode password verifies byte for byte (UTF-8), and its other normalization does not', async () => {
  const password = 'Ünïcødé 🔑 pässwörd ✓ 日本語';
  const user = await legacy({ encoding: 'argon2id', password });
  expect((await verify(user.email, password)).valid).toBe(true);
  expect((await verify(user.email, password.normalize('NFD'))).valid).toBe(false);
});

it('the email is matched case-insensitively', async () => {
  const user = await legacy({ encoding: 'pbkdf2-sha256' });
  expect((await verify(user.email.toUpperCase(), user.password)).valid).toBe(true);
});

it('a wrong password changes nothing in Postgres and is counted: past the limit even the right password is answered the same', async () => {
  const user = await legacy({ encoding: 'scrypt' });
  const before = await rowOf(user.auth0Id);
  for (let i = 0; i < 3; i += 1) expect(await verify(user.email, `wrong-${i}`)).toEqual({ valid: false, profile: null });
  expect(await verify(user.email, user.password)).toEqual({ valid: false, profile: null });
  expect(await rowOf(user.auth0Id)).toEqual(before);
  expect(server.logs.join('\n')).toContain('too many failed attempts');
});

it('an unknown email gets the same answer as a wrong password, after a hash verification all the same', async () => {
  const user = await legacy({ encoding: 'bcrypt' });
  const wrongStarted = passwordVerificationsStarted();
  const wrong = await verify(user.email, 'not-the-password');
  const unknownStarted = passwordVerificationsStarted();
  const unknown = await verify(`nobody-${randomUUID()}@legacy.example`, 'not-the-password');
  expect(unknown).toEqual(wrong);
  expect(unknownStarted - wrongStarted).toBe(1);
  expect(passwordVerificationsStarted() - unknownStarted).toBe(1);
});

it('failures are limited per end-user address too, across emails', async () => {
  const clientIp = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
  const victim = await legacy({ encoding: 'pbkdf2-sha256' });
  for (let i = 0; i < 4; i += 1) await verify(`stuffing-${randomUUID()}@legacy.example`, 'password123', clientIp);
  expect((await verify(victim.email, victim.password, clientIp)).valid).toBe(false);
  // The same user from another address is not affected.
  expect((await verify(victim.email, victim.password, '198.51.100.7')).valid).toBe(true);
});

it('a fresh clientIp on every attempt does not move failures off the calling client: they count on both', async () => {
  // A second app on the same database, with a per-client limit small enough to reach.
  const strict = await startTestServer({ database: server.database, env: { LEGACY_MAX_FAILURES_PER_CLIENT: '5', LEGACY_MAX_FAILURES_PER_ADDRESS: '4' } });
  try {
    const stuffer = await strict.machineToken(['migrate:users']);
    const attempt = async (email: string, password: string, clientIp: string) => {
      const response = await graphql<VerifyData>(strict, { query: VERIFY, variables: { input: { email, password, clientIp } }, token: stuffer });
      return response.data!.verifyLegacyPassword.valid;
    };
    const victim = await legacy({ encoding: 'pbkdf2-sha256' });
    for (let i = 1; i <= 5; i += 1) expect(await attempt(`stuffing-${randomUUID()}@legacy.example`, 'password123', `198.18.0.${i}`)).toBe(false);
    // A sixth address, never seen, and the right password: the client's failures still count.
    expect(await attempt(victim.email, victim.password, '198.18.0.6')).toBe(false);
    expect(strict.logs.join('\n')).toContain('"limited":"client"');
  } finally {
    await strict.close();
  }
});

describe('over-long passwords', () => {
  it('a 2,000-byte password is refused with BAD_USER_INPUT before any hashing, and is not echoed', async () => {
    const user = await legacy({ encoding: 'bcrypt' });
    const password = 'p'.repeat(2000);
    const started = passwordVerificationsStarted();
    const error = await expectError(server, { query: VERIFY, variables: { input: { email: user.email, password } }, token }, 'BAD_USER_INPUT');
    bodies.push(JSON.stringify(error));
    expect(error.message).toBe('input.password: must be at most 1024 bytes');
    expect(JSON.stringify(error.response)).not.toContain(password);
    expect(passwordVerificationsStarted()).toBe(started);
  });

  it('a 1 MB password is refused by the body limit (413) before GraphQL runs', async () => {
    const started = passwordVerificationsStarted();
    const response = await server
      .request()
      .post('/graphql')
      .set('authorization', `Bearer ${token}`)
      .send({ query: VERIFY, variables: { input: { email: 'a@legacy.example', password: 'x'.repeat(1024 * 1024) } } });
    expect(response.status).toBe(413);
    expect(passwordVerificationsStarted()).toBe(started);
  });

  it('a password longer than bcrypt reads (72 bytes) is refused, never truncated: its first 72 bytes do not log in', async () => {
    const first72 = 'é'.repeat(36); // 72 bytes of UTF-8
    const user = await legacy({ encoding: 'bcrypt', password: first72 });
    expect((await verify(user.email, first72)).valid).toBe(true);
    expect((await verify(user.email, `${first72}and more`)).valid).toBe(false);
    expect(server.logs.join('\n')).toContain("longer than bcrypt reads (72 bytes)");
  });
});

it('a stored hash the library cannot use after all answers as a wrong password, logged without the hash', async () => {
  // Well-formed PHC that the argon2 library refuses (memory cost below its minimum).
  const unusable = '$argon2id$v=19$m=1,t=2,p=1$vIGNkRbOxmR4jI6UHATz5w$8W1U87JYwN4qS0iKjNocmqSh7L3KwkO/vlj8LTr40V8';
  const user = await legacy({ passwordHash: unusable });
  expect(await verify(user.email, 'anything')).toEqual({ valid: false, profile: null });
  const logs = server.logs.join('\n');
  expect(logs).toMatch(/"hashKind":"argon2".*"msg":"legacy hash verification failed"/);
  expect(logs).not.toContain('8W1U87JYwN4qS0iKjNocmqSh7L3KwkO');
  expect((await rowOf(user.auth0Id)).passwordHash).toBe(unusable);
});

it('passwords appear in no log line', async () => {
  const password = `secret-${randomUUID()}`;
  const user = await legacy({ encoding: 'scrypt', password });
  await verify(user.email, password);
  await verify(user.email, `${password}-wrong`);
  expect(server.logs.join('\n')).not.toContain(password);
});

it('bad input is refused with BAD_USER_INPUT naming the field', async () => {
  for (const [input, field] of [
    [{ email: 'not-an-email', password: 'x' }, 'input.email'],
    [{ email: 'a@legacy.example', password: 'x', clientIp: 'not an ip' }, 'input.clientIp'],
  ] as const) {
    const error = await expectError(server, { query: VERIFY, variables: { input }, token }, 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe(field);
  }
});

it('a token without migrate:users is refused, even with every other scope', async () => {
  const other = await server.machineToken(['create:users', 'read:users', 'read:transactions']);
  await expectError(server, { query: VERIFY, variables: { input: { email: 'a@legacy.example', password: 'x' } }, token: other }, 'FORBIDDEN');
  await expectError(server, { query: LEGACY_USER, variables: { email: 'a@legacy.example' }, token: other }, 'FORBIDDEN');
});

describe('legacyUser (the Get User script)', () => {
  it('answers a known user without a password check, and null for an unknown one', async () => {
    const user = await legacy();
    const known = await expectData<{ legacyUser: unknown }>(server, { query: LEGACY_USER, variables: { email: user.email.toUpperCase() }, token });
    bodies.push(JSON.stringify(known));
    expect(known.legacyUser).toEqual({ legacyId: user.legacyId, email: user.email, migratedAt: null });
    const unknown = await expectData<{ legacyUser: unknown }>(server, { query: LEGACY_USER, variables: { email: `nobody-${randomUUID()}@legacy.example` }, token });
    expect(unknown.legacyUser).toBeNull();
  });
});

describe('linking: addUser for auth0|<legacy id> makes the legacy row that Auth0 user', () => {
  const addUser = async (auth0Id: string, email: string) => {
    const data = await expectData<{ addUser: { created: boolean; user: { id: string; auth0Id: string; connection: string } } }>(server, {
      query: ADD_USER,
      variables: { input: { auth0Id, email, emailVerified: true, connection: 'legacy-db', loginsCount: 1, lastLoginAt: new Date().toISOString() } },
      token: await server.machineToken(['create:users']),
    });
    bodies.push(JSON.stringify(data));
    return data.addUser;
  };

  it('same row id, transactions kept, hash erased, migratedAt set; the old password then no longer verifies', async () => {
    const user = await legacy({ encoding: 'argon2id', transactions: 7 });
    const result = await addUser(user.auth0Id, user.email);

    expect(result).toEqual({ created: false, user: { id: user.rowId, auth0Id: user.auth0Id, connection: 'legacy-db' } });
    const rows = await server.prisma.user.findMany({ where: { OR: [{ auth0Id: user.auth0Id }, { email: user.email }] } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: user.rowId, legacyId: user.legacyId, passwordHash: null, connection: 'legacy-db' });
    expect(rows[0]!.migratedAt).toBeInstanceOf(Date);
    expect(await server.prisma.transaction.count({ where: { userId: user.rowId } })).toBe(7);
    expect((await verify(user.email, user.password)).valid).toBe(false);

    // A retry keeps the first migration time.
    await addUser(user.auth0Id, user.email);
    expect((await server.prisma.user.findUniqueOrThrow({ where: { id: user.rowId } })).migratedAt).toEqual(rows[0]!.migratedAt);
  });

  it('20 concurrent first addUser calls for one legacy user leave one row with one Auth0 id', async () => {
    const user = await legacy({ encoding: 'bcrypt', transactions: 3 });
    const results = await Promise.all(Array.from({ length: 20 }, () => addUser(user.auth0Id, user.email)));

    expect(new Set(results.map((result) => result.user.id))).toEqual(new Set([user.rowId]));
    expect(results.every((result) => !result.created)).toBe(true);
    const rows = await server.prisma.user.findMany({ where: { email: user.email } });
    expect(rows.map((row) => [row.id, row.auth0Id, row.passwordHash])).toEqual([[user.rowId, user.auth0Id, null]]);
    expect(await server.prisma.transaction.count({ where: { userId: user.rowId } })).toBe(3);
  });

  it('a plain (non-legacy) user is never marked migrated', async () => {
    const auth0Id = `google-oauth2|${randomUUID()}`;
    await addUser(auth0Id, `${randomUUID()}@gmail.com`);
    await addUser(auth0Id, `${randomUUID()}@gmail.com`);
    expect(await server.prisma.user.findUniqueOrThrow({ where: { auth0Id } })).toMatchObject({ legacyId: null, migratedAt: null, passwordHash: null });
  });

  it('the same person signing in with Google is a different Auth0 user: a new row, never merged by email', async () => {
    const user = await legacy({ encoding: 'bcrypt', transactions: 2 });
    const google = await addUser(`google-oauth2|${randomUUID()}`, user.email);
    expect(google.created).toBe(true);
    expect(google.user.id).not.toBe(user.rowId);
    expect(await rowOf(user.auth0Id)).toMatchObject({ id: user.rowId, migratedAt: null });
    expect((await rowOf(user.auth0Id)).passwordHash).not.toBeNull();
  });
});
