// Every hash family Auth0's bulk import takes, checked against published vectors: parsed, verified, and mapped to Auth0's custom_password_hash.
import { createHash } from 'node:crypto';
import { hash as argon2Hash } from '@node-rs/argon2';
import { auth0CustomPasswordHash, normalizeLegacyHashInput, parseLegacyHash, verifyPassword, type LegacyHash } from '../src/modules/legacy/password-hashes';
import { md4 } from '../src/modules/legacy/md4';

const parsed = (value: unknown): LegacyHash => {
  const result = normalizeLegacyHashInput(value);
  if (typeof result === 'string') throw new Error(`refused: ${result}`);
  // What legacy:import stores is what verification and legacy:finish read back.
  const again = parseLegacyHash(result.stored);
  if (typeof again === 'string') throw new Error(`stored form refused: ${again}`);
  return again;
};
const verifies = async (value: unknown, password: string) => (await verifyPassword(password, parsed(value))).valid;
const toAuth0 = (value: unknown) => {
  const result = normalizeLegacyHashInput(value);
  if (typeof result === 'string') throw new Error(`refused: ${result}`);
  return auth0CustomPasswordHash(result.stored);
};

// Each row: a name, the legacy:import password_hash, the password it was made from, and its source.
const VECTORS: Array<[string, unknown, string]> = [
  // RFC 1320 appendix A.5 (MD4 test suite).
  ['md4 (RFC 1320, "abc")', { algorithm: 'md4', hash: { value: 'a448017aaf21d8525fc10ae87aa6729d', encoding: 'hex' } }, 'abc'],
  ['md4 (RFC 1320, "message digest", base64)', { algorithm: 'md4', hash: { value: Buffer.from('d9130a8164549fe818874806e1c7014b', 'hex').toString('base64'), encoding: 'base64' } }, 'message digest'],
  // RFC 1321 appendix A.5 (MD5 test suite).
  ['md5 (RFC 1321, "abc")', { algorithm: 'md5', hash: { value: '900150983cd24fb0d6963f7d28e17f72', encoding: 'hex' } }, 'abc'],
  ['md5 (RFC 1321, "message digest", upper-case hex)', { algorithm: 'md5', hash: { value: 'F96B697D7CB7938D525A2F31AAF161D0', encoding: 'hex' } }, 'message digest'],
  // Auth0's bulk-import schema, salt.position: MD5('salt' + 'password') = '67A1E09BB1F83F5007DC119C14D663AA' is "prefix".
  ['salted md5, salt before (Auth0 schema example)', { algorithm: 'md5', hash: { value: '67A1E09BB1F83F5007DC119C14D663AA', encoding: 'hex' }, salt: { value: 'salt', position: 'prefix' } }, 'password'],
  // FIPS 180-2 appendix A/B/C ("abc"): SHA-1, SHA-256, SHA-512, here salted so that the salt makes up part of "abc".
  ['sha1 (FIPS 180, "abc")', { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' } }, 'abc'],
  ['salted sha1, salt after (FIPS 180 "abc" = "a" + salt "bc")', { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, salt: { value: 'bc', encoding: 'utf8', position: 'suffix' } }, 'a'],
  ['salted sha256, hex salt before (FIPS 180 "abc" = salt "a" + "bc")', { algorithm: 'sha256', hash: { value: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', encoding: 'hex' }, salt: { value: '61', encoding: 'hex', position: 'prefix' } }, 'bc'],
  [
    'sha512 base64 (FIPS 180, "abc")',
    { algorithm: 'sha512', hash: { value: Buffer.from('ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', 'hex').toString('base64'), encoding: 'base64' } },
    'abc',
  ],
  // RFC 2202 / RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
  ['hmac-md5 (RFC 2202 case 2)', { algorithm: 'hmac', hash: { value: '750c783e6ab0b503eaa86e310a5db738', encoding: 'hex', digest: 'md5', key: { value: 'Jefe' } } }, 'what do ya want for nothing?'],
  ['hmac-sha1 (RFC 2202 case 2)', { algorithm: 'hmac', hash: { value: 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', encoding: 'hex', digest: 'sha1', key: { value: 'Jefe', encoding: 'utf8' } } }, 'what do ya want for nothing?'],
  ['hmac-sha256 (RFC 4231 case 2)', { algorithm: 'hmac', hash: { value: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', encoding: 'hex', digest: 'sha256', key: { value: '4a656665', encoding: 'hex' } } }, 'what do ya want for nothing?'],
  // Auth0's bulk-import schema example: HMAC-SHA1, key hex 736868.
  ['hmac-sha1 base64 (Auth0 schema example)', { algorithm: 'hmac', hash: { value: 'cg7f42jH39/2EaAU4wNd4s2lKIk=', encoding: 'base64', digest: 'sha1', key: { value: '736868', encoding: 'hex' } } }, 'test'],
  // RFC 2307 {SHA}: base64 of SHA-1("abc") from FIPS 180; {SSHA}: SHA-1 of password + salt, then the salt appended (RFC 2307 / OpenLDAP FAQ 347).
  ['LDAP {SHA} (FIPS 180 "abc")', `{SHA}${Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex').toString('base64')}`, 'abc'],
  ['LDAP {SSHA} ("a" + salt "bc")', `{SSHA}${Buffer.concat([Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex'), Buffer.from('bc')]).toString('base64')}`, 'a'],
  ['LDAP {SMD5} ("ab" + salt "c")', `{SMD5}${Buffer.concat([Buffer.from('900150983cd24fb0d6963f7d28e17f72', 'hex'), Buffer.from('c')]).toString('base64')}`, 'ab'],
  ['LDAP {MD5} (RFC 1321 "abc")', `{md5}${Buffer.from('900150983cd24fb0d6963f7d28e17f72', 'hex').toString('base64')}`, 'abc'],
  // RFC 6070 test vector 3 (PBKDF2-HMAC-SHA1, P "password", S "salt", c 4096, dkLen 20), as a PHC string.
  ['PBKDF2-SHA1 PHC (RFC 6070)', `$pbkdf2-sha1$i=4096,l=20$${Buffer.from('salt').toString('base64').replace(/=+$/, '')}$${Buffer.from('4b007901b765489abead49d926f721d065a429c1', 'hex').toString('base64').replace(/=+$/, '')}`, 'password'],
  // RFC 7914 section 12 (scrypt, P "password", S "NaCl", N 1024, r 8, p 16, dkLen 64).
  [
    'scrypt PHC (RFC 7914)',
    `$scrypt$ln=10,r=8,p=16$${Buffer.from('NaCl').toString('base64')}$${Buffer.from('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640', 'hex').toString('base64')}`,
    'password',
  ],
  // phc-winner-argon2 src/test.c (v=0x13, t=2, m=2^16, p=1, "password", "somesalt").
  ['argon2i PHC (argon2 reference test)', '$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA', 'password'],
  ['argon2id PHC (argon2 reference test)', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', 'password'],
  // Auth0's bulk-import schema takes the PHC forms inside custom_password_hash as objects too.
  ['argon2 as an Auth0 object', { algorithm: 'argon2', hash: { value: '$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA', encoding: 'utf8' } }, 'password'],
];

describe('hash families Auth0 imports, against published vectors', () => {
  it('md4 is MD4 (RFC 1320 appendix A.5, all seven vectors)', () => {
    const suite: Array<[string, string]> = [
      ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
      ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
      ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
      ['message digest', 'd9130a8164549fe818874806e1c7014b'],
      ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
      ['1234567890'.repeat(8), 'e33b4ddc9c38f2199c3e7b164fcc0536'],
    ];
    expect(suite.map(([input]) => md4(Buffer.from(input)).toString('hex'))).toEqual(suite.map(([, digest]) => digest));
  });

  it.each(VECTORS)('%s: the right password verifies, a wrong one does not', async (_name, value, password) => {
    expect(await verifies(value, password)).toBe(true);
    expect(await verifies(value, `${password}x`)).toBe(false);
    expect(await verifies(value, password.slice(1))).toBe(false);
  });

  it('argon2d (PHC) verifies: a round trip through the argon2 reference implementation', async () => {
    const encoded = await argon2Hash('correct horse', { algorithm: 0 /* Argon2d */, memoryCost: 4096, timeCost: 2, parallelism: 1 });
    expect(encoded).toMatch(/^\$argon2d\$/);
    expect(await verifies(encoded, 'correct horse')).toBe(true);
    expect(await verifies(encoded, 'correct horsf')).toBe(false);
  });

  it('a password encoding other than utf8 is honoured (utf16le, as .NET writes)', async () => {
    const value = { algorithm: 'sha1', hash: { value: createHash('sha1').update(Buffer.from('pässword', 'utf16le')).digest('hex'), encoding: 'hex' }, password: { encoding: 'utf16le' } };
    expect(await verifies(value, 'pässword')).toBe(true);
    expect(await verifies({ ...value, password: undefined }, 'pässword')).toBe(false);
  });
});

describe('the custom_password_hash legacy:finish sends, per Auth0 bulk-import schema', () => {
  it('md*/sha* keep algorithm, hex or base64 hash, salt with encoding and position, and password encoding', () => {
    expect(toAuth0({ algorithm: 'md5', hash: { value: '67A1E09BB1F83F5007DC119C14D663AA', encoding: 'hex' }, salt: { value: 'salt', position: 'prefix' } })).toEqual({
      algorithm: 'md5',
      hash: { value: '67A1E09BB1F83F5007DC119C14D663AA', encoding: 'hex' },
      salt: { value: 'salt', encoding: 'utf8', position: 'prefix' },
    });
    expect(normalizeLegacyHashInput({ algorithm: 'sha512', hash: { value: 'abc=', encoding: 'base64' } })).toEqual(expect.stringContaining('sha512 hash must be 64 bytes'));
    expect(toAuth0({ algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, password: { encoding: 'utf16le' } })).toEqual({
      algorithm: 'sha1',
      hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' },
      password: { encoding: 'utf16le' },
    });
  });

  it('hmac carries digest and key inside hash; ldap is the RFC 2307 string in utf8; pbkdf2 and argon2 are PHC strings', () => {
    expect(toAuth0({ algorithm: 'hmac', hash: { value: 'cg7f42jH39/2EaAU4wNd4s2lKIk=', encoding: 'base64', digest: 'sha1', key: { value: '736868', encoding: 'hex' } } })).toEqual({
      algorithm: 'hmac',
      hash: { value: 'cg7f42jH39/2EaAU4wNd4s2lKIk=', encoding: 'base64', digest: 'sha1', key: { value: '736868', encoding: 'hex' } },
    });
    const ssha = `{SSHA}${Buffer.concat([Buffer.from('a9993e364706816aba3e25717850c26c9cd0d89d', 'hex'), Buffer.from('bc')]).toString('base64')}`;
    expect(toAuth0(ssha)).toEqual({ algorithm: 'ldap', hash: { value: ssha, encoding: 'utf8' } });
    expect(toAuth0('$pbkdf2-sha512$i=1000,l=64$c2FsdHNhbHQ$' + 'A'.repeat(86))).toEqual({ algorithm: 'pbkdf2', hash: { value: '$pbkdf2-sha512$i=1000,l=64$c2FsdHNhbHQ$' + 'A'.repeat(86), encoding: 'utf8' } });
    expect(toAuth0('$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA')).toEqual({
      algorithm: 'argon2',
      hash: { value: '$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA', encoding: 'utf8' },
    });
  });
});

describe('malformed hashes are refused with a reason that never quotes them', () => {
  it.each<[string, unknown, string]>([
    ['an algorithm Auth0 does not import', { algorithm: 'whirlpool2', hash: { value: 'aa', encoding: 'hex' } }, 'algorithm must be one of'],
    ['a hash that is not hex', { algorithm: 'md5', hash: { value: 'zz'.repeat(16), encoding: 'hex' } }, 'hash.value is not hex'],
    ['utf8 hash encoding for a digest (Auth0: hex or base64)', { algorithm: 'md5', hash: { value: 'x'.repeat(16), encoding: 'utf8' } }, 'hash.encoding must be hex or base64'],
    ['a salt without a position', { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, salt: { value: 'pepper' } }, 'salt.position must be prefix or suffix'],
    ['an unknown field', { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, rounds: 2 }, 'unknown field rounds'],
    ['hmac without its key', { algorithm: 'hmac', hash: { value: 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', encoding: 'hex', digest: 'sha1' } }, 'hash.key.value is required'],
    ['an LDAP crypt scheme (Auth0 refuses it)', '{CRYPT}aXyZ12345', 'LDAP scheme'],
    ['a scrypt object (scrypt comes as its PHC string)', { algorithm: 'scrypt', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, salt: { value: 'NaCl' }, keylen: 20 }, 'give scrypt as its PHC string'],
    ['a password encoding outside the schema', { algorithm: 'sha1', hash: { value: 'a9993e364706816aba3e25717850c26c9cd0d89d', encoding: 'hex' }, password: { encoding: 'ebcdic' } }, 'password.encoding must be one of'],
  ])('%s', (_name, value, reason) => {
    const result = normalizeLegacyHashInput(value);
    expect(result).toEqual(expect.stringContaining(reason));
    expect(String(result)).not.toMatch(/a9993e36|effcdf6a|aXyZ1234/);
  });
});
