// Imports an Auth0 users export (NDJSON, optionally gzipped): streamed, validated line by line, upserted in batches.
import fs from 'node:fs';
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Pool } from 'pg';
import { Auth0IdSchema, isEmailAddress } from '../modules/users/user-input';
import { upsertUsers, type ImportedUser } from '../modules/users/users-bulk-upsert';

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
}

export async function importUsers(options: ImportOptions): Promise<{ counts: ImportCounts; invalid: InvalidLine[] }> {
  const batchSize = options.batchSize ?? 5000;
  const keepInvalid = options.keepInvalid ?? 1000;
  const counts: ImportCounts = { lines: 0, created: 0, updated: 0, unchanged: 0, invalid: 0 };
  const invalid: InvalidLine[] = [];
  let bytesRead = 0;
  options.input.on('data', (chunk: Buffer) => void (bytesRead += chunk.length));
  const text = options.gzipped ? options.input.pipe(createGunzip()) : options.input;
  const lines = readline.createInterface({ input: text, crlfDelay: Infinity });

  // Keyed by Auth0 id: one statement cannot update a row twice, so a repeated id keeps its last line.
  let batch = new Map<string, ImportedUser>();
  const flush = async () => {
    if (batch.size === 0) return;
    const users = [...batch.values()];
    batch = new Map();
    const result = await upsertUsers(options.pool, users);
    counts.created += result.created;
    counts.updated += result.updated;
    counts.unchanged += result.unchanged;
    options.onBatch?.({ ...counts }, bytesRead);
  };

  for await (const line of lines) {
    counts.lines += 1;
    if (line.trim() === '') continue;
    const parsed = parseExportLine(line);
    if (typeof parsed === 'string') {
      counts.invalid += 1;
      if (invalid.length < keepInvalid) invalid.push({ line: counts.lines, reason: parsed });
      continue;
    }
    batch.set(parsed.auth0Id, parsed);
    if (batch.size >= batchSize) await flush();
  }
  await flush();
  return { counts, invalid };
}

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

/** An Auth0 user (an export line, or a user from the Management API's search), or the reason it is refused. */
export function parseAuth0User(input: unknown): ImportedUser | string {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return 'not a JSON object';
  const value = input as Record<string, unknown>;
  const auth0Id = value.user_id;
  if (typeof auth0Id !== 'string' || !Auth0IdSchema.safeParse(auth0Id).success) return 'user_id is missing or not an Auth0 user id';
  const email = value.email ?? null;
  if (email !== null && (typeof email !== 'string' || !isEmailAddress(email))) return 'email is not an email address';
  const text = (field: string, max: number): string | null | undefined => {
    const v = value[field];
    if (v === undefined || v === null) return null;
    return typeof v === 'string' && v.length <= max ? v : undefined;
  };
  const name = text('name', 255);
  const picture = text('picture', 2048);
  if (name === undefined) return 'name is not a string of at most 255 characters';
  if (picture === undefined) return 'picture is not a string of at most 2048 characters';
  const identities = Array.isArray(value.identities) ? (value.identities as Array<{ connection?: unknown }>) : [];
  const connection = typeof value.connection === 'string' ? value.connection : typeof identities[0]?.connection === 'string' ? identities[0].connection : null;
  const loginsCount = value.logins_count ?? 0;
  if (typeof loginsCount !== 'number' || !Number.isInteger(loginsCount) || loginsCount < 0) return 'logins_count is not a non-negative integer';
  const lastLogin = value.last_login ?? null;
  if (lastLogin !== null && (typeof lastLogin !== 'string' || Number.isNaN(Date.parse(lastLogin)))) return 'last_login is not a date';
  return {
    auth0Id,
    email,
    emailVerified: value.email_verified === true,
    name,
    picture,
    connection: connection && connection.length <= 255 ? connection : null,
    loginsCount,
    lastLoginAt: lastLogin,
  };
}

export function openExport(file: string): { input: Readable; gzipped: boolean; size: number } {
  return { input: fs.createReadStream(file), gzipped: file.endsWith('.gz'), size: fs.statSync(file).size };
}
