// `npm run users:import -- <file>`: imports an Auth0 users export (.ndjson or .ndjson.gz) into the database.
import { describeReadError, INVALID_LINES_EXIT_CODE, resolveExportPath, unreadableExport } from './export-file';
import { loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { applyMigrations } from '../db/migrate';
import { createLogger } from '../logger';
import { createSyncWriterPool } from '../modules/users/user-sync-writes';
import { processShutdown } from '../shutdown';
import { DEFAULT_PARSE_WORKERS, importUsers, openExport, type ImportCounts } from '../sync/import-users';

/** The export being read, resolved against where the user typed the command. */
let file = '';

async function importCommand(): Promise<void> {
  // A signal during start-up stops what has started (an embedded Postgres registers its own stop);
  // during the import, no batch is started after it, the batches being written commit, the parse
  // workers end, then the database closes. A re-run imports the rest.
  processShutdown.install({ exitCodeOnSignal: () => 0 });
  const given = process.argv[2];
  if (!given || given.startsWith('-')) {
    process.stderr.write(`Usage: npm run users:import -- <export.ndjson | export.ndjson.gz>\n  a relative path is read from the directory you run npm in\n  exits 0 when every line was imported, ${INVALID_LINES_EXIT_CODE} when some lines were invalid (the rest are imported), 1 when it failed\n`);
    process.exit(2);
  }
  file = resolveExportPath(given);
  const problem = unreadableExport(file);
  if (problem) {
    process.stderr.write(`users:import: ${problem}\n`);
    process.exit(1);
  }
  const parseWorkers = parseWorkersSetting(process.env.USERS_IMPORT_PARSE_WORKERS);
  if (typeof parseWorkers === 'string') {
    process.stderr.write(`users:import: ${parseWorkers}\n`);
    process.exit(1);
  }
  const config = loadConfig();
  const logger = createLogger({ ...config.log, level: 'warn' });
  const database = await openDatabase(config.database, logger);
  // An export is Auth0's own data: written as the sync, so the push trigger never sends it back.
  const pool = createSyncWriterPool(database.connectionString, 2, logger);
  const stop = new AbortController();
  let progress: ReturnType<typeof createProgress> | undefined;
  const run = (async () => {
    try {
      await applyMigrations({ connectionString: database.connectionString, logger });
      const { input, gzipped, size } = openExport(file);
      progress = createProgress(size);
      const { counts, invalid } = await importUsers({ pool, input, gzipped, onBatch: progress.update, signal: stop.signal, parseWorkers });
      progress.done(counts);
      for (const line of invalid) process.stdout.write(`  line ${line.line}: ${line.reason}\n`);
      if (counts.invalid > invalid.length) process.stdout.write(`  ... and ${counts.invalid - invalid.length} more invalid lines\n`);
      // A script must be able to tell: the valid lines are in, but not every line.
      if (counts.invalid > 0) process.exitCode = INVALID_LINES_EXIT_CODE;
    } catch (error) {
      if (stop.signal.aborted) process.stdout.write(`users:import stopped on a signal: ${progress?.committed() ?? 'no batch committed'}; run it again to import the rest\n`);
      throw error;
    } finally {
      await pool.end();
      await database.close();
    }
  })();
  processShutdown.add('users:import', async () => {
    stop.abort();
    await run.catch(() => undefined);
  });
  await run;
}

/** USERS_IMPORT_PARSE_WORKERS: worker threads that parse the export (0: on the main thread), or what is wrong with it. */
function parseWorkersSetting(value: string | undefined): number | string {
  if (value === undefined || value === '') return DEFAULT_PARSE_WORKERS;
  const workers = Number(value);
  return /^\d+$/.test(value) && workers <= 16 ? workers : `USERS_IMPORT_PARSE_WORKERS must be a whole number from 0 to 16, not "${value}"`;
}

/** A bar with count, rate and ETA on a terminal; a plain line every 2 s otherwise. */
function createProgress(totalBytes: number) {
  const started = Date.now();
  const tty = Boolean(process.stdout.isTTY);
  let lastLine = 0;
  let committed: ImportCounts | undefined;
  const summary = (counts: ImportCounts) => `${counts.lines.toLocaleString('en')} lines: ${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged, ${counts.invalid} invalid`;
  return {
    update: (counts: ImportCounts, bytesRead: number) => {
      committed = counts;
      const seconds = (Date.now() - started) / 1000;
      const rate = Math.round(counts.lines / Math.max(seconds, 0.001));
      const fraction = Math.min(1, bytesRead / Math.max(totalBytes, 1));
      const eta = fraction > 0 ? Math.max(0, Math.round((seconds / fraction) * (1 - fraction))) : 0;
      if (tty) {
        const width = 30;
        const bar = '#'.repeat(Math.round(fraction * width)).padEnd(width, '.');
        process.stdout.write(`\r[${bar}] ${Math.round(fraction * 100)}% ${counts.lines.toLocaleString('en')} lines, ${rate.toLocaleString('en')}/s, ETA ${eta}s   `);
      } else if (Date.now() - lastLine >= 2000) {
        lastLine = Date.now();
        process.stdout.write(`progress: ${summary(counts)} (${Math.round(fraction * 100)}%, ${rate}/s, ETA ${eta}s)\n`);
      }
    },
    done: (counts: ImportCounts) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${tty ? '\n' : ''}imported in ${seconds}s: ${summary(counts)}\n`);
    },
    /** What the batches committed so far wrote. */
    committed: () => (committed ? `${tty ? '\n' : ''}${committed.created} created, ${committed.updated} updated, ${committed.unchanged} unchanged so far` : undefined),
  };
}

importCommand().catch((error: unknown) => {
  // Stopping by a signal ends the import and what was starting: the stop's doing, not a failure.
  if (processShutdown.stopping) return;
  process.stderr.write(`users:import failed: ${describeReadError(file, error)}\n`);
  process.exit(1);
});
