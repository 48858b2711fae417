// users:import's parse workers: answers taken in file order, line numbers across batches, a failing worker, a signal.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Pool } from 'pg';
import { importUsers } from '../src/sync/import-users';
import { createTestDatabase, type TestDatabase } from './support/database';
import { ROOT } from './support/server-process';

const run = promisify(execFile);
const TEST_WORKER = path.join(__dirname, 'support/parse-workers.ts');

let database: TestDatabase;
let dir: string;
let pool: Pool;
beforeAll(async () => {
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-workers-'));
  pool = new Pool({ connectionString: database.url, max: 2 });
});
afterAll(async () => {
  await pool.end();
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const exportLine = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ user_id: `auth0|${id}`, email: `${id}@example.com`, name: `User ${id}`, logins_count: 1, last_login: '2026-10-01T00:00:00.000Z', ...extra });
const input = (lines: string[], end = '\n') => Readable.from([Buffer.from(`${lines.join('\n')}${end}`)]);
// Linux: one entry per thread of this process (worker threads included).
const threadsOfThisProcess = () => fs.readdirSync('/proc/self/task').length;
const namesOf = async (prefix: string) =>
  (await pool.query<{ auth0_id: string; name: string }>(`SELECT auth0_id, name FROM users WHERE auth0_id LIKE $1 ORDER BY auth0_id`, [`auth0|${prefix}-%`])).rows;

it('takes the workers\' answers in file order when a later batch is parsed first: the later line still wins', async () => {
  // Batch 1 (lines 1-3) is held in its worker until batch 2 (lines 4-6) has been answered.
  const lines = [
    exportLine('order-a', { name: 'hold: first line of batch 1' }),
    exportLine('order-b', { name: 'B1' }),
    '{broken',
    exportLine('order-b', { name: 'B2' }),
    exportLine('order-a', { name: 'A2' }),
    exportLine('order-c'),
  ];
  const written: Array<[number, number]> = [];
  const { counts, invalid } = await importUsers({
    pool,
    input: input(lines),
    gzipped: false,
    batchSize: 3,
    parseWorkers: 2,
    parseWorkerScript: TEST_WORKER,
    onBatch: (progress) => written.push([progress.created, progress.updated]),
  });
  expect(counts).toEqual({ lines: 6, created: 3, updated: 2, unchanged: 0, invalid: 1 });
  expect(invalid).toEqual([{ line: 3, reason: 'not JSON' }]);
  // Batch 2 shares users with batch 1: it was written after it (created, updated), and its lines won.
  expect(written).toEqual([
    [2, 0],
    [3, 2],
  ]);
  expect(await namesOf('order')).toEqual([
    { auth0_id: 'auth0|order-a', name: 'A2' },
    { auth0_id: 'auth0|order-b', name: 'B2' },
    { auth0_id: 'auth0|order-c', name: 'User order-c' },
  ]);
});

it.each([0, 1, 2])('numbers invalid lines across batch boundaries as lines of the file (%i parse workers)', async (parseWorkers) => {
  const prefix = `numbers${parseWorkers}`;
  const lines = [
    exportLine(`${prefix}-1`),
    exportLine(`${prefix}-2`),
    '{not json', // line 3: the last of batch 1
    JSON.stringify({ user_id: 'no-provider' }), // line 4: the first of batch 2
    '',
    exportLine(`${prefix}-6`, { logins_count: -1 }), // line 6
    exportLine(`${prefix}-7`),
    '   ',
    exportLine(`${prefix}-9`, { email: 'nope' }), // line 9
    exportLine(`${prefix}-10`, { last_login: 'yesterday' }), // line 10, the last, without a line end
  ];
  const { counts, invalid } = await importUsers({ pool, input: input(lines, ''), gzipped: false, batchSize: 3, parseWorkers, keepInvalid: 4 });
  expect(counts).toEqual({ lines: 10, created: 3, updated: 0, unchanged: 0, invalid: 5 });
  // keepInvalid: 4 of the 5 are kept, in file order, across the batches that found them.
  expect(invalid).toEqual([
    { line: 3, reason: 'not JSON' },
    { line: 4, reason: 'user_id is missing or not an Auth0 user id' },
    { line: 6, reason: 'logins_count is not a non-negative integer' },
    { line: 9, reason: 'email is not an email address' },
  ]);
  expect((await namesOf(prefix)).map((row) => row.auth0_id)).toEqual([`auth0|${prefix}-1`, `auth0|${prefix}-2`, `auth0|${prefix}-7`]);
});

it.each([
  ['throws', 'explode', /^parsing the export failed in a worker thread: the parser met a line it cannot handle$/],
  ['ends its thread', 'exit-thread', /^a parse worker thread stopped \(exit code 3\) before the import ended$/],
])('a parse worker that %s fails the import with a clear error, after the batches before it', async (_label, word, message) => {
  const prefix = `failing-${word}`;
  // Batches of 2 lines: the fourth batch (lines 7-8) fails; the first three are before it in the file.
  const lines = Array.from({ length: 12 }, (_, i) => exportLine(`${prefix}-${String(i + 1).padStart(2, '0')}`, i === 7 ? { name: word } : {}));
  const writes: number[] = [];
  const threadsBefore = threadsOfThisProcess();
  const imported = importUsers({ pool, input: input(lines), gzipped: false, batchSize: 2, parseWorkers: 2, parseWorkerScript: TEST_WORKER, onBatch: (counts) => writes.push(counts.lines) });
  await expect(imported).rejects.toThrow(message);
  // The other parse worker was ended too: no thread is left behind.
  expect(threadsOfThisProcess()).toBe(threadsBefore);
  // Nothing from the failing batch or after it was written; what came before may have been.
  const written = (await namesOf(prefix)).map((row) => Number(row.auth0_id.slice(-2)));
  expect(written.every((n) => n <= 6)).toBe(true);
  expect(written).toEqual(Array.from({ length: written.length }, (_, i) => i + 1));
  expect(writes.every((lines) => lines <= 6)).toBe(true);
});

it('a signal to users:import ends its batches being written, its parse workers and itself (exit 0); a re-run imports the rest', async () => {
  const users = 40_000;
  const file = path.join(dir, 'signal.ndjson');
  fs.writeFileSync(file, `${Array.from({ length: users }, (_, i) => exportLine(`signal-${i}`)).join('\n')}\n`);
  const cli = () => spawn(process.execPath, ['--import', 'tsx', 'src/cli/users-import.ts', file], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url } });
  const child = cli();
  const exited = once(child, 'exit');
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += String(chunk)));
  child.stderr.on('data', (chunk: Buffer) => (output += String(chunk)));
  // The first progress line is printed after the first committed batch.
  await new Promise<void>((resolve) => child.stdout.on('data', () => output.includes('progress:') && resolve()));
  child.kill('SIGTERM');
  expect(await exited).toEqual([0, null]);
  expect(output).toMatch(/users:import stopped on a signal: \d+ created, 0 updated, 0 unchanged so far; run it again to import the rest/);
  expect(output).not.toContain('failed');
  const committed = Number(/stopped on a signal: (\d+) created/.exec(output)![1]);
  // Every batch that was being written ended, committed: what the command says is what the table holds.
  expect((await pool.query(`SELECT count(*)::int AS n FROM users WHERE auth0_id LIKE 'auth0|signal-%'`)).rows[0].n).toBe(committed);
  expect(committed).toBeLessThan(users);

  const rerun = cli();
  let rerunOutput = '';
  rerun.stdout.on('data', (chunk: Buffer) => (rerunOutput += String(chunk)));
  expect(await once(rerun, 'exit')).toEqual([0, null]);
  expect(rerunOutput).toContain(`40,000 lines: ${users - committed} created, 0 updated, ${committed} unchanged, 0 invalid`);
}, 120_000);

it('runs from the build (dist/, plain node, no tsx) with its parse workers loaded as JavaScript', async () => {
  // Compiled as `npm run build` compiles, into a directory of its own beside dist/ (same depth, so
  // that node_modules and prisma/migrations resolve as they do from dist/).
  const out = path.join(ROOT, `dist-test-${process.pid}`);
  try {
    await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], { cwd: ROOT });
    expect(fs.existsSync(path.join(out, 'sync/parse-worker.js'))).toBe(true);
    const file = path.join(dir, 'dist.ndjson');
    fs.writeFileSync(file, `${[exportLine('dist-1'), 'not json', exportLine('dist-3')].join('\n')}\n`);
    // Exit 3: the invalid line is refused, the others stored.
    const outcome = await run(process.execPath, [path.join(out, 'cli/users-import.js'), file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, USERS_IMPORT_PARSE_WORKERS: '2' },
    }).then(() => undefined, (error: { code: number; stdout: string }) => error);
    expect(outcome?.code).toBe(3);
    const stdout = outcome?.stdout ?? '';
    expect(stdout).toMatch(/imported in [\d.]+s: 3 lines: 2 created, 0 updated, 0 unchanged, 1 invalid/);
    expect(stdout).toContain('line 2: not JSON');
    expect((await namesOf('dist')).map((row) => row.auth0_id)).toEqual(['auth0|dist-1', 'auth0|dist-3']);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 240_000);

it('a bad USERS_IMPORT_PARSE_WORKERS gets one line on stderr and exit 1, and nothing is written', async () => {
  const file = path.join(dir, 'bad-setting.ndjson');
  fs.writeFileSync(file, `${exportLine('bad-setting-1')}\n`);
  const failed = await run(process.execPath, ['--import', 'tsx', 'src/cli/users-import.ts', file], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, USERS_IMPORT_PARSE_WORKERS: 'two' },
  }).then(
    () => undefined,
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  expect(failed).toMatchObject({ code: 1, stdout: '', stderr: 'users:import: USERS_IMPORT_PARSE_WORKERS must be a whole number from 0 to 16, not "two"\n' });
  expect(await namesOf('bad-setting')).toEqual([]);
});

it('a bad parseWorkers or batchSize is refused before anything changes: an empty table keeps its indexes', async () => {
  const empty = await createTestDatabase();
  const emptyPool = new Pool({ connectionString: empty.url, max: 2 });
  const indexCount = async () => (await emptyPool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'users'`)).rows[0]!.n;
  try {
    const before = await indexCount();
    await expect(importUsers({ pool: emptyPool, input: input([exportLine('bad-options-1')]), gzipped: false, parseWorkers: 1.5 })).rejects.toThrow('parseWorkers must be a non-negative integer, not 1.5');
    await expect(importUsers({ pool: emptyPool, input: input([exportLine('bad-options-1')]), gzipped: false, batchSize: 0 })).rejects.toThrow('batchSize must be a positive integer, not 0');
    expect(await indexCount()).toBe(before);
    expect((await emptyPool.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(0);
  } finally {
    await emptyPool.end();
    await empty.drop();
  }
});
