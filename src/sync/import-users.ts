// Imports an Auth0 users export (NDJSON, optionally gzipped): streamed, validated line by line, upserted in batches.
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Pool } from 'pg';
import { isAuth0Id, isEmailAddress } from '../modules/users/user-input';
import { createBatchWriters } from './batch-writers';
import { upsertUsers, type ImportedUser } from '../modules/users/users-bulk-upsert';
import { parseTimestamp } from '../modules/users/timestamps';
import { ensureUserIndexes, prepareUsersBulkLoad } from '../modules/users/users-load-indexes';

export interface ImportCounts {
  lines: number;
  created: number;
  updated: number;
  unchanged: number;
  invalid: number;
}

export interface InvalidLine {
  line: number;
  reason: string;
}

export interface ImportOptions {
  pool: Pool;
  input: Readable;
  gzipped: boolean;
  batchSize?: number;
  /** After each committed batch, with the bytes of the input read so far. */
  onBatch?: (counts: ImportCounts, bytesRead: number) => void;
  /** At most this many invalid lines are kept with their reasons (all are counted). */
  keepInvalid?: number;
  /** How many batches may be written at once, each on its own pool connection (the pool needs as many). */
  writers?: number;
}

export async function importUsers(options: ImportOptions): Promise<{ counts: ImportCounts; invalid: InvalidLine[] }> {
  const batchSize = options.batchSize ?? 5000;
  const keepInvalid = options.keepInvalid ?? 1000;
  const counts: ImportCounts = { lines: 0, created: 0, updated: 0, unchanged: 0, invalid: 0 };
  const invalid: InvalidLine[] = [];
  // Into an empty table, the indexes no write needs are built once at the end (see users-load-indexes).
  // Before the input is read from: a 'data' listener sets it flowing.
  const deferredIndexes = await prepareUsersBulkLoad(options.pool);
  let bytesRead = 0;
  options.input.on('data', (chunk: Buffer) => void (bytesRead += chunk.length));
  const text: Readable = options.gzipped ? options.input.pipe(createGunzip({ chunkSize: 64 * 1024 })) : options.input;

  // While Postgres writes batches, the next one is parsed. Up to `writers` batches are written at
  // once, each on its own connection, so that Postgres can use more than one core; a batch that
  // shares a user with one being written waits for it, so that the later line still wins. Memory
  // stays flat: at most writers + 1 batches are held. A crash may leave a later batch committed
  // before an earlier one that shares no user with it: a re-run writes the whole file again, in
  // order, so each user still ends with their last line.
  const writers = createBatchWriters<string>(options.writers ?? 2);
  const startWrite = (batch: Map<string, ImportedUser>) =>
    writers.submit(batch, async () => {
      const result = await upsertUsers(options.pool, [...batch.values()]);
      counts.created += result.created;
      counts.updated += result.updated;
      counts.unchanged += result.unchanged;
      options.onBatch?.({ ...counts }, bytesRead);
    });

  // Keyed by Auth0 id: one statement cannot update a row twice, so a repeated id keeps its last line.
  let batch = new Map<string, ImportedUser>();
  let failure: { error: unknown } | undefined;
  try {
    for await (const lines of splitLines(text)) {
      for (const line of lines) {
        counts.lines += 1;
        if (line.trim() === '') continue;
        const parsed = parseExportLine(line);
        if (typeof parsed === 'string') {
          counts.invalid += 1;
          if (invalid.length < keepInvalid) invalid.push({ line: counts.lines, reason: parsed });
          continue;
        }
        batch.set(parsed.auth0Id, parsed);
        if (batch.size >= batchSize) {
          await startWrite(batch);
          batch = new Map();
        }
      }
    }
    if (batch.size > 0) await startWrite(batch);
    await writers.drain();
  } catch (error) {
    failure = { error };
    // Never leave a batch running behind the caller's back (it may close the pool next).
    await writers.settle();
  }
  // Failed or not: what was committed must not stay without them.
  if (deferredIndexes) await ensureUserIndexes(options.pool).catch((error: unknown) => void (failure ??= { error }));
  if (failure) throw failure.error;
  return { counts, invalid };
}

/**
 * The lines of a UTF-8 byte stream, as arrays (one per chunk read). Faster than readline: it splits
 * bytes on \n, which never occurs inside a multi-byte character, and decodes each line once.
 */
export async function* splitLines(input: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<string[]> {
  let rest: Buffer | undefined;
  for await (const read of input) {
    // A web stream (fetch's body) gives Uint8Arrays, a stream with an encoding strings.
    const chunk = typeof read === 'string' ? Buffer.from(read) : Buffer.isBuffer(read) ? read : Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    const lines: string[] = [];
    let start = 0;
    let end = chunk.indexOf(10);
    if (end === -1) {
      rest = rest ? Buffer.concat([rest, chunk]) : chunk;
      continue;
    }
    if (rest) {
      lines.push(lineOf(Buffer.concat([rest, chunk.subarray(0, end)]), 0, rest.length + end));
      start = end + 1;
      rest = undefined;
      end = chunk.indexOf(10, start);
    }
    while (end !== -1) {
      lines.push(lineOf(chunk, start, end));
      start = end + 1;
      end = chunk.indexOf(10, start);
    }
    if (start < chunk.length) rest = chunk.subarray(start);
    yield lines;
  }
  if (rest && rest.length > 0) yield [lineOf(rest, 0, rest.length)];
}

// A line ends at \n; a \r before it (Windows line ends) is not part of the line.
const lineOf = (buffer: Buffer, start: number, end: number) => buffer.toString('utf8', start, end > start && buffer[end - 1] === 13 ? end - 1 : end);

/** One line of an Auth0 users export, or the reason it is refused. */
export function parseExportLine(line: string): ImportedUser | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  return parseAuth0User(value);
}

// The largest value of the integer column logins_count.
const MAX_INTEGER = 2_147_483_647;

/** An Auth0 user (an export line, or a user from the Management API's search), or the reason it is refused. */
export function parseAuth0User(input: unknown): ImportedUser | string {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return 'not a JSON object';
  const value = input as Record<string, unknown>;
  const auth0Id = value.user_id;
  if (typeof auth0Id !== 'string' || !isAuth0Id(auth0Id) || auth0Id.includes('\u0000')) return 'user_id is missing or not an Auth0 user id';
  const email = value.email ?? null;
  if (email !== null && (typeof email !== 'string' || !isEmailAddress(email))) return 'email is not an email address';
  const text = (field: string, max: number): string | null | undefined => {
    const v = value[field];
    if (v === undefined || v === null) return null;
    // Postgres text cannot hold NUL: such a value would fail its whole batch, so its line is refused.
    return typeof v === 'string' && v.length <= max && !v.includes('\u0000') ? v : undefined;
  };
  const name = text('name', 255);
  const picture = text('picture', 2048);
  if (name === undefined) return 'name is not a string of at most 255 characters without NUL';
  if (picture === undefined) return 'picture is not a string of at most 2048 characters without NUL';
  const identities = Array.isArray(value.identities) ? (value.identities as Array<{ connection?: unknown }>) : [];
  const stated = typeof value.connection === 'string' ? value.connection : typeof identities[0]?.connection === 'string' ? identities[0].connection : null;
  const connection = stated && stated.length <= 255 && !stated.includes('\u0000') ? stated : null;
  const loginsCount = value.logins_count ?? 0;
  if (typeof loginsCount !== 'number' || !Number.isInteger(loginsCount) || loginsCount < 0 || loginsCount > MAX_INTEGER) return 'logins_count is not a non-negative integer';
  const lastLogin = value.last_login ?? null;
  if (lastLogin !== null && !isDate(lastLogin)) return 'last_login is not a date';
  const updatedAt = value.updated_at ?? null;
  if (updatedAt !== null && !isDate(updatedAt)) return 'updated_at is not a date';
  return {
    auth0Id,
    email,
    emailVerified: value.email_verified === true,
    name,
    picture,
    connection,
    loginsCount,
    lastLoginAt: lastLogin,
    auth0UpdatedAt: updatedAt,
  };
}

// Strict ISO 8601: Postgres must accept every value sent to it, or the whole batch fails.
const isDate = (value: unknown): value is string => parseTimestamp(value) !== undefined;

export function openExport(file: string): { input: Readable; gzipped: boolean; size: number } {
  return { input: fs.createReadStream(file), gzipped: file.endsWith('.gz'), size: fs.statSync(file).size };
}
