// Applies prisma/migrations without Prisma's native engine, recording them exactly as Prisma Migrate does.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { ensureUserIndexes } from '../modules/users/users-load-indexes';
import { isDatabaseUnavailable } from './unavailable';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../prisma/migrations');

const CONNECT_TIMEOUT_MS = 10_000;

// The key Prisma Migrate locks with, so that this runner and `prisma migrate deploy` never overlap.
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// The table as Prisma Migrate creates it, so that `prisma migrate status` reads our history.
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/** Prisma's checksum: the sha256 of the migration.sql bytes, in hex. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    });
}

/**
 * Applies every pending migration, one transaction each, under Prisma's advisory lock.
 * Returns the names it applied.
 */
export async function applyMigrations(options: { connectionString: string; logger: Logger; dir?: string }): Promise<string[]> {
  const log = options.logger.child({ module: 'migrate' });
  const migrations = readMigrations(options.dir);
  const client = new Client({ connectionString: options.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A connection lost mid-way (the database stopped) fails the query under way; unhandled, it would end the process.
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const applied = await readHistory(client);
      checkHistory(migrations, applied, log);
      const pending = migrations.filter((migration) => !applied.has(migration.name));
      for (const migration of pending) {
        await applyOne(client, migration);
        log.info({ migration: migration.name }, 'applied migration');
      }
      // A bulk load into an empty table that stopped before building its indexes (killed, or the
      // database went away) left them missing: built again here, before anything else runs.
      const rebuilt = await ensureUserIndexes(client);
      if (rebuilt.length > 0) log.warn({ indexes: rebuilt }, 'built indexes of users that an interrupted import had left out');
      return pending.map((migration) => migration.name);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function readHistory(client: Client): Promise<Map<string, AppliedRow>> {
  const { rows } = await client.query<AppliedRow>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
      WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  return new Map(rows.map((row) => [row.migration_name, row]));
}

function checkHistory(migrations: MigrationFile[], applied: Map<string, AppliedRow>, log: Logger): void {
  const byName = new Map(migrations.map((migration) => [migration.name, migration]));
  for (const row of applied.values()) {
    const file = byName.get(row.migration_name);
    if (row.finished_at === null) {
      throw new MigrationError(
        `Migration ${row.migration_name} started but never finished (a failed \`prisma migrate deploy\`?). ` +
          `Fix the database, then mark it with \`prisma migrate resolve --applied|--rolled-back ${row.migration_name}\`.`,
      );
    }
    if (!file) {
      log.warn({ migration: row.migration_name }, 'migration applied to the database is missing from prisma/migrations');
    } else if (file.checksum !== row.checksum && checksumOf(file.sql.replace(/\r\n/g, '\n')) !== row.checksum) {
      throw new MigrationError(
        `Migration ${row.migration_name} was edited after it was applied: its migration.sql no longer matches ` +
          'the checksum recorded in _prisma_migrations. Restore the original file and put the change in a new migration.',
      );
    }
  }
}

async function applyOne(client: Client, migration: MigrationFile): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    // The database going away mid-migration is an outage to retry, not a broken migration.
    if (isDatabaseUnavailable(error)) throw error;
    await client.query('ROLLBACK');
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${reason}`, { cause: error });
  }
}
