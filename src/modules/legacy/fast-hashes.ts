// The fast digest families Auth0's bulk import takes (md4/md5/sha1/sha256/sha512 salted or not, HMAC, LDAP RFC 2307):
// reading them, verifying a password against them, and their `custom_password_hash`.
//
// The shapes follow Auth0's bulk-import schema (auth0.com/docs manage-users/user-migration/
// bulk-user-import-database-schema-and-examples; auth0/docs articles/users/references/bulk-import-database-schema-examples.md):
//   { algorithm: md4|md5|sha1|sha256|sha512, hash: { value, encoding: hex|base64 },
//     salt?: { value, encoding: utf8 (default)|hex|base64, position: prefix|suffix }, password?: { encoding } }
//   { algorithm: hmac, hash: { value, encoding: hex|base64, digest, key: { value, encoding: utf8 (default)|hex|base64 } } }
//   { algorithm: ldap, hash: { value: "{SSHA}...", encoding: utf8 } }  (schemes md5|smd5|sha*|ssha*, not crypt; no salt)
// password.encoding is one of ascii, utf8 (default), utf16le, ucs2, latin1, binary; additionalProperties is false.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { hmacMd4, md4 } from './md4';

const DIGEST_BYTES = { md4: 16, md5: 16, sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 } as const;
type Digest = keyof typeof DIGEST_BYTES;
export const DIGEST_ALGORITHMS = ['md4', 'md5', 'sha1', 'sha256', 'sha512'] as const;
type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];
// Auth0 also lists ripemd160 and whirlpool for HMAC; Node 20's OpenSSL 3 has neither by default, so they are refused here.
const HMAC_DIGESTS = ['md4', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
const PASSWORD_ENCODINGS = ['ascii', 'utf8', 'utf16le', 'ucs2', 'latin1', 'binary'] as const;
type PasswordEncoding = (typeof PASSWORD_ENCODINGS)[number];
type ValueEncoding = 'hex' | 'base64' | 'utf8';

/** Auth0's `custom_password_hash` for this hash, as sent to the users-imports job; also how it is stored here. */
export type CustomPasswordHash = Record<string, unknown>;

export type FastHash =
  | { kind: 'digest'; algorithm: DigestAlgorithm; hash: Buffer; salt: { bytes: Buffer; position: 'prefix' | 'suffix' } | null; passwordEncoding: PasswordEncoding; auth0: CustomPasswordHash }
  | { kind: 'hmac'; digest: Digest; key: Buffer; hash: Buffer; passwordEncoding: PasswordEncoding; auth0: CustomPasswordHash }
  | { kind: 'ldap'; digest: Digest; hash: Buffer; salt: Buffer | null; auth0: CustomPasswordHash };

/**
 * Stored unsalted fast hashes, as SQL (legacy:status counts them): LDAP {MD5}/{SHA*} and stored objects without a salt.
 * Stored objects are JSON.stringify(auth0) with `algorithm` first, which is what makes the prefix match reliable.
 */
export const UNSALTED_FAST_HASH_SQL = `(password_hash ~* '^\\{(md5|sha|sha256|sha384|sha512)\\}' OR (password_hash ~ '^\\{"algorithm":"(md4|md5|sha1|sha256|sha512|hmac)"' AND password_hash NOT LIKE '%"salt":%'))`;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/; // standard or URL-safe, as Auth0 accepts

function decode(value: string, encoding: ValueEncoding, field: string): Buffer | string {
  if (encoding === 'utf8') return Buffer.from(value, 'utf8');
  if (encoding === 'hex') return HEX.test(value) ? Buffer.from(value, 'hex') : `${field} is not hex`;
  return BASE64.test(value) ? Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : `${field} is not base64`;
}

function onlyFields(value: Record<string, unknown>, allowed: string[], where: string): string | null {
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  return unknown === undefined ? null : `password_hash${where} has an unknown field ${unknown.slice(0, 40)}`;
}

/** An Auth0-shaped md*, sha* or hmac `custom_password_hash`, or why it is refused (never quoting the hash). */
export function parseDigestObject(value: Record<string, unknown>): FastHash | string {
  const algorithm = value.algorithm;
  const isDigest = (DIGEST_ALGORITHMS as readonly unknown[]).includes(algorithm);
  if (!isDigest && algorithm !== 'hmac') return `password_hash.algorithm must be one of ${[...DIGEST_ALGORITHMS, 'hmac'].join(', ')} (or a bcrypt, argon2, pbkdf2, scrypt or LDAP string)`;
  const refused = onlyFields(value, isDigest ? ['algorithm', 'hash', 'salt', 'password'] : ['algorithm', 'hash', 'password'], '');
  if (refused) return refused;
  const hash = value.hash;
  if (!isObject(hash) || typeof hash.value !== 'string' || hash.value.length === 0 || hash.value.length > 256) return 'password_hash.hash.value is missing or longer than 256 characters';
  if (hash.encoding !== 'hex' && hash.encoding !== 'base64') return 'password_hash.hash.encoding must be hex or base64';
  const bytes = decode(hash.value, hash.encoding, 'password_hash.hash.value');
  if (typeof bytes === 'string') return bytes;

  const password = value.password;
  if (password !== undefined && (!isObject(password) || onlyFields(password, ['encoding'], '.password') !== null)) return 'password_hash.password must be { "encoding": ... }';
  const passwordEncoding = isObject(password) && password.encoding !== undefined ? password.encoding : 'utf8';
  if (!(PASSWORD_ENCODINGS as readonly unknown[]).includes(passwordEncoding)) return `password_hash.password.encoding must be one of ${PASSWORD_ENCODINGS.join(', ')}`;
  const auth0Password = passwordEncoding === 'utf8' ? {} : { password: { encoding: passwordEncoding } };

  if (algorithm === 'hmac') {
    const refusedHash = onlyFields(hash, ['value', 'encoding', 'digest', 'key'], '.hash');
    if (refusedHash) return refusedHash;
    if (!(HMAC_DIGESTS as readonly unknown[]).includes(hash.digest)) return `password_hash.hash.digest must be one of ${HMAC_DIGESTS.join(', ')}`;
    const digest = hash.digest as Digest;
    if (bytes.length !== DIGEST_BYTES[digest]) return `password_hash: an hmac-${digest} hash must be ${DIGEST_BYTES[digest]} bytes`;
    const key = hash.key;
    if (!isObject(key) || typeof key.value !== 'string' || key.value.length === 0 || key.value.length > 512) return 'password_hash.hash.key.value is required (at most 512 characters)';
    const keyEncoding = key.encoding ?? 'utf8';
    if (keyEncoding !== 'utf8' && keyEncoding !== 'hex' && keyEncoding !== 'base64') return 'password_hash.hash.key.encoding must be utf8, hex or base64';
    const keyBytes = decode(key.value, keyEncoding, 'password_hash.hash.key.value');
    if (typeof keyBytes === 'string') return keyBytes;
    const auth0 = { algorithm, hash: { value: hash.value, encoding: hash.encoding, digest, key: { value: key.value, encoding: keyEncoding } }, ...auth0Password };
    return { kind: 'hmac', digest, key: keyBytes, hash: bytes, passwordEncoding: passwordEncoding as PasswordEncoding, auth0 };
  }

  const refusedHash = onlyFields(hash, ['value', 'encoding'], '.hash');
  if (refusedHash) return refusedHash;
  const digestAlgorithm = algorithm as DigestAlgorithm;
  if (bytes.length !== DIGEST_BYTES[digestAlgorithm]) return `password_hash: a ${digestAlgorithm} hash must be ${DIGEST_BYTES[digestAlgorithm]} bytes`;
  let salt: { bytes: Buffer; position: 'prefix' | 'suffix' } | null = null;
  let auth0Salt = {};
  if (value.salt !== undefined) {
    const raw = value.salt;
    if (!isObject(raw) || typeof raw.value !== 'string' || raw.value.length === 0 || raw.value.length > 256) return 'password_hash.salt.value is missing or longer than 256 characters';
    const refusedSalt = onlyFields(raw, ['value', 'encoding', 'position'], '.salt');
    if (refusedSalt) return refusedSalt;
    const encoding = raw.encoding ?? 'utf8';
    if (encoding !== 'utf8' && encoding !== 'hex' && encoding !== 'base64') return 'password_hash.salt.encoding must be utf8, hex or base64';
    // Auth0's schema gives no default position; guessing wrong would lock every user out, so it is required.
    if (raw.position !== 'prefix' && raw.position !== 'suffix') return 'password_hash.salt.position must be prefix or suffix';
    const saltBytes = decode(raw.value, encoding, 'password_hash.salt.value');
    if (typeof saltBytes === 'string') return saltBytes;
    salt = { bytes: saltBytes, position: raw.position };
    auth0Salt = { salt: { value: raw.value, encoding, position: raw.position } };
  }
  const auth0 = { algorithm: digestAlgorithm, hash: { value: hash.value, encoding: hash.encoding }, ...auth0Salt, ...auth0Password };
  return { kind: 'digest', algorithm: digestAlgorithm, hash: bytes, salt, passwordEncoding: passwordEncoding as PasswordEncoding, auth0 };
}

// RFC 2307 section 5.3 userPassword: "{" scheme "}" base64; salted schemes append the salt to the digest (OpenLDAP FAQ 347).
const LDAP = /^\{([A-Za-z0-9]+)\}([A-Za-z0-9+/]+={0,2})$/;
const LDAP_SCHEMES: Record<string, { digest: Digest; salted: boolean }> = {
  md5: { digest: 'md5', salted: false },
  smd5: { digest: 'md5', salted: true },
  sha: { digest: 'sha1', salted: false },
  ssha: { digest: 'sha1', salted: true },
  sha256: { digest: 'sha256', salted: false },
  ssha256: { digest: 'sha256', salted: true },
  sha384: { digest: 'sha384', salted: false },
  ssha384: { digest: 'sha384', salted: true },
  sha512: { digest: 'sha512', salted: false },
  ssha512: { digest: 'sha512', salted: true },
};

/** An RFC 2307 LDAP userPassword string, or why it is refused. */
export function parseLdapHash(encoded: string): FastHash | string {
  const match = LDAP.exec(encoded);
  const scheme = match ? LDAP_SCHEMES[match[1]!.toLowerCase()] : undefined;
  if (!match || !scheme) return 'password_hash: LDAP scheme must be {MD5}, {SMD5}, {SHA}, {SSHA} or {SHA256/384/512} and {SSHA256/384/512} with base64 (Auth0 does not import {CRYPT})';
  const bytes = Buffer.from(match[2]!, 'base64');
  const length = DIGEST_BYTES[scheme.digest];
  if (scheme.salted ? bytes.length <= length : bytes.length !== length) return `password_hash: an LDAP {${match[1]!.toUpperCase()}} value has the wrong length`;
  return {
    kind: 'ldap',
    digest: scheme.digest,
    hash: bytes.subarray(0, length),
    salt: scheme.salted ? bytes.subarray(length) : null,
    auth0: { algorithm: 'ldap', hash: { value: encoded, encoding: 'utf8' } },
  };
}

function digestOf(digest: Digest, input: Buffer): Buffer {
  return digest === 'md4' ? md4(input) : createHash(digest).update(input).digest();
}

/**
 * Whether `password` matches a fast hash. These take microseconds, so they run inline; the
 * comparison is constant-time (lengths were checked when the hash was read).
 */
export function verifyFastHash(password: string, hash: FastHash): boolean {
  const bytes = Buffer.from(password, hash.kind === 'ldap' ? 'utf8' : hash.passwordEncoding);
  let derived: Buffer;
  if (hash.kind === 'hmac') derived = hash.digest === 'md4' ? hmacMd4(hash.key, bytes) : createHmac(hash.digest, hash.key).update(bytes).digest();
  else if (hash.kind === 'ldap') derived = digestOf(hash.digest, hash.salt ? Buffer.concat([bytes, hash.salt]) : bytes);
  else if (!hash.salt) derived = digestOf(hash.algorithm, bytes);
  else derived = digestOf(hash.algorithm, hash.salt.position === 'prefix' ? Buffer.concat([hash.salt.bytes, bytes]) : Buffer.concat([bytes, hash.salt.bytes]));
  return derived.length === hash.hash.length && timingSafeEqual(derived, hash.hash);
}
