// `npm run db:migrate`: applies pending migrations to DATABASE_URL, or to the embedded Postgres.
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { applyMigrations } from '../db/migrate';
import { createLogger } from '../logger';

async function migrate(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log);
  const database = await openDatabase(config.database, logger);
  try {
    const applied = await applyMigrations({ connectionString: database.connectionString, logger });
    logger.info({ applied }, applied.length === 0 ? 'database is up to date' : `applied ${applied.length} migration(s)`);
  } finally {
    await database.close();
  }
}

migrate().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
