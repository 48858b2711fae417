// Makes legacy hashes in each accepted encoding, as the systems that wrote them did: for the demo seed, tests and the bench.
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import type { LegacyHashKind } from './password-hashes';

export type LegacyEncoding = LegacyHashKind | 'pbkdf2-sha256-django' | 'scrypt-passlib';

/** Cheap parameters unless given: these hashes protect demo and test passwords only. */
export async function makeLegacyHash(encoding: LegacyEncoding, password: string, options: { bcryptCost?: number } = {}): Promise<string> {
  const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');
  switch (encoding) {
    case 'bcrypt':
      // This library writes $2y$ (as PHP does); tests swap the prefix for $2a$ and $2b$ (the same algorithm).
      return bcryptHash(password, options.bcryptCost ?? 4);
    case 'argon2id':
      return argon2Hash(password, { algorithm: 2 /* Algorithm.Argon2id: a const enum, unusable under isolatedModules */, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    case 'scrypt':
    case 'scrypt-passlib': {
      const salt = randomBytes(16);
      const derived = scryptSync(password, salt, 32, { N: 2 ** 10, r: 8, p: 1 });
      const encode = encoding === 'scrypt' ? b64 : (buffer: Buffer) => b64(buffer).replace(/\+/g, '.');
      return `$scrypt$ln=10,r=8,p=1$${encode(salt)}$${encode(derived)}`;
    }
    case 'pbkdf2-sha256': {
      const salt = randomBytes(16);
      return `$pbkdf2-sha256$i=1000,l=32$${b64(salt)}$${b64(pbkdf2Sync(password, salt, 1000, 32, 'sha256'))}`;
    }
    case 'pbkdf2-sha256-django': {
      const salt = randomBytes(9).toString('base64url');
      return `pbkdf2_sha256$1000$${salt}$${pbkdf2Sync(password, salt, 1000, 32, 'sha256').toString('base64')}`;
    }
  }
}
