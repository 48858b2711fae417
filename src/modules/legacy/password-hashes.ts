// Legacy password hashes: which encodings we accept, verifying a password against them off the event loop, and their Auth0 import form.
import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as verifyArgon2 } from '@node-rs/argon2';
import { hash as hashBcrypt, verify as verifyBcrypt } from '@node-rs/bcrypt';

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
  | { kind: 'argon2id'; encoded: string }
  | { kind: 'scrypt'; N: number; r: number; p: number; salt: Buffer; hash: Buffer }
  | { kind: 'pbkdf2-sha256'; iterations: number; salt: Buffer; hash: Buffer };

export type LegacyHashKind = LegacyHash['kind'];

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const ARGON2ID = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,4}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;
// PHC ($scrypt$ln=15,r=8,p=1$salt$hash) and passlib's variant of it (same fields, "." for "+").
const SCRYPT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;
// PHC ($pbkdf2-sha256$i=600000,l=32$salt$hash) and passlib ($pbkdf2-sha256$600000$salt$hash).
const PBKDF2_PHC = /^\$pbkdf2-sha256\$(?:i=(\d{1,8})(?:,l=(\d{1,3}))?|(\d{1,8}))\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;
// Django: pbkdf2_sha256$<iterations>$<salt as text>$<base64 hash>.
const PBKDF2_DJANGO = /^pbkdf2_sha256\$(\d{1,8})\$([^$\s]{1,128})\$([A-Za-z0-9+/]+={0,2})$/;

/** Standard or "adapted" (passlib: "." for "+") base64, with or without padding. */
function decodeBase64(text: string): Buffer {
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}

/** The hash in one of the accepted encodings, or the reason it is refused (never quoting the hash). */
export function parseLegacyHash(encoded: string): LegacyHash | string {
  if (encoded.length > 1024) return 'password_hash is longer than 1024 characters';
  let match = BCRYPT.exec(encoded);
  if (match) {
    const cost = Number(match[1]);
    if (cost < 4 || cost > 31) return 'bcrypt cost must be between 4 and 31';
    return { kind: 'bcrypt', encoded, cost };
  }
  match = ARGON2ID.exec(encoded);
  if (match) {
    const [memoryKiB, time, parallelism] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (memoryKiB * 1024 > MAX_SCRYPT_MEMORY_BYTES || time < 1 || parallelism < 1) return 'argon2id parameters are out of range';
    return { kind: 'argon2id', encoded };
  }
  match = SCRYPT.exec(encoded);
  if (match) {
    const N = 2 ** Number(match[1]);
    const [r, p] = [Number(match[2]), Number(match[3])];
    const salt = decodeBase64(match[4]!);
    const hash = decodeBase64(match[5]!);
    if (N < 2 || r < 1 || p < 1 || 128 * N * r > MAX_SCRYPT_MEMORY_BYTES) return 'scrypt parameters are out of range';
    if (salt.length < 8 || hash.length < 16) return 'scrypt salt or hash is too short';
    return { kind: 'scrypt', N, r, p, salt, hash };
  }
  match = PBKDF2_PHC.exec(encoded);
  if (match) {
    const iterations = Number(match[1] ?? match[3]);
    const salt = decodeBase64(match[4]!);
    const hash = decodeBase64(match[5]!);
    if (match[2] !== undefined && Number(match[2]) !== hash.length) return 'pbkdf2-sha256 key length (l=) does not match the hash';
    return checkPbkdf2({ kind: 'pbkdf2-sha256', iterations, salt, hash });
  }
  match = PBKDF2_DJANGO.exec(encoded);
  if (match) {
    return checkPbkdf2({ kind: 'pbkdf2-sha256', iterations: Number(match[1]), salt: Buffer.from(match[2]!, 'utf8'), hash: decodeBase64(match[3]!) });
  }
  return 'password_hash is not bcrypt ($2a$/$2b$/$2y$), argon2id (PHC), scrypt ($scrypt$ln=...) or PBKDF2-SHA256 ($pbkdf2-sha256$... or Django pbkdf2_sha256$...)';
}

function checkPbkdf2(hash: Extract<LegacyHash, { kind: 'pbkdf2-sha256' }>): LegacyHash | string {
  if (hash.iterations < 1 || hash.iterations > MAX_PBKDF2_ITERATIONS) return `pbkdf2-sha256 iterations must be between 1 and ${MAX_PBKDF2_ITERATIONS}`;
  if (hash.salt.length < 4 || hash.hash.length < 16) return 'pbkdf2-sha256 salt or hash is too short';
  return hash;
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
    case 'argon2id':
      return { valid: await verifyArgon2(hash.encoded, bytes) };
    case 'scrypt': {
      const derived = await scryptAsync(bytes, hash.salt, hash.hash.length, { N: hash.N, r: hash.r, p: hash.p, maxmem: 128 * hash.N * hash.r * 2 + 1024 * 1024 });
      return { valid: timingSafeEqual(derived, hash.hash) };
    }
    case 'pbkdf2-sha256': {
      const derived = await pbkdf2Async(bytes, hash.salt, hash.iterations, hash.hash.length, 'sha256');
      return { valid: timingSafeEqual(derived, hash.hash) };
    }
  }
}

let dummy: Promise<LegacyHash> | undefined;
/** A bcrypt hash of a random password, made once per process: the decoy of last resort, when no legacy user waits. */
export function dummyHash(): Promise<LegacyHash> {
  dummy ??= hashBcrypt(randomBytes(18).toString('base64url'), DUMMY_BCRYPT_COST).then((encoded) => ({ kind: 'bcrypt', encoded, cost: DUMMY_BCRYPT_COST }) as const);
  return dummy;
}

/** Auth0's `custom_password_hash` for the users-imports job, or why Auth0 cannot import this hash. */
export type Auth0CustomPasswordHash = Record<string, unknown>;

export function auth0CustomPasswordHash(encoded: string): Auth0CustomPasswordHash | string {
  const hash = parseLegacyHash(encoded);
  if (typeof hash === 'string') return hash;
  switch (hash.kind) {
    case 'bcrypt':
      // $2y$ (PHP) is the same algorithm as $2b$; Auth0 documents $2a$ and $2b$.
      return { algorithm: 'bcrypt', hash: { value: hash.encoded.replace(/^\$2y\$/, '$2b$'), encoding: 'utf8' } };
    case 'argon2id':
      return { algorithm: 'argon2', hash: { value: hash.encoded, encoding: 'utf8' } };
    case 'scrypt':
      return {
        algorithm: 'scrypt',
        hash: { value: hash.hash.toString('base64'), encoding: 'base64' },
        salt: { value: hash.salt.toString('base64'), encoding: 'base64' },
        keylen: hash.hash.length,
        cost: hash.N,
        blockSize: hash.r,
        parallelization: hash.p,
      };
    case 'pbkdf2-sha256': {
      const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
      return { algorithm: 'pbkdf2', hash: { value: `$pbkdf2-sha256$i=${hash.iterations},l=${hash.hash.length}$${b64(hash.salt)}$${b64(hash.hash)}`, encoding: 'utf8' } };
    }
  }
}
