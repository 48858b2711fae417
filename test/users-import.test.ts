// npm run users:import: an Auth0 users export, streamed and upserted in batches, safe to re-run and to crash.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Pool } from 'pg';
import { upsertUsers, type ImportedUser } from '../src/modules/users/users-bulk-upsert';
import { importUsers } from '../src/sync/import-users';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { ROOT } from './support/server-process';
import { waitUntil } from './support/wait-until';

const run = promisify(execFile);
let database: TestDatabase;
let dir: string;
let pool: Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-'));
  pool = new Pool({ connectionString: database.url, max: 2 });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const exportLine = (i: number, prefix: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    user_id: `${i % 2 ? 'google-oauth2' : 'auth0'}|${prefix}-${i}`,
    email: `user${i}@example.com`,
    email_verified: i % 3 === 0,
    name: `User ${i}`,
    identities: [{ connection: i % 2 ? 'google-oauth2' : 'Username-Password-Authentication', provider: 'x', user_id: String(i) }],
    logins_count: i % 7,
    last_login: '2026-10-01T00:00:00.000Z',
    ...extra,
  });

function writeExport(name: string, lines: string[], gzip: boolean): string {
  const file = path.join(dir, name);
  const text = `${lines.join('\n')}\n`;
  fs.writeFileSync(file, gzip ? gzipSync(text) : text);
  return file;
}

const importCli = async (file: string) =>
  (await run(process.execPath, ['--import', 'tsx', 'src/cli/users-import.ts', file], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url } })).stdout;

/** The command as npm runs it: in the project root, with the directory it was typed in as INIT_CWD. */
async function importCliResult(file: string, initCwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, ...(initCwd ? { INIT_CWD: initCwd } : {}) };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/users-import.ts', file], { cwd: ROOT, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

it('imports 10,000 users from a gzipped export, and a second run changes nothing', async () => {
  const file = writeExport('ten-thousand.ndjson.gz', Array.from({ length: 10_000 }, (_, i) => exportLine(i, 'bulk')), true);
  const first = await importCli(file);
  expect(first).toMatch(/imported in [\d.]+s: 10,000 lines: 10000 created, 0 updated, 0 unchanged, 0 invalid/);
  const second = await importCli(file);
  expect(second).toMatch(/10,000 lines: 0 created, 0 updated, 10000 unchanged, 0 invalid/);
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM users WHERE auth0_id LIKE '%|bulk-%'`);
  expect(rows[0].n).toBe(10_000);
  const sample = await pool.query(`SELECT email, email_verified, name, connection, logins_count FROM users WHERE auth0_id = 'google-oauth2|bulk-9999'`);
  expect(sample.rows[0]).toEqual({ email: 'user9999@example.com', email_verified: true, name: 'User 9999', connection: 'google-oauth2', logins_count: 9999 % 7 });
});

it('counts changed profiles as updated, and never lowers a login count', async () => {
  const lines = [exportLine(1, 'change'), exportLine(2, 'change')];
  await importCli(writeExport('before.ndjson', lines, false));
  const after = [exportLine(1, 'change', { name: 'Renamed' }), exportLine(2, 'change', { logins_count: 0 })];
  const output = await importCli(writeExport('after.ndjson', after, false));
  expect(output).toMatch(/2 lines: 0 created, 1 updated, 1 unchanged, 0 invalid/);
  const { rows } = await pool.query(`SELECT name, logins_count FROM users WHERE auth0_id = 'auth0|change-2'`);
  expect(rows[0]).toEqual({ name: 'User 2', logins_count: 2 });
});

it('an export older than a change already applied here never brings the old profile back; counts still move forward', async () => {
  const at = (day: number) => `2026-11-${String(day).padStart(2, '0')}T00:00:00.000Z`;
  const importLine = async (extra: Record<string, unknown>) => (await importUsers({ pool, input: Readable.from([`${exportLine(1, 'aged', extra)}\n`]), gzipped: false })).counts;
  const stored = async () => (await pool.query(`SELECT name, logins_count, auth0_updated_at FROM users WHERE auth0_id = 'google-oauth2|aged-1'`)).rows[0];

  expect(await importLine({ name: 'From the export of the 1st', updated_at: at(1), logins_count: 1 })).toMatchObject({ created: 1 });
  // The log stream (or a write-back) then applies Auth0's change of the 3rd.
  await pool.query(`UPDATE users SET name = 'Changed on the 3rd', auth0_updated_at = $1 WHERE auth0_id = 'google-oauth2|aged-1'`, [at(3)]);

  // An export taken on the 2nd, imported late: the profile stays, the login count moves forward.
  expect(await importLine({ name: 'From the export of the 2nd', updated_at: at(2), logins_count: 5 })).toMatchObject({ updated: 1 });
  expect(await stored()).toEqual({ name: 'Changed on the 3rd', logins_count: 5, auth0_updated_at: new Date(at(3)) });
  // Nothing newer in it at all: unchanged.
  expect(await importLine({ name: 'From the export of the 2nd', updated_at: at(2), logins_count: 5 })).toMatchObject({ unchanged: 1 });
  // A copy without updated_at cannot say it is newer: the profile stays.
  expect(await importLine({ name: 'Undated' })).toMatchObject({ unchanged: 1 });
  // A newer export wins.
  expect(await importLine({ name: 'From the export of the 4th', updated_at: at(4), logins_count: 5 })).toMatchObject({ updated: 1 });
  expect(await stored()).toEqual({ name: 'From the export of the 4th', logins_count: 5, auth0_updated_at: new Date(at(4)) });
});

it('reports invalid lines with their numbers and reasons, and imports the rest', async () => {
  const file = writeExport(
    'invalid.ndjson',
    [
      exportLine(1, 'mixed'),
      '{not json',
      JSON.stringify({ user_id: 'no-provider' }),
      exportLine(4, 'mixed', { email: 'not-an-email' }),
      exportLine(5, 'mixed', { logins_count: -2 }),
      exportLine(6, 'mixed'),
      exportLine(7, 'mixed', { updated_at: 'yesterday' }),
      exportLine(8, 'mixed', { updated_at: 1_700_000_000 }),
      // Dates Date.parse takes (as 2026-01-01, 2000-01-01 and March 2nd) and Postgres would refuse, failing the whole batch.
      exportLine(9, 'mixed', { last_login: '2026' }),
      exportLine(10, 'mixed', { last_login: '0' }),
      exportLine(11, 'mixed', { updated_at: '2026-02-30T00:00:00Z' }),
    ],
    false,
  );
  const { code, stdout: output } = await importCliResult(file);
  // Imported, but not every line: a distinct exit code, so that a script can tell.
  expect(code).toBe(3);
  expect(output).toMatch(/11 lines: 2 created, 0 updated, 0 unchanged, 9 invalid/);
  expect(output).toContain('line 7: updated_at is not a date');
  expect(output).toContain('line 8: updated_at is not a date');
  expect(output).toContain('line 9: last_login is not a date');
  expect(output).toContain('line 10: last_login is not a date');
  expect(output).toContain('line 11: updated_at is not a date');
  expect(output).toContain('line 2: not JSON');
  expect(output).toContain('line 3: user_id is missing or not an Auth0 user id');
  expect(output).toContain('line 4: email is not an email address');
  expect(output).toContain('line 5: logins_count is not a non-negative integer');
});

it('reads a relative path from the directory the command was typed in (INIT_CWD), and names the resolved path when it is missing', async () => {
  const typedIn = fs.mkdtempSync(path.join(dir, 'typed-in-'));
  fs.writeFileSync(path.join(typedIn, 'relative.ndjson'), `${exportLine(1, 'relative')}\n`);
  const found = await importCliResult('relative.ndjson', typedIn);
  expect(found.stdout).toMatch(/1 lines: 1 created, 0 updated, 0 unchanged, 0 invalid/);
  expect(found.code).toBe(0);

  const missing = await importCliResult('absent.ndjson', typedIn);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(`users:import: ${path.join(typedIn, 'absent.ndjson')} does not exist\n`);
});

it('says a .gz that is not gzip is not a gzip file, naming it, and changes nothing', async () => {
  const file = writeExport('plain.ndjson.gz', [exportLine(1, 'not-gzip')], false);
  const result = await importCliResult(file);
  expect(result.code).toBe(1);
  expect(result.stderr).toBe(`users:import: ${file} is not a gzip file (a name ending in .gz is read as gzip)\n`);
  const { rowCount } = await pool.query(`SELECT 1 FROM users WHERE auth0_id LIKE '%|not-gzip-%'`);
  expect(rowCount).toBe(0);
});

it('says a truncated .gz is not a valid gzip file, naming it', async () => {
  const whole = gzipSync(`${Array.from({ length: 200 }, (_, i) => exportLine(i, 'truncated')).join('\n')}\n`);
  const file = path.join(dir, 'truncated.ndjson.gz');
  fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));
  const result = await importCliResult(file);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`users:import failed: ${file} is not a valid gzip file (unexpected end of file)`);
});

it('after a crash half-way, a re-run imports the rest and loses or duplicates nothing', async () => {
  const file = writeExport('crash.ndjson', Array.from({ length: 5000 }, (_, i) => exportLine(i, 'crash')), false);
  let batches = 0;
  await expect(
    importUsers({
      pool,
      input: fs.createReadStream(file),
      gzipped: false,
      batchSize: 1000,
      onBatch: () => {
        batches += 1;
        if (batches === 2) throw new Error('simulated crash after two batches');
      },
    }),
  ).rejects.toThrow('simulated crash');
  // Two writers: the batch written beside the second one may have committed too, never a part of one.
  const committed = (await pool.query(`SELECT count(*)::int AS n FROM users WHERE auth0_id LIKE '%|crash-%'`)).rows[0].n as number;
  expect([2000, 3000]).toContain(committed);

  const { counts } = await importUsers({ pool, input: fs.createReadStream(file), gzipped: false, batchSize: 1000 });
  expect(counts).toEqual({ lines: 5000, created: 5000 - committed, updated: 0, unchanged: committed, invalid: 0 });
  expect((await pool.query(`SELECT count(*)::int AS n FROM users WHERE auth0_id LIKE '%|crash-%'`)).rows[0].n).toBe(5000);
});

it('an import killed (SIGKILL) mid-way is completed by a re-run: every user ends with their last line', async () => {
  // Every user twice: first as "First", then again further on (another batch) as "Last".
  const users = 30_000;
  const lines = [...Array.from({ length: users }, (_, i) => exportLine(i, 'killed', { name: `First ${i}` })), ...Array.from({ length: users }, (_, i) => exportLine(i, 'killed', { name: `Last ${i}` }))];
  const file = writeExport('killed.ndjson', lines, false);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/users-import.ts', file], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url } });
  const exited = once(child, 'exit');
  // The first progress line is printed after the first committed batch: kill it there.
  await new Promise<void>((resolve) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += String(chunk);
      if (output.includes('progress:')) resolve();
    });
  });
  child.kill('SIGKILL');
  expect(await exited).toEqual([null, 'SIGKILL']);
  const committed = (await pool.query(`SELECT count(*)::int AS n FROM users WHERE auth0_id LIKE '%|killed-%'`)).rows[0].n as number;
  expect(committed).toBeGreaterThan(0);

  const rerun = await importCli(file);
  expect(rerun).toMatch(new RegExp(`60,000 lines: ${users - committed} created, \\d+ updated, \\d+ unchanged, 0 invalid`));
  const { rows } = await pool.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE name = 'Last ' || substring(auth0_id from '[0-9]+$'))::int AS last FROM users WHERE auth0_id LIKE '%|killed-%'`);
  expect(rows[0]).toEqual({ n: users, last: users });
});

it('writes two batches at once, and a batch that shares a user with one being written still ends with the later line', async () => {
  await importUsers({ pool, input: Readable.from([`${exportLine(1, 'side', { name: 'W0' })}\n${exportLine(2, 'side', { name: 'X0' })}\n`]), gzipped: false });
  // Hold W's row: the batch that updates W (and X) waits on it in Postgres.
  const locker = await pool.connect();
  await locker.query('BEGIN');
  await locker.query(`SELECT 1 FROM users WHERE auth0_id = 'google-oauth2|side-1' FOR UPDATE`);
  const lines = [
    exportLine(1, 'side', { name: 'W1' }),
    exportLine(2, 'side', { name: 'A' }),
    exportLine(3, 'side'),
    exportLine(5, 'side'),
    exportLine(2, 'side', { name: 'B' }),
    exportLine(7, 'side'),
  ];
  let firstCommitted!: () => void;
  const aBatchCommitted = new Promise<void>((resolve) => (firstCommitted = resolve));
  const importerPool = new Pool({ connectionString: database.url, max: 2 });
  const imported = importUsers({ pool: importerPool, input: Readable.from([`${lines.join('\n')}\n`]), gzipped: false, batchSize: 2, onBatch: () => firstCommitted() });
  // The second batch (3 and 5, no user in common) commits while the first one waits for W's lock.
  await aBatchCommitted;
  expect((await pool.query(`SELECT name FROM users WHERE auth0_id = 'google-oauth2|side-5'`)).rows).toEqual([{ name: 'User 5' }]);
  await locker.query('COMMIT');
  locker.release();
  const { counts } = await imported.finally(() => importerPool.end());
  expect(counts).toEqual({ lines: 6, created: 3, updated: 3, unchanged: 0, invalid: 0 });
  const { rows } = await pool.query(`SELECT auth0_id, name FROM users WHERE auth0_id LIKE '%|side-%' ORDER BY auth0_id`);
  expect(rows).toEqual([
    { auth0_id: 'auth0|side-2', name: 'B' },
    { auth0_id: 'google-oauth2|side-1', name: 'W1' },
    { auth0_id: 'google-oauth2|side-3', name: 'User 3' },
    { auth0_id: 'google-oauth2|side-5', name: 'User 5' },
    { auth0_id: 'google-oauth2|side-7', name: 'User 7' },
  ]);
});

it('keeps the last line when a user appears twice in one batch', async () => {
  const { counts } = await importUsers({ pool, input: fs.createReadStream(writeExport('dupes.ndjson', [exportLine(1, 'dupe'), exportLine(1, 'dupe', { name: 'Second' })], false)), gzipped: false });
  expect(counts).toMatchObject({ lines: 2, created: 1 });
  expect((await pool.query(`SELECT name FROM users WHERE auth0_id = 'google-oauth2|dupe-1'`)).rows[0].name).toBe('Second');
});

it.each([
  ['a file that does not exist', () => path.join(dir, 'missing.ndjson'), /^users:import: .*missing\.ndjson does not exist\n$/],
  ['a directory', () => dir, /^users:import: .* is not a file\n$/],
])('%s gets one line on stderr and exit 1, without a stack trace', async (_label, file, message) => {
  const failed = await run(process.execPath, ['--import', 'tsx', 'src/cli/users-import.ts', file()], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url } }).then(
    () => undefined,
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  expect(failed).toMatchObject({ code: 1, stdout: '' });
  expect(failed?.stderr).toMatch(message);
});

it('a re-run neither rewrites nor locks the rows it leaves unchanged', async () => {
  const file = writeExport('untouched.ndjson', Array.from({ length: 50 }, (_, i) => exportLine(i, 'untouched')), false);
  await importUsers({ pool, input: fs.createReadStream(file), gzipped: false });
  const versions = `SELECT auth0_id, xmin::text AS xmin, xmax::text AS xmax, updated_at FROM users WHERE auth0_id LIKE '%|untouched-%' ORDER BY auth0_id`;
  const before = (await pool.query(versions)).rows;
  const { counts } = await importUsers({ pool, input: fs.createReadStream(file), gzipped: false });
  expect(counts).toEqual({ lines: 50, created: 0, updated: 0, unchanged: 50, invalid: 0 });
  // An UPDATE would give the row a new xmin; a row lock (ON CONFLICT DO UPDATE takes one) sets xmax.
  expect((await pool.query(versions)).rows).toEqual(before);
  expect(before.every((row) => row.xmax === '0')).toBe(true);
});

it('a user repeated in a later batch ends with the later line, batches being written in file order', async () => {
  const lines = [exportLine(1, 'order'), exportLine(2, 'order'), exportLine(3, 'order'), exportLine(1, 'order', { name: 'Later' }), exportLine(4, 'order'), exportLine(1, 'order', { name: 'Last' })];
  const { counts } = await importUsers({ pool, input: fs.createReadStream(writeExport('order.ndjson', lines, false)), gzipped: false, batchSize: 2 });
  expect(counts).toEqual({ lines: 6, created: 4, updated: 2, unchanged: 0, invalid: 0 });
  expect((await pool.query(`SELECT name FROM users WHERE auth0_id = 'google-oauth2|order-1'`)).rows[0].name).toBe('Last');
});

it('refuses a line Postgres could not store (NUL in a text, a login count beyond an integer) and imports the rest', async () => {
  const lines = [exportLine(1, 'unstorable', { name: 'Ada\u0000' }), exportLine(2, 'unstorable', { logins_count: 2 ** 31 }), exportLine(3, 'unstorable'), exportLine(4, 'unstorable', { user_id: 'auth0|unstorable\u0000-4' })];
  const { counts, invalid } = await importUsers({ pool, input: fs.createReadStream(writeExport('unstorable.ndjson', lines, false)), gzipped: false });
  expect(counts).toEqual({ lines: 4, created: 1, updated: 0, unchanged: 0, invalid: 3 });
  expect(invalid).toEqual([
    { line: 1, reason: 'name is not a string of at most 255 characters without NUL' },
    { line: 2, reason: 'logins_count is not a non-negative integer' },
    { line: 4, reason: 'user_id is missing or not an Auth0 user id' },
  ]);
  expect((await pool.query(`SELECT count(*)::int AS n FROM users WHERE auth0_id LIKE '%|unstorable%'`)).rows[0].n).toBe(1);
});

it('reads Windows line ends, and lines and characters split across reads', async () => {
  const names = ['Zoë "Ace" O\'Brien', 'Nguyễn\tTab\\Slash', 'Line\nBreak'];
  const text = `${names.map((name, i) => exportLine(i, 'split', { name })).join('\r\n')}\r\n\r\n`;
  const bytes = Buffer.from(text);
  // Cut in the middle of every line and of the multi-byte characters: 7 bytes a read.
  const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
  const { counts } = await importUsers({ pool, input: Readable.from(chunks), gzipped: false });
  expect(counts).toEqual({ lines: 4, created: 3, updated: 0, unchanged: 0, invalid: 0 });
  const { rows } = await pool.query(`SELECT auth0_id, name FROM users WHERE auth0_id LIKE '%|split-%' ORDER BY auth0_id`);
  expect(rows).toEqual([
    { auth0_id: 'auth0|split-0', name: names[0] },
    { auth0_id: 'auth0|split-2', name: names[2] },
    { auth0_id: 'google-oauth2|split-1', name: names[1] },
  ]);
});

it('reads chunks that are plain Uint8Arrays or strings, as streams other than files give them', async () => {
  const bytes = new TextEncoder().encode(`${exportLine(1, 'chunks')}\n${exportLine(2, 'chunks', { name: 'Zoë' })}\n`);
  const cut = bytes.indexOf(0xc3); // the first byte of the ë: the character is split across two reads
  const chunks = [bytes.slice(0, cut + 1), bytes.slice(cut + 1, cut + 2), new TextDecoder().decode(bytes.slice(cut + 2))];
  const { counts } = await importUsers({ pool, input: Readable.from(chunks), gzipped: false });
  expect(counts).toEqual({ lines: 2, created: 2, updated: 0, unchanged: 0, invalid: 0 });
  expect((await pool.query(`SELECT name FROM users WHERE auth0_id = 'auth0|chunks-2'`)).rows[0].name).toBe('Zoë');
});

it('the sync writer pool outlives an idle connection that Postgres ends (as a stop right after pool.end() does)', async () => {
  // In its own process: unheard, the pool's error is thrown out of a socket handler and ends the process.
  const script = `
    const { createSyncWriterPool } = require('./src/modules/users/user-sync-writes.ts');
    const { Client } = require('pg');
    (async () => {
      const pool = createSyncWriterPool(process.env.DATABASE_URL, 1);
      const { rows } = await pool.query('SELECT pg_backend_pid() AS pid');
      const other = new Client({ connectionString: process.env.DATABASE_URL });
      await other.connect();
      await other.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      await other.end();
      while (pool.totalCount > 0) await new Promise((resolve) => setImmediate(resolve));
      const again = await pool.query('SELECT 1 AS n');
      process.stdout.write('after: ' + again.rows[0].n);
      await pool.end();
    })();`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--eval', script], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url } });
  expect(stdout).toBe('after: 1');
});

describe('a batch that another writer gets in the way of, between its look at users and its write', () => {
  let batchPool: Pool;
  beforeAll(() => void (batchPool = new Pool({ connectionString: database.url, max: 1 })));
  afterAll(() => batchPool.end());
  const imported = (i: number, name: string): ImportedUser => ({ auth0Id: `auth0|race-${i}`, email: `race${i}@example.com`, emailVerified: true, name, picture: null, connection: 'Username-Password-Authentication', loginsCount: 1, lastLoginMs: null, auth0UpdatedMs: null });
  const waitingForALock = () =>
    waitUntil(() => withClient(database.url, async (monitor) => (await monitor.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%users_staging%'`)).rowCount === 1));
  const names = async (from: number, to: number) =>
    (await pool.query<{ auth0_id: string; name: string }>(`SELECT auth0_id, name FROM users WHERE auth0_id = ANY($1) ORDER BY auth0_id`, [Array.from({ length: to - from + 1 }, (_, i) => `auth0|race-${from + i}`)])).rows;

  it('a user inserted meanwhile by someone else: the batch still writes every user, the file winning', async () => {
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO users (auth0_id, name) VALUES ('auth0|race-2', 'Inserted meanwhile')`);
      const batch = upsertUsers(batchPool, [imported(1, 'File 1'), imported(2, 'File 2'), imported(3, 'File 3')]);
      // The batch did not see the uncommitted row, so it inserts it too and waits on the unique index.
      await waitingForALock();
      await other.query('COMMIT');
      expect(await batch).toEqual({ created: 2, updated: 1, unchanged: 0 });
    } finally {
      other.release();
    }
    expect(await names(1, 3)).toEqual([
      { auth0_id: 'auth0|race-1', name: 'File 1' },
      { auth0_id: 'auth0|race-2', name: 'File 2' },
      { auth0_id: 'auth0|race-3', name: 'File 3' },
    ]);
  });

  it('a user deleted meanwhile by someone else: the batch writes them again instead of losing them', async () => {
    await upsertUsers(pool, [imported(4, 'Old 4'), imported(5, 'Old 5')]);
    const other = await pool.connect();
    try {
      await other.query('BEGIN');
      await other.query(`DELETE FROM users WHERE auth0_id = 'auth0|race-5'`);
      const batch = upsertUsers(batchPool, [imported(4, 'New 4'), imported(5, 'New 5'), imported(6, 'New 6')]);
      // The batch saw 5 as changed, and waits on its row lock to update it.
      await waitingForALock();
      await other.query('COMMIT');
      expect(await batch).toEqual({ created: 2, updated: 1, unchanged: 0 });
    } finally {
      other.release();
    }
    expect(await names(4, 6)).toEqual([
      { auth0_id: 'auth0|race-4', name: 'New 4' },
      { auth0_id: 'auth0|race-5', name: 'New 5' },
      { auth0_id: 'auth0|race-6', name: 'New 6' },
    ]);
  });
});
