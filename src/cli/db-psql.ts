// `npm run db:psql [-- psql options]`: opens psql on the server's database, embedded or DATABASE_URL.
import { spawn } from 'node:child_process';
import pino from 'pino';
import { loadConfig } from '../config';
import { runningDatabaseUrl, splitPassword } from '../db/running-database-url';
import { createLogger } from '../logger';

const NO_PSQL =
  'psql is not on PATH: install the PostgreSQL client (Debian/Ubuntu: apt install postgresql-client; macOS: brew install libpq), ' +
  'or give your own client the URL that npm run -s db:url prints.';

async function openPsql(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.log, pino.destination({ dest: 2, sync: true }));
  // The password travels in PGPASSWORD, never in psql's argv, which any local user can read with ps.
  const { url, password } = splitPassword(await runningDatabaseUrl(config.database, logger));
  const psql = spawn('psql', [url, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: password === undefined ? process.env : { ...process.env, PGPASSWORD: password },
  });
  // Ctrl-C belongs to psql (it cancels the query); this process waits for psql to end.
  const ignoreInterrupt = () => {};
  process.on('SIGINT', ignoreInterrupt);
  const code = await new Promise<number>((resolve, reject) => {
    psql.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new Error(NO_PSQL) : error));
    psql.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  process.off('SIGINT', ignoreInterrupt);
  process.exitCode = code;
}

openPsql().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
