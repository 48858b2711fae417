// Timing of the legacy login over real HTTP: an unknown email must cost what a wrong password costs
// for the users actually waiting in the store, per hash family and cost, and so must a limited attempt.
import { pbkdf2Sync, randomBytes, randomUUID, scryptSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { passwordVerificationsStarted } from '../src/modules/legacy/password-hashes';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { graphql } from './support/graphql';
import { createLegacyUser } from './support/legacy';
import { startTestServer, type TestServer } from './support/server';

const VERIFY = /* GraphQL */ `mutation Verify($input: VerifyLegacyPasswordInput!) { verifyLegacyPassword(input: $input) { valid } }`;

// Small enough for a shared 2-core machine, large enough for a median to mean something.
const CALLS_PER_SIDE = 9;
const USERS_PER_STORE = 3;

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');

/** Production-like costs (not the cheap test defaults), each far from the old bcrypt-10 dummy (~70 ms here). */
const FAMILIES: Record<string, (password: string) => Promise<string>> = {
  'bcrypt cost 12': (password) => bcryptHash(password, 12),
  // OWASP's argon2id minimum: much cheaper than bcrypt 10.
  'argon2id m=19456,t=2,p=1': (password) => argon2Hash(password, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }),
  'scrypt ln=16,r=8,p=1': async (password) => {
    const salt = randomBytes(16);
    return `$scrypt$ln=16,r=8,p=1$${b64(salt)}$${b64(scryptSync(password, salt, 32, { N: 2 ** 16, r: 8, p: 1, maxmem: 2 ** 28 }))}`;
  },
  'PBKDF2-SHA256 600,000': async (password) => {
    const salt = randomBytes(16);
    return `$pbkdf2-sha256$i=600000,l=32$${b64(salt)}$${b64(pbkdf2Sync(password, salt, 600_000, 32, 'sha256'))}`;
  },
};

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

/** A store where only these users wait: everyone loaded before is marked migrated, as addUser would. */
async function storeOf(family: string, count: number): Promise<string[]> {
  await withClient(database.url, (client) => client.query('UPDATE users SET migrated_at = now(), password_hash = NULL WHERE legacy_id IS NOT NULL AND migrated_at IS NULL'));
  const emails: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const password = `pw-${randomUUID()}`;
    emails.push((await createLegacyUser(database.url, { passwordHash: await FAMILIES[family]!(password), password })).email);
  }
  return emails;
}

/** A server started after the store was loaded, with limits high enough that only the limiter test meets them. */
const serverOn = (env: Record<string, string> = {}) =>
  startTestServer({ database, env: { LEGACY_MAX_FAILURES_PER_EMAIL: '1000', LEGACY_MAX_FAILURES_PER_CLIENT: '100000', ...env } });

async function timedVerify(server: TestServer, token: string, email: string, password: string): Promise<number> {
  const started = performance.now();
  const response = await graphql<{ verifyLegacyPassword: { valid: boolean } }>(server, { query: VERIFY, variables: { input: { email, password } }, token });
  const elapsed = performance.now() - started;
  if (response.data?.verifyLegacyPassword.valid !== false) throw new Error(`expected valid: false, got ${JSON.stringify(response)}`);
  return elapsed;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const unknownEmail = () => `nobody-${randomUUID()}@legacy.example`;

/**
 * Median of `first` calls over median of `second` calls (unknown emails unless told). The two kinds
 * alternate, so a neighbour's load on the shared machine slows both alike; one warm-up pair goes first.
 */
async function medianRatio(server: TestServer, first: () => string, password: () => string, second: () => string = unknownEmail): Promise<{ first: number; second: number; ratio: number }> {
  const token = await server.machineToken(['migrate:users']);
  await timedVerify(server, token, first(), password());
  await timedVerify(server, token, second(), password());
  const times = { first: [] as number[], second: [] as number[] };
  for (let i = 0; i < CALLS_PER_SIDE; i += 1) {
    times.first.push(await timedVerify(server, token, first(), password()));
    times.second.push(await timedVerify(server, token, second(), password()));
  }
  const result = { first: median(times.first), second: median(times.second) };
  return { ...result, ratio: result.first / result.second };
}

function expectComparable(name: string, measured: { first: number; second: number; ratio: number }) {
  console.log(`legacy timing, ${name}: ${measured.first.toFixed(1)} ms vs ${measured.second.toFixed(1)} ms, ratio ${measured.ratio.toFixed(2)}`);
  expect(measured.ratio).toBeGreaterThanOrEqual(0.5);
  expect(measured.ratio).toBeLessThanOrEqual(2);
}

const cases: Array<[string, string, number]> = [
  ['bcrypt cost 12', 'bcrypt cost 12', 20],
  ['argon2id m=19456,t=2,p=1', 'argon2id m=19456,t=2,p=1', 20],
  ['scrypt ln=16,r=8,p=1', 'scrypt ln=16,r=8,p=1', 20],
  ['PBKDF2-SHA256 600,000', 'PBKDF2-SHA256 600,000', 20],
  // Over bcrypt's 72 bytes: refused at once against a bcrypt hash, so a bcrypt dummy would answer in no time.
  ['PBKDF2-SHA256 600,000 with a 100-byte password', 'PBKDF2-SHA256 600,000', 100],
];

describe('an unknown email costs what a wrong password costs for the users waiting in the store', () => {
  it.each(cases)('%s: median known / median unknown is within 0.5-2x', async (name, family, passwordLength) => {
    const emails = await storeOf(family, USERS_PER_STORE);
    const server = await serverOn();
    try {
      let next = 0;
      const wrongPassword = () => `w-${randomUUID()}`.padEnd(passwordLength, 'x');
      expectComparable(`${name}, known vs unknown`, await medianRatio(server, () => emails[next++ % emails.length]!, wrongPassword));
    } finally {
      await server.close();
    }
  });

  it('a password over 72 bytes for an unknown email in a PBKDF2 store is hashed, as it would be for a waiting user', async () => {
    await storeOf('PBKDF2-SHA256 600,000', 1);
    const server = await serverOn();
    try {
      const token = await server.machineToken(['migrate:users']);
      const started = passwordVerificationsStarted();
      await timedVerify(server, token, unknownEmail(), 'x'.repeat(100));
      expect(passwordVerificationsStarted() - started).toBe(1);
    } finally {
      await server.close();
    }
  });
});

it('a limited attempt costs what a wrong password costs (the limit cannot be seen in the timing)', async () => {
  const [email] = await storeOf('bcrypt cost 12', 1);
  const server = await serverOn({ LEGACY_MAX_FAILURES_PER_EMAIL: '2' });
  try {
    const token = await server.machineToken(['migrate:users']);
    for (let i = 0; i < 2; i += 1) await timedVerify(server, token, email!, `wrong-${i}`);
    expectComparable('limited vs unknown', await medianRatio(server, () => email!, () => `w-${randomUUID()}`));
    expect(server.logs.join('\n')).toContain('too many failed attempts');
  } finally {
    await server.close();
  }
});

it('a migrated email costs what a waiting one costs (migration status cannot be timed either)', async () => {
  const [waiting, migrated] = await storeOf('bcrypt cost 12', 2);
  // As addUser leaves a linked row: hash erased, migrated_at set.
  await withClient(database.url, (client) => client.query('UPDATE users SET migrated_at = now(), password_hash = NULL WHERE email = $1', [migrated]));
  const server = await serverOn();
  try {
    expectComparable('migrated vs waiting', await medianRatio(server, () => migrated!, () => `w-${randomUUID()}`, () => waiting!));
  } finally {
    await server.close();
  }
});
