// npm run legacy:import: a legacy store's NDJSON, streamed, validated and upserted; idempotent; a linked user never gets a hash back.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Pool } from 'pg';
import { importLegacyUsers } from '../src/modules/legacy/legacy-import';
import { makeLegacyHash } from '../src/modules/legacy/make-legacy-hash';
import { parseLegacyHash, verifyPassword } from '../src/modules/legacy/password-hashes';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { ROOT } from './support/server-process';

const run = promisify(execFile);

let database: TestDatabase;
let pool: Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  pool = new Pool({ connectionString: database.url, max: 2 });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

const lines = (...values: unknown[]) => Readable.from([values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join('\n')]);
const rowsFor = (prefix: string) =>
  withClient(database.url, async (client) => (await client.query(`SELECT legacy_id, auth0_id, email, name, password_hash, legacy_app_metadata, migrated_at FROM users WHERE legacy_id LIKE $1 ORDER BY legacy_id`, [`${prefix}%`])).rows);

it('imports every encoding with its metadata, refuses bad lines with their reasons, and a re-run changes nothing', async () => {
  const prefix = `imp-${randomUUID().slice(0, 8)}`;
  const users = await Promise.all(
    (['bcrypt', 'argon2id', 'scrypt', 'pbkdf2-sha256', 'pbkdf2-sha256-django'] as const).map(async (encoding, index) => ({
      id: `${prefix}-${index}`,
      email: `${prefix}-${index}@legacy.example`,
      email_verified: index % 2 === 0,
      name: `User ${index}`,
      password_hash: await makeLegacyHash(encoding, 'pw'),
      app_metadata: { plan: encoding },
    })),
  );
  const input = () =>
    lines(
      ...users,
      'not json',
      { id: `${prefix}-md5`, email: `${prefix}-md5@legacy.example`, password_hash: '5f4dcc3b5aa765d61d8327deb882cf99' },
      { id: 'has space', email: `${prefix}-x@legacy.example`, password_hash: users[0]!.password_hash },
      { id: `${prefix}-dup`, email: users[0]!.email.toUpperCase(), password_hash: users[0]!.password_hash },
      { id: `${prefix}-nohash`, email: `${prefix}-nohash@legacy.example` },
    );

  const first = await importLegacyUsers({ pool, input: input(), gzipped: false, batchSize: 3 });
  expect(first.counts).toEqual({ lines: 10, created: 5, updated: 0, unchanged: 0, invalid: 5 });
  expect([...first.invalid].sort((a, b) => a.line - b.line)).toEqual([
    { line: 6, reason: 'not JSON' },
    { line: 7, reason: expect.stringContaining('password_hash is not bcrypt') },
    { line: 8, reason: 'id is missing or not 1-200 letters, digits and ._:@+-' },
    { line: 9, reason: 'email already belongs to another legacy user' },
    { line: 10, reason: 'password_hash is missing' },
  ]);
  // No reason ever quotes a hash.
  expect(JSON.stringify(first.invalid)).not.toContain('5f4dcc3b');
  const rows = await rowsFor(prefix);
  expect(rows.map((row) => [row.legacy_id, row.auth0_id, row.legacy_app_metadata])).toEqual(users.map((user) => [user.id, `auth0|${user.id}`, user.app_metadata]));

  const again = await importLegacyUsers({ pool, input: input(), gzipped: false });
  expect(again.counts).toMatchObject({ created: 0, updated: 0, unchanged: 5 });
  expect(await rowsFor(prefix)).toEqual(rows);
});

it('a changed line updates the waiting user, but a migrated (linked) user never gets a hash back', async () => {
  const prefix = `upd-${randomUUID().slice(0, 8)}`;
  const line = async (id: string, name: string) => ({ id: `${prefix}-${id}`, email: `${prefix}-${id}@legacy.example`, name, password_hash: await makeLegacyHash('bcrypt', 'pw') });
  await importLegacyUsers({ pool, input: lines(await line('waiting', 'Old'), await line('linked', 'Old')), gzipped: false });
  await withClient(database.url, (client) => client.query(`UPDATE users SET password_hash = NULL, migrated_at = now() WHERE legacy_id = $1`, [`${prefix}-linked`]));

  const result = await importLegacyUsers({ pool, input: lines(await line('waiting', 'New'), await line('linked', 'New')), gzipped: false });
  expect(result.counts).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
  const rows = await rowsFor(prefix);
  expect(rows.map((row) => [row.legacy_id, row.name, row.password_hash === null])).toEqual([
    [`${prefix}-linked`, 'Old', true],
    [`${prefix}-waiting`, 'New', false],
  ]);
});

async function legacyImportCli(file: string, initCwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/legacy-import.ts', file], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn', INIT_CWD: initCwd },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

it('npm run legacy:import says a .gz that is not gzip is not a gzip file, naming it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'legacy-import-'));
  fs.writeFileSync(path.join(dir, 'plain.ndjson.gz'), '{"id":"x"}\n');
  const { code, stderr } = await legacyImportCli('plain.ndjson.gz', dir);
  expect(code).toBe(1);
  expect(stderr).toBe(`legacy:import failed: ${path.join(dir, 'plain.ndjson.gz')} is not a gzip file (a name ending in .gz is read as gzip)\n`);
});

it('npm run legacy:import reads a gzipped file and reports its counts', async () => {
  const prefix = `cli-${randomUUID().slice(0, 8)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'legacy-import-'));
  const file = path.join(dir, 'users.ndjson.gz');
  const body = await Promise.all([0, 1].map(async (i) => JSON.stringify({ id: `${prefix}-${i}`, email: `${prefix}-${i}@legacy.example`, password_hash: await makeLegacyHash('scrypt', 'pw') })));
  fs.writeFileSync(file, gzipSync(`${body.join('\n')}\n{"id":"${prefix}-bad"}\n`));
  // Typed as a path relative to the directory npm was run in (INIT_CWD), as users:import reads it; a refused line exits 3.
  const { code, stdout } = await legacyImportCli('users.ndjson.gz', dir);
  expect(code).toBe(3);
  expect(stdout).toMatch(/3 lines, 2 created, 0 updated, 0 unchanged or already migrated, 1 refused/);
  expect(stdout).toContain('line 3: email is missing or not an email address');
  expect(await rowsFor(prefix)).toHaveLength(2);
});

it('imports the fast families Auth0 imports (salted SHA-1 and MD5 objects, LDAP, HMAC, argon2i, PBKDF2-SHA512), storing what verifies them, and refuses a malformed object', async () => {
  const prefix = `fam-${randomUUID().slice(0, 8)}`;
  // sha1('a' + salt 'bc') is FIPS 180's "abc" vector; MD5('salt' + 'password') is the example in Auth0's bulk-import schema.
  const saltedSha1 = { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, salt: { value: 'bc', position: 'suffix' } };
  const saltedMd5 = { algorithm: 'md5', hash: { value: '67A1E09BB1F83F5007DC119C14D663AA', encoding: 'hex' }, salt: { value: 'salt', position: 'prefix' } };
  const hmac = { algorithm: 'hmac', hash: { value: 'cg7f42jH39/2EaAU4wNd4s2lKIk=', encoding: 'base64', digest: 'sha1', key: { value: '736868', encoding: 'hex' } } };
  const hashes: Array<[string, unknown]> = [
    ['sha1', saltedSha1],
    ['md5', saltedMd5],
    ['hmac', hmac],
    ['ssha', await makeLegacyHash('ldap-ssha', 'pw')],
    ['argon2i', await makeLegacyHash('argon2i', 'pw')],
    ['pbkdf2', await makeLegacyHash('pbkdf2-sha512', 'pw')],
    ['bad', { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, salt: { value: 'bc' } }],
  ];
  const result = await importLegacyUsers({ pool, input: lines(...hashes.map(([id, hash]) => ({ id: `${prefix}-${id}`, email: `${prefix}-${id}@legacy.example`, password_hash: hash }))), gzipped: false });
  expect(result.counts).toEqual({ lines: 7, created: 6, updated: 0, unchanged: 0, invalid: 1 });
  expect(result.invalid).toEqual([{ line: 7, reason: 'password_hash.salt.position must be prefix or suffix' }]);
  const stored = new Map((await rowsFor(prefix)).map((row) => [row.legacy_id as string, row.password_hash as string]));
  // Objects are stored as Auth0's custom_password_hash, with the defaults filled in; strings as they came.
  expect(JSON.parse(stored.get(`${prefix}-sha1`)!)).toEqual({ ...saltedSha1, salt: { value: 'bc', encoding: 'utf8', position: 'suffix' } });
  expect(JSON.parse(stored.get(`${prefix}-hmac`)!)).toEqual(hmac);
  expect(stored.get(`${prefix}-ssha`)).toBe(hashes[3]![1]);
  const checks = await Promise.all(
    [['sha1', 'a'], ['md5', 'password'], ['hmac', 'test'], ['ssha', 'pw'], ['argon2i', 'pw'], ['pbkdf2', 'pw']].map(async ([id, password]) => {
      const hash = parseLegacyHash(stored.get(`${prefix}-${id}`)!);
      if (typeof hash === 'string') return `${id}: ${hash}`;
      return `${id}: ${(await verifyPassword(password!, hash)).valid} ${(await verifyPassword(`${password}!`, hash)).valid}`;
    }),
  );
  expect(checks).toEqual(['sha1: true false', 'md5: true false', 'hmac: true false', 'ssha: true false', 'argon2i: true false', 'pbkdf2: true false']);

  // A re-run stores the same canonical form: nothing changes.
  const again = await importLegacyUsers({ pool, input: lines(...hashes.map(([id, hash]) => ({ id: `${prefix}-${id}`, email: `${prefix}-${id}@legacy.example`, password_hash: hash }))), gzipped: false });
  expect(again.counts).toMatchObject({ created: 0, updated: 0, unchanged: 6 });
});
