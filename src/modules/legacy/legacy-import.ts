// Imports a legacy user store (NDJSON, optionally gzipped): streamed, validated line by line, upserted in batches.
import readline from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Pool } from 'pg';
import { auth0IdForLegacyId, upsertLegacyUsers, type LegacyUserRow } from '../users/legacy-users';
import { Auth0IdSchema, isEmailAddress } from '../users/user-input';
import { normalizeLegacyHashInput } from './password-hashes';

export interface LegacyImportCounts {
  lines: number;
  created: number;
  updated: number;
  unchanged: number;
  invalid: number;
}

export interface InvalidLegacyLine {
  line: number;
  reason: string;
}

const LEGACY_ID = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,199}$/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const MAX_METADATA_BYTES = 16 * 1024;

export async function importLegacyUsers(options: {
  pool: Pool;
  input: Readable;
  gzipped: boolean;
  batchSize?: number;
  keepInvalid?: number;
  onBatch?: (counts: LegacyImportCounts) => void;
}): Promise<{ counts: LegacyImportCounts; invalid: InvalidLegacyLine[] }> {
  const batchSize = options.batchSize ?? 2000;
  const keepInvalid = options.keepInvalid ?? 1000;
  const counts: LegacyImportCounts = { lines: 0, created: 0, updated: 0, unchanged: 0, invalid: 0 };
  const invalid: InvalidLegacyLine[] = [];
  const refuse = (line: number, reason: string) => {
    counts.invalid += 1;
    if (invalid.length < keepInvalid) invalid.push({ line, reason });
  };
  const text = options.gzipped ? options.input.pipe(createGunzip()) : options.input;
  const lines = readline.createInterface({ input: text, crlfDelay: Infinity });

  // Keyed by legacy id (a repeated id keeps its last line); one address per batch, so that the
  // statement's own check sees an earlier line's address as taken.
  let batch = new Map<string, { row: LegacyUserRow; line: number }>();
  let emails = new Map<string, string>();
  const flush = async () => {
    if (batch.size === 0) return;
    const entries = [...batch.values()];
    batch = new Map();
    emails = new Map();
    const result = await upsertLegacyUsers(options.pool, entries.map((entry) => entry.row));
    counts.created += result.created;
    counts.updated += result.updated;
    counts.unchanged += result.unchanged;
    for (const legacyId of result.emailTaken) refuse(entries.find((entry) => entry.row.legacyId === legacyId)!.line, 'email already belongs to another legacy user');
    options.onBatch?.({ ...counts });
  };

  for await (const line of lines) {
    counts.lines += 1;
    if (line.trim() === '') continue;
    const parsed = parseLegacyLine(line);
    if (typeof parsed === 'string') {
      refuse(counts.lines, parsed);
      continue;
    }
    const email = parsed.email.toLowerCase();
    const holder = emails.get(email);
    if (holder !== undefined && holder !== parsed.legacyId) await flush();
    const previous = batch.get(parsed.legacyId);
    if (previous) emails.delete(previous.row.email.toLowerCase());
    batch.set(parsed.legacyId, { row: parsed, line: counts.lines });
    emails.set(email, parsed.legacyId);
    if (batch.size >= batchSize) await flush();
  }
  await flush();
  return { counts, invalid };
}

/** One line of a legacy export, or the reason it is refused (never quoting the hash). */
export function parseLegacyLine(line: string): LegacyUserRow | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const v = value as Record<string, unknown>;
  const id = typeof v.id === 'number' && Number.isSafeInteger(v.id) ? String(v.id) : v.id;
  if (typeof id !== 'string' || !LEGACY_ID.test(id) || !Auth0IdSchema.safeParse(auth0IdForLegacyId(id)).success) {
    return 'id is missing or not 1-200 letters, digits and ._:@+-';
  }
  if (typeof v.email !== 'string' || !isEmailAddress(v.email)) return 'email is missing or not an email address';
  if (v.email_verified !== undefined && typeof v.email_verified !== 'boolean') return 'email_verified is not a boolean';
  const text = (field: string, max: number): string | null | undefined => {
    const raw = v[field];
    if (raw === undefined || raw === null) return null;
    return typeof raw === 'string' && raw.length <= max && !CONTROL_CHARACTERS.test(raw) ? raw : undefined;
  };
  const name = text('name', 255);
  if (name === undefined) return 'name is not a string of at most 255 characters';
  const picture = text('picture', 2048);
  if (picture === undefined || (picture !== null && !/^https?:\/\/\S+$/i.test(picture))) return 'picture is not an http(s) URL';
  if (v.password_hash === undefined || v.password_hash === null) return 'password_hash is missing';
  // A string form, or Auth0's custom_password_hash object (md*, sha*, hmac), stored as its canonical JSON.
  const hash = normalizeLegacyHashInput(v.password_hash);
  if (typeof hash === 'string') return hash;
  const metadata = (field: string): Record<string, unknown> | null | string => {
    const raw = v[field];
    if (raw === undefined || raw === null) return null;
    if (typeof raw !== 'object' || Array.isArray(raw)) return `${field} is not a JSON object`;
    if (Buffer.byteLength(JSON.stringify(raw)) > MAX_METADATA_BYTES) return `${field} is larger than 16 kB`;
    return raw as Record<string, unknown>;
  };
  const userMetadata = metadata('user_metadata');
  if (typeof userMetadata === 'string') return userMetadata;
  const appMetadata = metadata('app_metadata');
  if (typeof appMetadata === 'string') return appMetadata;
  return { legacyId: id, email: v.email, emailVerified: v.email_verified === true, name, picture, passwordHash: hash.stored, userMetadata, appMetadata };
}
