// `npm run -s db:url`: prints the database's connection URL (with its password) for your own client.
import pino from 'pino';
import { loadConfig } from '../config';
import { runningDatabaseUrl } from '../db/running-database-url';
import { createLogger } from '../logger';

async function printDatabaseUrl(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stderr.write('Usage: npm run -s db:url   prints the connection URL, password included, on stdout (DATABASE_URL, or the running embedded Postgres)\n');
    return;
  }
  const config = loadConfig();
  // Logs go to stderr: stdout is only the URL, for DATABASE_URL=$(npm run -s db:url).
  const logger = createLogger(config.log, pino.destination({ dest: 2, sync: true }));
  // The one place the URL is written, because it was asked for; it holds the password.
  process.stdout.write(`${await runningDatabaseUrl(config.database, logger)}\n`);
}

printDatabaseUrl().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
