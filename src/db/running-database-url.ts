// The connection URL of the database the server uses, for a person's own client (db:url, db:psql).
import type { Logger } from 'pino';
import type { Config } from '../config';
import { findRunningEmbeddedPostgres } from './embedded-postgres';

/**
 * DATABASE_URL when set; otherwise the embedded Postgres the server runs, whose password lives only in
 * a file beside its data directory. Nothing is started here: a Postgres that stopped with this command
 * would leave the URL pointing at nothing. The URL holds the password: callers never log it.
 */
export async function runningDatabaseUrl(database: Config['database'], logger: Logger): Promise<string> {
  if (database.url) return database.url;
  const running = await findRunningEmbeddedPostgres({ ...database.embedded, logger });
  if (!running) {
    throw new Error(
      `No embedded Postgres is running on ${database.embedded.dir} (EMBEDDED_POSTGRES_PORT ${database.embedded.port}): ` +
        'start the server first (npm start, in another terminal), or set DATABASE_URL.',
    );
  }
  return running;
}

/** The URL without its password, and the password apart (for PGPASSWORD): argv is visible to `ps`, the environment is not. */
export function splitPassword(url: string): { url: string; password: string | undefined } {
  const parsed = new URL(url);
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  parsed.password = '';
  return { url: parsed.toString(), password };
}
