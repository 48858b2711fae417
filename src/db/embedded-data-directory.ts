// The embedded Postgres' data directory on disk: damaged or empty, its first initialisation, and the files kept beside it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createFileOnce } from '../create-file-once';
import { processShutdown } from '../shutdown';
import { isAlive } from './postmaster';

/** A problem with the embedded Postgres that start-up reports in one message, without a stack. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export interface Credentials {
  user: string;
  password: string;
}

/** Who started the Postgres running on a data directory, kept beside it so that the next start can tell an orphan. */
export interface OwnerRecord {
  ownerPid: number;
  postgresPid: number;
}

/**
 * True for a directory that is missing or empty (initdb's to fill). A directory with files but no
 * PG_VERSION is damaged or not a Postgres directory at all: refuse, and never suggest deleting it.
 */
export function isEmptyDataDirectory(dir: string): boolean {
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
export async function initialiseDataDirectory(dir: string, instanceFor: (databaseDir: string) => { initialise(): Promise<void> }): Promise<void> {
  removeAbandonedInitDirectories(dir);
  const staging = `${dir}.initdb-${process.pid}`;
  fs.mkdirSync(staging, { recursive: true });
  let initialising: Promise<void> | undefined;
  let stopping = false;
  const unregister = processShutdown.add('unfinished initdb', async () => {
    stopping = true;
    // initdb (its own process) writes into the staging directory until it ends, also after a
    // signal that reached only us: removing the directory before that raced its writes and could
    // leave it behind.
    await initialising?.catch(() => undefined);
    fs.rmSync(staging, { recursive: true, force: true });
  });
  try {
    handDirectoryToPostgresUser(staging);
    initialising = instanceFor(staging).initialise();
    await initialising;
    if (stopping) throw new EmbeddedPostgresError('Stopped during the first initdb; the next start initialises the data directory.');
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

// The password is made once per data directory and kept beside it, readable only by its owner.
export function readOrCreateCredentials(dir: string): Credentials {
  const file = `${dir}.credentials.json`;
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as Credentials;
  const credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
  return JSON.parse(createFileOnce(file, JSON.stringify(credentials)).content) as Credentials;
}

export function readOwnerRecord(dir: string): OwnerRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(`${dir}.owner.json`, 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}

export function writeOwnerRecord(dir: string, record: OwnerRecord): void {
  const temporary = `${dir}.owner.json.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(record));
  fs.renameSync(temporary, `${dir}.owner.json`);
}

// Only our own record: another process may own the directory by now.
export function removeOwnerRecord(dir: string): void {
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
