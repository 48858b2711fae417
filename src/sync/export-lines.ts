// The lines of an Auth0 users export: each validated into an ImportedUser, a batch of them into COPY text.
import { parseTimestamp } from '../modules/users/timestamps';
import { isAuth0Id, isEmailAddress } from '../modules/users/user-input';
import { copyBytes, type ImportedUser } from '../modules/users/users-bulk-upsert';

export interface InvalidLine {
  line: number;
  reason: string;
}

/** A batch of lines made ready to write: everything the main thread needs, without one object per user. */
export interface ParsedBatch {
  /** COPY text (UTF-8) of the batch's distinct users, each with their last line in the batch. */
  copy: Uint8Array;
  /** How many rows `copy` holds. */
  rows: number;
  /** A 32-bit hash of each row's Auth0 id, sorted: two batches that share a user share a hash. */
  keys: Uint32Array;
  lines: number;
  invalidCount: number;
  /** The first invalid lines (at most the `keepInvalid` asked for), numbered from 1 within the batch. */
  invalid: InvalidLine[];
}

/**
 * Parses a batch of whole lines (UTF-8, `\n` or `\r\n` ends; the file's last line may lack one).
 * Each line is decoded on its own: decoding the whole batch at once and slicing it measured slower
 * (a batch with one non-ASCII character becomes one two-byte string, and every line with it).
 */
export function parseExportBatch(bytes: Uint8Array, keepInvalid: number): ParsedBatch {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Keyed by Auth0 id: one statement cannot update a row twice, so a repeated id keeps its last line.
  const users = new Map<string, ImportedUser>();
  const invalid: InvalidLine[] = [];
  let invalidCount = 0;
  let lines = 0;
  let start = 0;
  while (start < buffer.length) {
    const newline = buffer.indexOf(10, start);
    const end = newline === -1 ? buffer.length : newline;
    lines += 1;
    const line = lineOf(buffer, start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    const parsed = parseExportLine(line);
    if (typeof parsed === 'string') {
      invalidCount += 1;
      if (invalid.length < keepInvalid) invalid.push({ line: lines, reason: parsed });
      continue;
    }
    users.set(parsed.auth0Id, parsed);
  }
  const distinct = [...users.values()];
  const keys = new Uint32Array(distinct.length);
  for (let i = 0; i < distinct.length; i += 1) keys[i] = hashOf(distinct[i]!.auth0Id);
  keys.sort();
  return { copy: copyBytes(distinct), rows: distinct.length, keys, lines, invalidCount, invalid };
}

// A line ends at \n; a \r before it (Windows line ends) is not part of the line.
export const lineOf = (buffer: Buffer, start: number, end: number) => buffer.toString('utf8', start, end > start && buffer[end - 1] === 13 ? end - 1 : end);

// FNV-1a over the UTF-16 code units: equal ids give equal hashes; a collision only makes a batch wait.
function hashOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i += 1) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** Whether two sorted key lists share a value (a merge walk: no set to build). */
export function sortedKeysIntersect(a: Uint32Array, b: Uint32Array): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) return true;
    if (a[i]! < b[j]!) i += 1;
    else j += 1;
  }
  return false;
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
  const name = storableText(value.name, 255);
  const picture = storableText(value.picture, 2048);
  if (name === undefined) return 'name is not a string of at most 255 characters without NUL';
  if (picture === undefined) return 'picture is not a string of at most 2048 characters without NUL';
  const identities = Array.isArray(value.identities) ? (value.identities as Array<{ connection?: unknown }>) : [];
  const stated = typeof value.connection === 'string' ? value.connection : typeof identities[0]?.connection === 'string' ? identities[0].connection : null;
  const connection = stated && stated.length <= 255 && !stated.includes('\u0000') ? stated : null;
  const loginsCount = value.logins_count ?? 0;
  if (typeof loginsCount !== 'number' || !Number.isInteger(loginsCount) || loginsCount < 0 || loginsCount > MAX_INTEGER) return 'logins_count is not a non-negative integer';
  // Strict ISO 8601 (parseTimestamp), sent to Postgres as epoch milliseconds.
  const lastLogin = value.last_login == null ? null : parseTimestamp(value.last_login);
  if (lastLogin === undefined) return 'last_login is not a date';
  const updatedAt = value.updated_at == null ? null : parseTimestamp(value.updated_at);
  if (updatedAt === undefined) return 'updated_at is not a date';
  return {
    auth0Id,
    email,
    emailVerified: value.email_verified === true,
    name,
    picture,
    connection,
    loginsCount,
    lastLoginMs: lastLogin,
    auth0UpdatedMs: updatedAt,
  };
}

// A field's value, null when absent, or undefined when it cannot be stored. Postgres text cannot
// hold NUL: such a value would fail its whole batch, so its line is refused. (A module-level
// function: a closure made per user cost tsx's `__name` helper a call per line.)
function storableText(v: unknown, max: number): string | null | undefined {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' && v.length <= max && !v.includes('\u0000') ? v : undefined;
}
