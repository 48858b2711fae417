// Makes legacy hashes in each accepted encoding, as the systems that wrote them did: for the demo seed, tests and the bench.
import { createHash, pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';

export const LEGACY_ENCODINGS = [
  'bcrypt',
  'argon2id',
  'argon2i',
  'scrypt',
  'scrypt-passlib',
  'pbkdf2-sha256',
  'pbkdf2-sha1',
  'pbkdf2-sha512',
  'pbkdf2-sha256-django',
  'sha1-salted',
  'md5-unsalted',
  'ldap-ssha',
] as const;
export type LegacyEncoding = (typeof LEGACY_ENCODINGS)[number];

/** Cheap parameters unless given: these hashes protect demo and test passwords only. */
export async function makeLegacyHash(encoding: LegacyEncoding, password: string, options: { bcryptCost?: number } = {}): Promise<string> {
  const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
  switch (encoding) {
    case 'bcrypt':
      // This library writes $2y$ (as PHP does); tests swap the prefix for $2a$ and $2b$ (the same algorithm).
      return bcryptHash(password, options.bcryptCost ?? 4);
    case 'argon2id':
    case 'argon2i':
      // Algorithm is a const enum, unusable under isolatedModules: 1 is Argon2i, 2 is Argon2id.
      return argon2Hash(password, { algorithm: encoding === 'argon2id' ? 2 : 1, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    case 'scrypt':
    case 'scrypt-passlib': {
      const salt = randomBytes(16);
      const derived = scryptSync(password, salt, 32, { N: 2 ** 10, r: 8, p: 1 });
      const encode = encoding === 'scrypt' ? b64 : (buffer: Buffer) => b64(buffer).replace(/\+/g, '.');
      return `$scrypt$ln=10,r=8,p=1$${encode(salt)}$${encode(derived)}`;
    }
    case 'pbkdf2-sha256':
    case 'pbkdf2-sha1':
    case 'pbkdf2-sha512': {
      const salt = randomBytes(16);
      const digest = encoding.slice('pbkdf2-'.length);
      const length = digest === 'sha512' ? 64 : 32;
      return `$pbkdf2-${digest}$i=1000,l=${length}$${b64(salt)}$${b64(pbkdf2Sync(password, salt, 1000, length, digest))}`;
    }
    case 'pbkdf2-sha256-django': {
      const salt = randomBytes(9).toString('base64url');
      return `pbkdf2_sha256$1000$${salt}$${pbkdf2Sync(password, salt, 1000, 32, 'sha256').toString('base64')}`;
    }
    case 'sha1-salted': {
      // The common PHP/Java store: sha1(salt + password) in hex, a per-user salt beside it; stored as Auth0's object.
      const salt = randomBytes(8).toString('hex');
      const value = createHash('sha1').update(salt + password).digest('hex');
      return JSON.stringify({ algorithm: 'sha1', hash: { value, encoding: 'hex' }, salt: { value: salt, encoding: 'utf8', position: 'prefix' } });
    }
    case 'md5-unsalted':
      return JSON.stringify({ algorithm: 'md5', hash: { value: createHash('md5').update(password).digest('hex'), encoding: 'hex' } });
    case 'ldap-ssha': {
      const salt = randomBytes(8);
      return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
    }
  }
}
