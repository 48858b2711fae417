// The indexes of users that no write depends on, built once after a bulk load into an empty table instead of row by row.
import type { Pool, PoolClient } from 'pg';

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

/**
 * Neither unique nor an ON CONFLICT arbiter, so a load can go without them for a while. Their
 * definitions are the migrations' own (keep them equal: test/users-load-indexes.test.ts compares).
 * Maintained row by row, the email index alone cost 9 µs a row in an import (bench/README.md);
 * built after the load it is one sort.
 */
export const DEFERRABLE_USER_INDEXES: ReadonlyArray<{ name: string; create: string }> = [
  { name: 'users_email_idx', create: 'CREATE INDEX IF NOT EXISTS "users_email_idx" ON "users"("email")' },
  { name: 'users_created_at_id_idx', create: 'CREATE INDEX IF NOT EXISTS "users_created_at_id_idx" ON "users"("created_at" DESC, "id" DESC)' },
  { name: 'users_migrated_at_idx', create: 'CREATE INDEX IF NOT EXISTS "users_migrated_at_idx" ON "users"("migrated_at")' },
];

// Two keys for pg_advisory_xact_lock: this module's, and the index's place in the list.
const LOCK_KEY = 0x75_73_69_78; // "usix"

/**
 * Before a bulk load. If users is empty, drops the deferrable indexes and says so (the load must
 * then call `ensureUserIndexes` when it ends, failed or not); otherwise makes sure they all exist.
 * Should the process die in between, the next `applyMigrations` (every command and the server run
 * it first) or bulk load builds them again.
 */
export async function prepareUsersBulkLoad(pool: Pool): Promise<boolean> {
  const client = await pool.connect();
  let empty = false;
  try {
    await client.query('BEGIN');
    try {
      // Nobody inserts between the look and the drop; readers are not held up.
      await client.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
      const { rows } = await client.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM users) AS empty');
      empty = rows[0]!.empty;
      if (empty) for (const index of DEFERRABLE_USER_INDEXES) await client.query(`DROP INDEX IF EXISTS "${index.name}"`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    client.release();
  }
  if (!empty) await ensureUserIndexes(pool);
  return empty;
}

/**
 * Builds whichever deferrable index is missing, side by side on a pool (one connection each), or
 * one after the other on a single connection. Costs one catalog lookup when none is missing.
 */
export async function ensureUserIndexes(on: Pool | Queryable): Promise<string[]> {
  const { rows } = await on.query(
    `SELECT name FROM unnest($1::text[]) AS name WHERE to_regclass(quote_ident(name)) IS NULL`,
    [DEFERRABLE_USER_INDEXES.map((index) => index.name)],
  );
  const missing = new Set(rows.map((row) => row.name as string));
  const build = DEFERRABLE_USER_INDEXES.map((index, place) => ({ ...index, place })).filter((index) => missing.has(index.name));
  if (isPool(on)) {
    await Promise.all(build.map(async (index) => {
      const client = await on.connect();
      try {
        await buildIndex(client, index.place, index.create);
      } finally {
        client.release();
      }
    }));
  } else {
    for (const index of build) await buildIndex(on, index.place, index.create);
  }
  return build.map((index) => index.name);
}

// In its own transaction, under a lock of its own: two processes building the same index at once
// would otherwise collide in the catalog even with IF NOT EXISTS.
async function buildIndex(client: Queryable | PoolClient, place: number, create: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_KEY, place]);
    await client.query(create);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

const isPool = (on: Pool | Queryable): on is Pool => typeof (on as Pool).connect === 'function' && typeof (on as Pool).totalCount === 'number';
