// Backfill (a users-export job) and reconcile (user search by updated_at) through the Auth0 Management API.
import { Readable } from 'node:stream';
import type { ManagementClient } from 'auth0';
import type { Pool } from 'pg';
import type { PrismaClient } from '../db/prisma';
import type { SyncWriterPool } from '../modules/users/user-sync-writes';
import { upsertUsers, type ImportedUser } from '../modules/users/users-bulk-upsert';
import { parseTimestamp } from '../modules/users/timestamps';
import { completedExportLocation, forgetExportJob, freshLocation } from './export-job';
import { importUsers, parseAuth0User, type ImportCounts, type InvalidLine } from './import-users';

export const EXPORT_FIELDS = [
  { name: 'user_id' },
  { name: 'email' },
  { name: 'email_verified' },
  { name: 'name' },
  { name: 'picture' },
  { name: 'identities[0].connection', export_as: 'connection' },
  { name: 'logins_count' },
  { name: 'last_login' },
  { name: 'updated_at' },
];

export class SyncError extends Error {
  override name = 'SyncError';
}

/**
 * Creates a users-export job for all connections (or resumes waiting on the one a previous run
 * left), waits for it as long as Auth0 may take, downloads the file and imports it.
 */
export async function backfillUsers(options: {
  management: ManagementClient;
  pool: Pool;
  prisma: PrismaClient;
  say(line: string): void;
  pollIntervalMs?: number;
  maxWaitMs: number;
  signal?: AbortSignal;
}): Promise<{ counts: ImportCounts; invalid: InvalidLine[] }> {
  const { management, prisma, say } = options;
  const { jobId, location } = await completedExportLocation({
    management,
    prisma,
    say,
    create: () => management.jobs.usersExports.create({ format: 'json', fields: EXPORT_FIELDS }),
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    maxWaitMs: options.maxWaitMs,
    signal: options.signal,
  });
  let download = await fetch(location);
  // The link lives 60 s: one that expired on the way (a slow poll, a resumed run) is read again.
  if (download.status === 403 || download.status === 404) {
    await download.body?.cancel();
    say('the download link had expired; reading a new one');
    download = await fetch(await freshLocation(management, jobId));
  }
  if (!download.ok || !download.body) throw new SyncError(`downloading the export failed: HTTP ${download.status}`);
  say('export downloaded; importing');
  const result = await importUsers({ pool: options.pool, input: Readable.fromWeb(download.body as import('node:stream/web').ReadableStream), gzipped: true });
  await forgetExportJob(prisma);
  return result;
}

const CHECKPOINT = 'users:reconcile';
const PER_PAGE = 100;
// Auth0's user search answers at most 1,000 results for one query (page * per_page < 1000).
const SEARCH_CAP = 1000;

export interface ReconcileResult extends Omit<ImportCounts, 'lines'> {
  fetched: number;
  windows: number;
  checkpoint: Date;
}

/**
 * Upserts every user updated since the last checkpoint. Each search asks for `updated_at` from the
 * checkpoint on, sorted ascending; when a search hits the 1,000-result cap the window moves to the
 * newest `updated_at` seen and searches again, so the cap never hides a user. The checkpoint is
 * saved after every window, so a crash resumes where it stopped.
 */
export async function reconcileUsers(options: { management: ManagementClient; pool: SyncWriterPool; prisma: PrismaClient; say(line: string): void }): Promise<ReconcileResult> {
  const { management, pool, prisma, say } = options;
  const saved = await prisma.syncCheckpoint.findUnique({ where: { name: CHECKPOINT } });
  let checkpoint = saved?.value ?? new Date(0);
  const result: ReconcileResult = { fetched: 0, windows: 0, created: 0, updated: 0, unchanged: 0, invalid: 0, checkpoint };

  for (;;) {
    result.windows += 1;
    const window = await searchWindow(management, checkpoint);
    result.fetched += window.users.length + window.invalid;
    result.invalid += window.invalid;
    if (window.users.length > 0) {
      // Through the users module: an Auth0 copy older than the state stored here changes nothing.
      const counts = await upsertUsers(pool, dedupe(window.users));
      result.created += counts.created;
      result.updated += counts.updated;
      result.unchanged += counts.unchanged;
    }
    const newest = window.newest;
    if (newest && newest > checkpoint) {
      checkpoint = newest;
      await prisma.syncCheckpoint.upsert({ where: { name: CHECKPOINT }, create: { name: CHECKPOINT, value: checkpoint }, update: { value: checkpoint } });
    }
    say(`window ${result.windows}: ${window.users.length} users from ${window.from.toISOString()}${window.capped ? ' (hit the 1,000-result cap; moving the window)' : ''}`);
    if (!window.capped) break;
    if (!newest || newest <= window.from) {
      throw new SyncError(`more than ${SEARCH_CAP} users share updated_at ${window.from.toISOString()}: the search cannot page past them; use users:backfill`);
    }
  }
  result.checkpoint = checkpoint;
  return result;
}

async function searchWindow(management: ManagementClient, from: Date) {
  const users: ImportedUser[] = [];
  let invalid = 0;
  let newest: Date | undefined;
  let fetched = 0;
  for (let page = 0; page * PER_PAGE < SEARCH_CAP; page += 1) {
    const response = await management.users.list({ q: `updated_at:[${from.toISOString()} TO *]`, sort: 'updated_at:1', search_engine: 'v3', per_page: PER_PAGE, page });
    const batch = response.data;
    fetched += batch.length;
    for (const user of batch) {
      const parsed = parseAuth0User(user);
      if (typeof parsed === 'string') invalid += 1;
      else users.push(parsed);
      // An invalid user's updated_at moves the window too: a page of them must not hold it still.
      const updatedMs = parseTimestamp(user.updated_at);
      if (updatedMs !== undefined && (!newest || updatedMs > newest.getTime())) newest = new Date(updatedMs);
    }
    if (batch.length < PER_PAGE) break;
  }
  return { users, invalid, newest, from, capped: fetched >= SEARCH_CAP };
}

function dedupe(users: ImportedUser[]): ImportedUser[] {
  return [...new Map(users.map((user) => [user.auth0Id, user])).values()];
}
