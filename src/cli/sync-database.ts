// Opens the configured database (migrated) and a small pg pool for the sync commands.
import { Pool } from 'pg';
import { loadConfig } from '../config';
import { openDatabase, type Database } from '../db/database';
import { applyMigrations } from '../db/migrate';
import { createLogger } from '../logger';

export async function openSyncDatabase(): Promise<{ pool: Pool; database: Database; close(): Promise<void> }> {
  const config = loadConfig();
  const logger = createLogger({ ...config.log, level: 'warn' });
  const database = await openDatabase(config.database, logger);
  await applyMigrations({ connectionString: database.connectionString, logger });
  const pool = new Pool({ connectionString: database.connectionString, max: 2 });
  return {
    pool,
    database,
    close: async () => {
      await pool.end();
      await database.close();
    },
  };
}
