// The verified-token cache: one RS256 check per token while it is valid, bounded, and never remembering a failure.
import { randomUUID } from 'node:crypto';
import { compactVerify, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { cacheVerifiedSignatures, type SignatureVerifier } from '../src/auth/verified-token-cache';
import { startTestServer, type TestServer } from './support/server';

let privateKey: KeyLike;
let publicKey: KeyLike;
beforeAll(async () => {
  ({ privateKey, publicKey } = await generateKeyPair('RS256'));
});

const NOW = 1_800_000_000_000;
const sign = (expiresAtSeconds: number, sub = 'client@clients') =>
  new SignJWT({ sub }).setProtectedHeader({ alg: 'RS256' }).setIssuedAt(NOW / 1000).setExpirationTime(expiresAtSeconds).sign(privateKey);

/** The real RS256 verification, counted. */
function countingVerifier(): { verify: SignatureVerifier; calls: () => number } {
  let calls = 0;
  const verify: SignatureVerifier = async (token) => {
    calls += 1;
    const { payload, protectedHeader } = await compactVerify(token, publicKey, { algorithms: ['RS256'] });
    return { header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload)) };
  };
  return { verify, calls: () => calls };
}

it('verifies a token once while it is valid, and again once its exp has passed', async () => {
  let now = NOW;
  const inner = countingVerifier();
  const cached = cacheVerifiedSignatures(inner.verify, { maxEntries: 10, maxAgeMs: 3_600_000, now: () => now });
  const token = await sign(NOW / 1000 + 60);
  const first = await cached(token);
  const second = await cached(token);
  expect(second.payload).toEqual(first.payload);
  expect(inner.calls()).toBe(1);
  now = NOW + 60_000;
  await cached(token);
  expect(inner.calls()).toBe(2);
});

it('never remembers a failure: a forged token is verified and refused every time', async () => {
  const inner = countingVerifier();
  const cached = cacheVerifiedSignatures(inner.verify, { maxEntries: 10, maxAgeMs: 3_600_000, now: () => NOW });
  const [header, , signature] = (await sign(NOW / 1000 + 60)).split('.');
  const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin', exp: NOW / 1000 + 60 })).toString('base64url')}.${signature}`;
  await expect(cached(forged)).rejects.toThrow(/signature verification failed/);
  await expect(cached(forged)).rejects.toThrow(/signature verification failed/);
  expect(inner.calls()).toBe(2);
});

it('holds at most maxEntries tokens, forgetting the least recently used first', async () => {
  const inner = countingVerifier();
  const cached = cacheVerifiedSignatures(inner.verify, { maxEntries: 2, maxAgeMs: 3_600_000, now: () => NOW });
  const [a, b, c] = await Promise.all([sign(NOW / 1000 + 60, 'a'), sign(NOW / 1000 + 60, 'b'), sign(NOW / 1000 + 60, 'c')]);
  await cached(a);
  await cached(b);
  await cached(a); // a is now the most recently used
  await cached(c); // b goes
  expect(inner.calls()).toBe(3);
  await cached(a);
  await cached(c);
  expect(inner.calls()).toBe(3);
  await cached(b);
  expect(inner.calls()).toBe(4);
});

it('keeps no entry past maxAgeMs, even for a token with a later exp', async () => {
  let now = NOW;
  const inner = countingVerifier();
  const cached = cacheVerifiedSignatures(inner.verify, { maxEntries: 10, maxAgeMs: 1000, now: () => now });
  const token = await sign(NOW / 1000 + 3600);
  await cached(token);
  now = NOW + 1000;
  await cached(token);
  expect(inner.calls()).toBe(2);
});

it('hands out a frozen result, so no request can change what the next one sees', async () => {
  const cached = cacheVerifiedSignatures(countingVerifier().verify, { maxEntries: 10, maxAgeMs: 3_600_000, now: () => NOW });
  const token = await sign(NOW / 1000 + 60);
  await cached(token);
  const { payload } = await cached(token);
  expect(Object.isFrozen(payload)).toBe(true);
  expect(() => Object.assign(payload, { sub: 'someone else' })).toThrow(TypeError);
});

it('with 0 entries verifies every time', async () => {
  const inner = countingVerifier();
  const cached = cacheVerifiedSignatures(inner.verify, { maxEntries: 0, maxAgeMs: 3_600_000, now: () => NOW });
  const token = await sign(NOW / 1000 + 60);
  await cached(token);
  await cached(token);
  expect(inner.calls()).toBe(2);
});

describe('a signature spelled another way', () => {
  const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  /** The last character with an unused low bit set: RS256's 256 bytes use 2 of its 6 bits, so the bytes stay the same. */
  const withUnusedBitsSet = (segment: string) => segment.slice(0, -1) + BASE64URL[BASE64URL.indexOf(segment.at(-1)!) ^ 0b1];
  const respellings: Array<[string, (signature: string) => string]> = [
    ['a stray "!"', (signature) => `${signature}!`],
    ['a stray "~"', (signature) => `${signature.slice(0, 10)}~${signature.slice(10)}`],
    ['"==" padding', (signature) => `${signature}==`],
    ['standard base64 "+" and "/" for "-" and "_"', (signature) => signature.replaceAll('-', '+').replaceAll('_', '/')],
    ['the unused bits of the last character set', withUnusedBitsSet],
  ];

  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it.each(respellings)('is refused with 401 invalid_token: %s, while the token as signed is accepted', async (_label, respell) => {
    const token = await server.userToken(`auth0|${randomUUID()}`);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const respelled = `${header}.${payload}.${respell(signature)}`;
    expect(respelled).not.toBe(token);
    const ask = (bearer: string) => server.request().post('/graphql').set('authorization', `Bearer ${bearer}`).send({ query: '{ viewer { kind } }' });
    // Cached first: the refusal must not come from a cache that never saw the respelled token.
    expect((await ask(token)).status).toBe(200);
    const refused = await ask(respelled);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(JSON.stringify(refused.body)).not.toContain(signature.slice(0, 20));
    expect((await ask(token)).status).toBe(200);
  });
});
