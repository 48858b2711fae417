// A bulk import into an empty users table builds the indexes no write needs once, at its end; nothing may leave them missing.
import { PassThrough, Readable } from 'node:stream';
import { Pool } from 'pg';
import pino from 'pino';
import { applyMigrations } from '../src/db/migrate';
import { DEFERRABLE_USER_INDEXES, ensureUserIndexes, prepareUsersBulkLoad } from '../src/modules/users/users-load-indexes';
import { importUsers, type ImportCounts } from '../src/sync/import-users';
import { createTestDatabase, type TestDatabase } from './support/database';

const NAMES = DEFERRABLE_USER_INDEXES.map((index) => index.name);
const logger = pino({ level: 'silent' });

let database: TestDatabase;
let pool: Pool;
let definitions: Record<string, string>;
beforeEach(async () => {
  database = await createTestDatabase();
  pool = new Pool({ connectionString: database.url, max: 2 });
});
afterEach(async () => {
  await pool.end();
  await database.drop();
});

/** The deferrable indexes that exist, each with its definition as Postgres prints it. */
async function indexes(on: Pool = pool): Promise<Record<string, string>> {
  const { rows } = await on.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users' AND indexname = ANY($1) ORDER BY indexname`, [NAMES]);
  return Object.fromEntries(rows.map((row) => [row.indexname, row.indexdef]));
}

beforeAll(async () => {
  const migrated = await createTestDatabase();
  const on = new Pool({ connectionString: migrated.url, max: 1 });
  try {
    definitions = await indexes(on);
  } finally {
    await on.end();
    await migrated.drop();
  }
});

const line = (i: number, prefix: string) => JSON.stringify({ user_id: `auth0|${prefix}-${i}`, email: `${prefix}${i}@example.com`, name: `User ${i}`, logins_count: 1 });
const exportOf = (count: number, prefix: string) => Readable.from([`${Array.from({ length: count }, (_, i) => line(i, prefix)).join('\n')}\n`]);
const userCount = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users')).rows[0]!.n;

it('the migrations create the three indexes, with the definitions this module builds again', async () => {
  expect(Object.keys(definitions)).toEqual([...NAMES].sort());
  await pool.query(NAMES.map((name) => `DROP INDEX "${name}"`).join(';'));
  expect(await ensureUserIndexes(pool)).toEqual(NAMES);
  expect(await indexes()).toEqual(definitions);
  expect(await ensureUserIndexes(pool)).toEqual([]);
});

/**
 * Imports `first` users, and once they are committed (the import then waits for more input) reads
 * the indexes; then the rest. Says what the indexes were in between.
 */
async function importObservingIndexes(prefix: string, first: number, rest: number): Promise<{ between: Record<string, string>; counts: ImportCounts }> {
  const input = new PassThrough();
  let committed!: () => void;
  const firstCommitted = new Promise<void>((resolve) => (committed = resolve));
  const imported = importUsers({ pool, input, gzipped: false, batchSize: first, onBatch: () => committed() });
  input.write(`${Array.from({ length: first }, (_, i) => line(i, prefix)).join('\n')}\n`);
  await firstCommitted;
  const between = await indexes();
  input.end(`${Array.from({ length: rest }, (_, i) => line(first + i, prefix)).join('\n')}\n`);
  return { between, counts: (await imported).counts };
}

it('an import into an empty table writes without them and builds them at its end', async () => {
  const { between, counts } = await importObservingIndexes('empty', 1000, 2000);
  expect(between).toEqual({});
  expect(counts).toEqual({ lines: 3000, created: 3000, updated: 0, unchanged: 0, invalid: 0 });
  expect(await indexes()).toEqual(definitions);
  expect(await userCount()).toBe(3000);
});

it('an import into a table that has users keeps them, and builds any that is missing first', async () => {
  await importUsers({ pool, input: exportOf(10, 'first'), gzipped: false });
  await pool.query('DROP INDEX "users_email_idx"');
  const { between, counts } = await importObservingIndexes('second', 500, 1500);
  expect(between).toEqual(definitions);
  expect(counts.created).toBe(2000);
  expect(await userCount()).toBe(2010);
});

it('an import that fails half-way still builds them before it rethrows', async () => {
  let batches = 0;
  const failing = importUsers({
    pool,
    input: exportOf(3000, 'failing'),
    gzipped: false,
    batchSize: 1000,
    onBatch: () => {
      batches += 1;
      if (batches === 1) throw new Error('simulated failure after a batch');
    },
  });
  await expect(failing).rejects.toThrow('simulated failure after a batch');
  expect(await indexes()).toEqual(definitions);
  expect(await userCount()).toBeGreaterThan(0);
});

it('a process that died between the two (indexes dropped, never built) is repaired by the next migration run', async () => {
  expect(await prepareUsersBulkLoad(pool)).toBe(true);
  expect(await indexes()).toEqual({});
  await applyMigrations({ connectionString: database.url, logger });
  expect(await indexes()).toEqual(definitions);
});

it('two imports into the same empty table at once both finish, with every user and every index', async () => {
  const other = new Pool({ connectionString: database.url, max: 2 });
  try {
    const [a, b] = await Promise.all([
      importUsers({ pool, input: exportOf(2000, 'left'), gzipped: false, batchSize: 500 }),
      importUsers({ pool: other, input: exportOf(2000, 'right'), gzipped: false, batchSize: 500 }),
    ]);
    expect(a.counts.created + b.counts.created).toBe(4000);
  } finally {
    await other.end();
  }
  expect(await indexes()).toEqual(definitions);
  expect(await userCount()).toBe(4000);
});
