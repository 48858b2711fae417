// Opens the configured database (migrated), a small pg pool that writes as the sync, and a Prisma client, for the sync commands.
import { loadConfig } from '../config';
import { openDatabase, type Database } from '../db/database';
import { applyMigrations } from '../db/migrate';
import { createPrismaClient, type PrismaClient } from '../db/prisma';
import { createLogger } from '../logger';
import { createSyncWriterPool, type SyncWriterPool } from '../modules/users/user-sync-writes';

export async function openSyncDatabase(): Promise<{ pool: SyncWriterPool; prisma: PrismaClient; database: Database; close(): Promise<void> }> {
  const config = loadConfig();
  const logger = createLogger({ ...config.log, level: 'warn' });
  const database = await openDatabase(config.database, logger);
  await applyMigrations({ connectionString: database.connectionString, logger });
  // Its writes are Auth0's own data: the push trigger must never send them back.
  const pool = createSyncWriterPool(database.connectionString, 2, logger);
  const prisma = createPrismaClient({ connectionString: database.connectionString, poolSize: 1, logger });
  return {
    pool,
    prisma,
    database,
    close: async () => {
      await pool.end();
      await prisma.$disconnect();
      await database.close();
    },
  };
}
