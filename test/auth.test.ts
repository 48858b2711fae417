// Who may call addUser: every kind of bad token is refused with 401 and writes nothing.
import { createHmac, randomUUID } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, type KeyLike } from 'jose';
import { expectData, expectError, graphql } from './support/graphql';
import { TEST_AUDIENCE } from './support/issuer';
import { startTestServer, type TestServer } from './support/server';

const ADD_USER = 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created user { id } } }';

let server: TestServer;
let issuerKey: KeyLike;

beforeAll(async () => {
  server = await startTestServer();
  issuerKey = (await importJWK(server.issuer.state.privateJwk, 'RS256')) as KeyLike;
});
afterAll(() => server.close());

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function machineClaims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: server.issuer.url,
    aud: TEST_AUDIENCE,
    sub: 'attacker@clients',
    gty: 'client-credentials',
    scope: 'create:users',
    iat: now,
    exp: now + 600,
    ...overrides,
  };
}

function signRs256(claims: Record<string, unknown>, key: KeyLike = issuerKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: server.issuer.state.kid }).sign(key);
}

async function expectRefusedWith401(token: string | null): Promise<void> {
  const auth0Id = `google-oauth2|${randomUUID()}`;
  const response = await graphql(server, { query: ADD_USER, variables: { input: { auth0Id } }, token });
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
  expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(response.data).toBeUndefined();
  expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(0);
}

describe('tokens that are refused with HTTP 401 and WWW-Authenticate, writing nothing', () => {
  it('no token at all', () => expectRefusedWith401(null));

  it('a malformed token', () => expectRefusedWith401('this-is-not-a-jwt'));

  it('an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await expectRefusedWith401(await signRs256(machineClaims({ iat: past - 600, exp: past })));
  });

  it('a token signed by another key under the issuer\'s key id', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    await expectRefusedWith401(await signRs256(machineClaims(), privateKey));
  });

  it('a token from another issuer', async () => {
    await expectRefusedWith401(await signRs256(machineClaims({ iss: 'https://evil.example/' })));
  });

  it('a token for another audience', async () => {
    await expectRefusedWith401(await signRs256(machineClaims({ aud: 'https://some-other-api.example/' })));
  });

  it('an unsigned token (alg: none)', async () => {
    await expectRefusedWith401(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(machineClaims())}.`);
  });

  it('an HS256 token (algorithm confusion with the public key as the secret)', async () => {
    const header = base64url({ alg: 'HS256', typ: 'JWT', kid: server.issuer.state.kid });
    const payload = base64url(machineClaims());
    const secret = JSON.stringify(server.issuer.state.publicJwk);
    const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
    await expectRefusedWith401(`${header}.${payload}.${signature}`);
  });

  it('a token whose signature was tampered with', async () => {
    const token = await signRs256(machineClaims());
    const [header, payload] = token.split('.');
    const forgedPayload = base64url({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), scope: 'create:users read:users' });
    await expectRefusedWith401(`${header}.${forgedPayload}.${token.split('.')[2]}`);
  });
});

describe('the time claims: iat in the future beyond the clock tolerance, or older than the token age, is refused', () => {
  const HOUR = 3600;
  const now = () => Math.floor(Date.now() / 1000);

  it('a token issued a year in the future', async () => {
    await expectRefusedWith401(await signRs256(machineClaims({ iat: now() + 365 * 24 * HOUR, exp: now() + HOUR })));
  });

  it('a token issued two minutes in the future (beyond the default 60 s tolerance)', async () => {
    await expectRefusedWith401(await signRs256(machineClaims({ iat: now() + 120, exp: now() + HOUR })));
  });

  it('a token issued 25 hours ago that has not expired (older than the default 24 h age)', async () => {
    await expectRefusedWith401(await signRs256(machineClaims({ iat: now() - 25 * HOUR, exp: now() + HOUR })));
  });

  it('a token without iat', async () => {
    const { iat: _iat, ...withoutIat } = machineClaims();
    await expectRefusedWith401(await signRs256(withoutIat));
  });

  it('a token issued 30 s in the future (clock skew within the tolerance) is accepted, and so is one issued 23 hours ago', async () => {
    for (const iat of [now() + 30, now() - 23 * HOUR]) {
      const auth0Id = `auth0|${randomUUID()}`;
      const data = await expectData<{ addUser: { created: boolean } }>(server, { query: ADD_USER, variables: { input: { auth0Id } }, token: await signRs256(machineClaims({ iat, exp: now() + HOUR })) });
      expect(data.addUser.created).toBe(true);
    }
  });

  it('AUTH0_CLOCK_TOLERANCE_S and AUTH0_MAX_TOKEN_AGE_S set the bounds', async () => {
    const strict = await startTestServer({ env: { AUTH0_CLOCK_TOLERANCE_S: '5', AUTH0_MAX_TOKEN_AGE_S: '3600' } });
    try {
      const key = (await importJWK(strict.issuer.state.privateJwk, 'RS256')) as KeyLike;
      const sign = (iat: number) =>
        new SignJWT({ ...machineClaims({ iss: strict.issuer.url, iat, exp: now() + HOUR }) }).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: strict.issuer.state.kid }).sign(key);
      for (const iat of [now() + 30, now() - 2 * HOUR]) {
        const auth0Id = `auth0|${randomUUID()}`;
        const response = await graphql(strict, { query: ADD_USER, variables: { input: { auth0Id } }, token: await sign(iat) });
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(/error="invalid_token"/);
        expect(await strict.prisma.user.count({ where: { auth0Id } })).toBe(0);
      }
      await expectData(strict, { query: ADD_USER, variables: { input: { auth0Id: `auth0|${randomUUID()}` } }, token: await sign(now()) });
    } finally {
      await strict.close();
    }
  });
});

describe('valid tokens without the right to call addUser get FORBIDDEN and write nothing', () => {
  it('an end user\'s token cannot call addUser', async () => {
    const auth0Id = `google-oauth2|${randomUUID()}`;
    const token = await server.userToken(auth0Id);
    await expectError(server, { query: ADD_USER, variables: { input: { auth0Id } }, token }, 'FORBIDDEN');
    expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(0);
  });

  it('a machine token without the create:users scope cannot call addUser', async () => {
    const auth0Id = `google-oauth2|${randomUUID()}`;
    const token = await server.machineToken(['read:users']);
    const error = await expectError(server, { query: ADD_USER, variables: { input: { auth0Id } }, token }, 'FORBIDDEN');
    expect(error.message).toContain('create:users');
    expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(0);
  });
});

describe('token verification', () => {
  it('fetches the issuer\'s JWKS over HTTP once and reuses it for later requests', async () => {
    const fresh = await startTestServer();
    try {
      expect(fresh.issuer.jwksFetches()).toBe(0);
      const token = await fresh.machineToken(['create:users']);
      for (let i = 0; i < 5; i += 1) {
        await expectData(fresh, { query: ADD_USER, variables: { input: { auth0Id: `auth0|${randomUUID()}` } }, token });
      }
      expect(fresh.issuer.jwksFetches()).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('uses the configured scope name for addUser', async () => {
    const custom = await startTestServer({ env: { AUTH0_CREATE_USERS_SCOPE: 'provision:users' } });
    try {
      const input = { auth0Id: `auth0|${randomUUID()}` };
      await expectError(custom, { query: ADD_USER, variables: { input }, token: await custom.machineToken(['create:users']) }, 'FORBIDDEN');
      const data = await expectData<{ addUser: { created: boolean } }>(custom, {
        query: ADD_USER,
        variables: { input },
        token: await custom.machineToken(['provision:users']),
      });
      expect(data.addUser.created).toBe(true);
    } finally {
      await custom.close();
    }
  });
});
