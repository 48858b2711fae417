// Opens the database the config names: the given DATABASE_URL, or the embedded Postgres.
import type { Logger } from 'pino';
import type { Config } from '../config';
import { findRunningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

export interface Database {
  connectionString: string;
  /** `embedded` when this process started its own Postgres (and stops it on close). */
  kind: 'external' | 'embedded';
  close(): Promise<void>;
}

export async function openDatabase(config: Config['database'], logger: Logger): Promise<Database> {
  if (config.url) return { connectionString: config.url, kind: 'external', close: async () => {} };
  const running = await findRunningEmbeddedPostgres({ ...config.embedded, logger });
  if (running) {
    logger.info({ module: 'embedded-postgres', port: config.embedded.port }, 'using the embedded postgres already running on this data directory');
    return { connectionString: running, kind: 'embedded', close: async () => {} };
  }
  const embedded = await startEmbeddedPostgres({ ...config.embedded, logger });
  return { connectionString: embedded.connectionString, kind: 'embedded', close: () => embedded.stop() };
}
