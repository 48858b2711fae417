// How Auth0's users-imports job checks a user's custom_password_hash, for the Management API stand-in: a wrong mapping is refused as Auth0 refuses it.
//
// Rules from Auth0's bulk-import schema (auth0.com/docs manage-users/user-migration/bulk-user-import-database-schema-and-examples;
// auth0/docs articles/users/references/bulk-import-database-schema-examples.md): the JSON schema (enums, required
// fields, additionalProperties false) and the per-algorithm rules under "Supported hash algorithms" (argon2, bcrypt,
// ldap, pbkdf2: hash.encoding utf8 and no salt; bcrypt $2a$/$2b$ only; hmac: hex/base64, digest and key.value
// required; md*/sha*: hex or base64; scrypt: keylen required). A refused user is listed by GET /jobs/{id}/errors as
// { user, errors: [{ code, message, path }] }; codes and "Error in <path> property - ..." messages as Auth0 answers them
// (bulk-user-imports "Retrieve failed entries": ENUM_MISMATCH, OBJECT_REQUIRED, PATTERN, INVALID_FORMAT, ...).

export interface ImportError {
  code: string;
  message: string;
  path?: string;
}

const ALGORITHMS = ['argon2', 'bcrypt', 'hmac', 'ldap', 'md4', 'md5', 'sha1', 'sha256', 'sha512', 'pbkdf2', 'scrypt'];
const ENCODINGS = ['base64', 'hex', 'utf8'];
const HMAC_DIGESTS = ['md4', 'md5', 'ripemd160', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'whirlpool'];
const PASSWORD_ENCODINGS = ['ascii', 'utf8', 'utf16le', 'ucs2', 'latin1', 'binary'];
const PBKDF2_DIGESTS = ['md4', 'md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'ripemd160', 'whirlpool'];
const TOP_LEVEL = ['algorithm', 'hash', 'salt', 'password', 'keylen', 'cost', 'blockSize', 'parallelization'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function checkCustomPasswordHash(value: unknown): ImportError[] {
  const errors: ImportError[] = [];
  const fail = (code: string, path: string, detail: string) => errors.push({ code, path: `custom_password_hash${path}`, message: `Error in custom_password_hash${path} property - ${detail}` });
  const oneOf = (actual: unknown, allowed: string[], path: string) => {
    if (actual !== undefined && !allowed.includes(actual as string)) fail('ENUM_MISMATCH', path, `No enum match for: ${JSON.stringify(actual)}`);
  };
  if (!isObject(value)) return [{ code: 'INVALID_TYPE', path: 'custom_password_hash', message: 'Error in custom_password_hash property - Expected type object' }];
  for (const key of Object.keys(value)) if (!TOP_LEVEL.includes(key)) fail('INVALID_FORMAT', '', `Additional properties not allowed: ${key}`);
  if (value.algorithm === undefined) fail('OBJECT_REQUIRED', '', 'Missing required property: algorithm');
  oneOf(value.algorithm, ALGORITHMS, '.algorithm');
  const hash = value.hash;
  if (!isObject(hash)) {
    fail('OBJECT_REQUIRED', '', 'Missing required property: hash');
    return errors;
  }
  if (typeof hash.value !== 'string') fail('OBJECT_REQUIRED', '.hash', 'Missing required property: value');
  oneOf(hash.encoding, ENCODINGS, '.hash.encoding');
  oneOf(hash.digest, HMAC_DIGESTS, '.hash.digest');
  if (hash.key !== undefined) {
    if (!isObject(hash.key) || typeof hash.key.value !== 'string') fail('OBJECT_REQUIRED', '.hash.key', 'Missing required property: value');
    else oneOf(hash.key.encoding, ENCODINGS, '.hash.key.encoding');
  }
  const salt = value.salt;
  if (salt !== undefined) {
    if (!isObject(salt) || typeof salt.value !== 'string') fail('OBJECT_REQUIRED', '.salt', 'Missing required property: value');
    else {
      oneOf(salt.encoding, ENCODINGS, '.salt.encoding');
      oneOf(salt.position, ['prefix', 'suffix'], '.salt.position');
    }
  }
  if (value.password !== undefined) oneOf(isObject(value.password) ? value.password.encoding : value.password, PASSWORD_ENCODINGS, '.password.encoding');

  const text = typeof hash.value === 'string' ? hash.value : '';
  const algorithm = String(value.algorithm);
  const rule = (ok: boolean, path: string, detail: string) => {
    if (!ok) fail('INVALID_FORMAT', path, detail);
  };
  if (['argon2', 'bcrypt', 'ldap', 'pbkdf2'].includes(algorithm)) {
    rule(hash.encoding === undefined || hash.encoding === 'utf8', '.hash.encoding', `must be utf8 when algorithm is ${algorithm}`);
    rule(salt === undefined, '.salt', `is not allowed when algorithm is ${algorithm}`);
  }
  if (algorithm === 'bcrypt') rule(/^\$2[ab]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(text), '.hash.value', 'bcrypt hashes must start with $2a$ or $2b$');
  if (algorithm === 'argon2') rule(/^\$argon2(?:id|i|d)\$/.test(text), '.hash.value', 'must be an argon2 PHC string');
  if (algorithm === 'ldap') rule(/^\{(?:s?md5|s?sha\d*)\}[A-Za-z0-9+/]+={0,2}$/i.test(text), '.hash.value', 'must be an RFC 2307 userPassword with scheme md5, smd5, sha* or ssha*');
  if (algorithm === 'pbkdf2') {
    const match = /^\$pbkdf2-([a-z0-9]+)\$(?:i=\d+(?:,l=\d+)?)?\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(text);
    rule(match !== null && PBKDF2_DIGESTS.includes(match[1]!), '.hash.value', 'must be a PHC string $pbkdf2-<digest>$i=..,l=..$<B64 salt>$<B64 hash> (base64 without padding)');
  }
  if (['hmac', 'md4', 'md5', 'sha1', 'sha256', 'sha512', 'scrypt'].includes(algorithm)) {
    rule(hash.encoding === 'hex' || hash.encoding === 'base64', '.hash.encoding', `must be hex or base64 when algorithm is ${algorithm}`);
  }
  if (algorithm === 'hmac') {
    rule(hash.digest !== undefined, '.hash.digest', 'is required when algorithm is hmac');
    rule(isObject(hash.key), '.hash.key', 'is required when algorithm is hmac');
  }
  if (algorithm === 'scrypt') {
    rule(typeof value.keylen === 'number', '.keylen', 'is required when algorithm is scrypt');
    rule(salt !== undefined, '.salt', 'is required when algorithm is scrypt');
  }
  return errors;
}
