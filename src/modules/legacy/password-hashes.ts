// Legacy password hashes: the families Auth0 imports, verifying a password against them (slow ones off the event loop), and their Auth0 import form.
import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as verifyArgon2 } from '@node-rs/argon2';
import { hash as hashBcrypt, verify as verifyBcrypt } from '@node-rs/bcrypt';
import { parseDigestObject, parseLdapHash, verifyFastHash, type CustomPasswordHash, type FastHash } from './fast-hashes';

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (password: Buffer, salt: Buffer, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

/** Longer passwords are refused before any hashing: no real password is this long, and hashing one costs CPU. */
export const MAX_PASSWORD_BYTES = 1024;
/** bcrypt reads at most 72 bytes; a longer password is refused, never truncated. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;
/** The cost of the dummy hash an unknown email is verified against when no legacy user waits (see decoy-hashes.ts). */
export const DUMMY_BCRYPT_COST = 10;

// Bounds that keep one verification from eating the machine (a hostile or corrupt import line).
const MAX_PBKDF2_ITERATIONS = 5_000_000;
const MAX_SCRYPT_MEMORY_BYTES = 256 * 1024 * 1024;

export type LegacyHash =
  | { kind: 'bcrypt'; encoded: string; cost: number }
  | { kind: 'argon2'; encoded: string }
  | { kind: 'scrypt'; N: number; r: number; p: number; salt: Buffer; hash: Buffer }
  | { kind: 'pbkdf2'; digest: Pbkdf2Digest; iterations: number; salt: Buffer; hash: Buffer }
  | FastHash;

export type LegacyHashKind = LegacyHash['kind'];
type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512';

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
// argon2id, argon2i and argon2d (PHC), version 19 or the older 16 (which may omit v=).
const ARGON2 = /^\$argon2(?:id|i|d)\$(?:v=(?:16|19)\$)?m=(\d{1,7}),t=(\d{1,4}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;
// PHC ($scrypt$ln=15,r=8,p=1$salt$hash) and passlib's variant of it (same fields, "." for "+").
const SCRYPT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;
// PHC ($pbkdf2-sha256$i=600000,l=32$salt$hash) and passlib ($pbkdf2-sha256$600000$salt$hash; $pbkdf2$ is passlib's SHA-1).
const PBKDF2_PHC = /^\$pbkdf2(?:-(sha1|sha256|sha512))?\$(?:i=(\d{1,8})(?:,l=(\d{1,3}))?|(\d{1,8}))\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;
// Django: pbkdf2_sha256$<iterations>$<salt as text>$<base64 hash> (and pbkdf2_sha1).
const PBKDF2_DJANGO = /^pbkdf2_(sha1|sha256)\$(\d{1,8})\$([^$\s]{1,128})\$([A-Za-z0-9+/]+={0,2})$/;
const MAX_STORED_LENGTH = 1024;

/** Standard or "adapted" (passlib: "." for "+") base64, with or without padding. */
function decodeBase64(text: string): Buffer {
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}

/**
 * The hash in one of the accepted encodings, or the reason it is refused (never quoting the hash).
 * A stored string is either a well-known string form or, for md*, sha* and hmac, Auth0's
 * custom_password_hash object as JSON (what normalizeLegacyHashInput stores).
 */
export function parseLegacyHash(encoded: string): LegacyHash | string {
  if (encoded.length > MAX_STORED_LENGTH) return `password_hash is longer than ${MAX_STORED_LENGTH} characters`;
  if (encoded.startsWith('{"')) {
    let value: unknown;
    try {
      value = JSON.parse(encoded);
    } catch {
      return 'password_hash is not valid JSON';
    }
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? parseDigestObject(value as Record<string, unknown>) : 'password_hash is not a JSON object';
  }
  if (encoded.startsWith('{')) return parseLdapHash(encoded);
  let match = BCRYPT.exec(encoded);
  if (match) {
    const cost = Number(match[1]);
    if (cost < 4 || cost > 31) return 'bcrypt cost must be between 4 and 31';
    return { kind: 'bcrypt', encoded, cost };
  }
  match = ARGON2.exec(encoded);
  if (match) {
    const [memoryKiB, time, parallelism] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (memoryKiB * 1024 > MAX_SCRYPT_MEMORY_BYTES || time < 1 || parallelism < 1) return 'argon2 parameters are out of range';
    return { kind: 'argon2', encoded };
  }
  match = SCRYPT.exec(encoded);
  if (match) {
    const N = 2 ** Number(match[1]);
    const [r, p] = [Number(match[2]), Number(match[3])];
    const salt = decodeBase64(match[4]!);
    const hash = decodeBase64(match[5]!);
    if (N < 2 || r < 1 || p < 1 || 128 * N * r > MAX_SCRYPT_MEMORY_BYTES) return 'scrypt parameters are out of range';
    if (salt.length < 4 || hash.length < 16) return 'scrypt salt or hash is too short';
    return { kind: 'scrypt', N, r, p, salt, hash };
  }
  match = PBKDF2_PHC.exec(encoded);
  if (match) {
    const digest = (match[1] ?? 'sha1') as Pbkdf2Digest;
    const iterations = Number(match[2] ?? match[4]);
    const salt = decodeBase64(match[5]!);
    const hash = decodeBase64(match[6]!);
    if (match[3] !== undefined && Number(match[3]) !== hash.length) return `pbkdf2-${digest} key length (l=) does not match the hash`;
    return checkPbkdf2({ kind: 'pbkdf2', digest, iterations, salt, hash });
  }
  match = PBKDF2_DJANGO.exec(encoded);
  if (match) {
    return checkPbkdf2({ kind: 'pbkdf2', digest: match[1] as Pbkdf2Digest, iterations: Number(match[2]), salt: Buffer.from(match[3]!, 'utf8'), hash: decodeBase64(match[4]!) });
  }
  return 'password_hash is not bcrypt ($2a$/$2b$/$2y$), argon2 (PHC), scrypt ($scrypt$ln=...), PBKDF2 ($pbkdf2-sha1/-sha256/-sha512$... or Django pbkdf2_sha256$...), LDAP ({SSHA}...) or an Auth0 custom_password_hash object (md4, md5, sha1, sha256, sha512, hmac)';
}

function checkPbkdf2(hash: Extract<LegacyHash, { kind: 'pbkdf2' }>): LegacyHash | string {
  if (hash.iterations < 1 || hash.iterations > MAX_PBKDF2_ITERATIONS) return `pbkdf2-${hash.digest} iterations must be between 1 and ${MAX_PBKDF2_ITERATIONS}`;
  if (hash.salt.length < 4 || hash.hash.length < 16) return `pbkdf2-${hash.digest} salt or hash is too short`;
  return hash;
}

// Auth0 custom_password_hash algorithms whose hash.value is one of our string forms (utf8).
const STRING_FORM_ALGORITHMS = ['bcrypt', 'argon2', 'pbkdf2', 'ldap'];

/**
 * A legacy:import `password_hash` (a string form, or an Auth0 custom_password_hash object) as it is
 * stored (the string, or the object's canonical JSON), or why it is refused.
 */
export function normalizeLegacyHashInput(value: unknown): { stored: string; hash: LegacyHash } | string {
  if (typeof value === 'string') {
    const hash = parseLegacyHash(value);
    return typeof hash === 'string' ? hash : { stored: value, hash };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'password_hash is neither a string nor an object';
  const object = value as Record<string, unknown>;
  // Auth0's scrypt object (hash, salt, keylen, cost, blockSize, parallelization) is not read here: scrypt comes as its PHC string.
  if (object.algorithm === 'scrypt') return 'password_hash: give scrypt as its PHC string $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>';
  if (STRING_FORM_ALGORITHMS.includes(String(object.algorithm))) {
    const inner = object.hash as { value?: unknown } | undefined;
    if (Object.keys(object).some((key) => key !== 'algorithm' && key !== 'hash') || typeof inner?.value !== 'string') {
      return `password_hash: a ${String(object.algorithm)} object takes only hash.value (its usual string form; no salt)`;
    }
    return normalizeLegacyHashInput(inner.value);
  }
  const hash = parseDigestObject(object);
  if (typeof hash === 'string') return hash;
  const stored = JSON.stringify(hash.auth0);
  return stored.length > MAX_STORED_LENGTH ? `password_hash is longer than ${MAX_STORED_LENGTH} characters` : { stored, hash };
}

export type Verification = { valid: boolean; refused?: 'too-long-for-bcrypt' };

let verificationsStarted = 0;
/** How many verifications have started in this process (tests use it to prove a refusal cost nothing). */
export function passwordVerificationsStarted(): number {
  return verificationsStarted;
}

/**
 * Whether `password` matches `hash`. Every algorithm runs on libuv's threadpool (napi async tasks
 * for bcrypt and argon2, node:crypto for scrypt and PBKDF2), so the event loop keeps serving
 * other requests; derived keys are compared in constant time. The caller has already refused
 * passwords over MAX_PASSWORD_BYTES.
 */
export async function verifyPassword(password: string, hash: LegacyHash): Promise<Verification> {
  const bytes = Buffer.from(password, 'utf8');
  if (bytes.length > MAX_PASSWORD_BYTES) throw new Error('verifyPassword called with an over-long password');
  if (hash.kind === 'bcrypt' && bytes.length > BCRYPT_MAX_PASSWORD_BYTES) return { valid: false, refused: 'too-long-for-bcrypt' };
  verificationsStarted += 1;
  switch (hash.kind) {
    case 'bcrypt':
      return { valid: await verifyBcrypt(bytes, hash.encoded) };
    case 'argon2':
      return { valid: await verifyArgon2(hash.encoded, bytes) };
    case 'scrypt': {
      const derived = await scryptAsync(bytes, hash.salt, hash.hash.length, { N: hash.N, r: hash.r, p: hash.p, maxmem: 128 * hash.N * hash.r * 2 + 1024 * 1024 });
      return { valid: timingSafeEqual(derived, hash.hash) };
    }
    case 'pbkdf2': {
      const derived = await pbkdf2Async(bytes, hash.salt, hash.iterations, hash.hash.length, hash.digest);
      return { valid: timingSafeEqual(derived, hash.hash) };
    }
    case 'digest':
    case 'hmac':
    case 'ldap':
      return { valid: verifyFastHash(password, hash) };
  }
}

let dummy: Promise<LegacyHash> | undefined;
/** A bcrypt hash of a random password, made once per process: the decoy of last resort, when no legacy user waits. */
export function dummyHash(): Promise<LegacyHash> {
  dummy ??= hashBcrypt(randomBytes(18).toString('base64url'), DUMMY_BCRYPT_COST).then((encoded) => ({ kind: 'bcrypt', encoded, cost: DUMMY_BCRYPT_COST }) as const);
  return dummy;
}

/**
 * Auth0's `custom_password_hash` for the users-imports job (shapes from Auth0's bulk-import schema,
 * manage-users/user-migration/bulk-user-import-database-schema-and-examples), or why the stored hash cannot be read.
 */
export function auth0CustomPasswordHash(encoded: string): CustomPasswordHash | string {
  const hash = parseLegacyHash(encoded);
  if (typeof hash === 'string') return hash;
  switch (hash.kind) {
    case 'bcrypt':
      // Auth0 takes $2a$ and $2b$ only; $2y$ (PHP) is the same algorithm as $2b$.
      return { algorithm: 'bcrypt', hash: { value: hash.encoded.replace(/^\$2y\$/, '$2b$'), encoding: 'utf8' } };
    case 'argon2':
      return { algorithm: 'argon2', hash: { value: hash.encoded, encoding: 'utf8' } };
    case 'scrypt':
      // scrypt: hash and salt objects, keylen required; cost = N, blockSize = r, parallelization = p.
      return {
        algorithm: 'scrypt',
        hash: { value: hash.hash.toString('base64'), encoding: 'base64' },
        salt: { value: hash.salt.toString('base64'), encoding: 'base64' },
        keylen: hash.hash.length,
        cost: hash.N,
        blockSize: hash.r,
        parallelization: hash.p,
      };
    case 'pbkdf2': {
      // pbkdf2: a PHC string $pbkdf2-<digest>$i=..,l=..$salt$hash, salt and hash base64 without padding, encoding utf8.
      const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
      return { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-${hash.digest}$i=${hash.iterations},l=${hash.hash.length}$${b64(hash.salt)}$${b64(hash.hash)}`, encoding: 'utf8' } };
    }
    case 'digest':
    case 'hmac':
    case 'ldap':
      return hash.auth0;
  }
}
