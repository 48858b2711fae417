// Every claim the API reads, with every wrong type, through real HTTP and real signed tokens: a clean 401, never a 500, nothing written.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type KeyLike } from 'jose';
import { expectData, expectError, graphql } from './support/graphql';
import { TEST_AUDIENCE } from './support/issuer';
import { startTestServer, type TestServer } from './support/server';

const ADD_USER = 'mutation AddUser($input: AddUserInput!) { addUser(input: $input) { created user { id } } }';
const ME = '{ me { id email } }';
const NAMESPACE = 'https://auth0-postgres-sync.example/';

let server: TestServer;
let issuerKey: KeyLike;
beforeAll(async () => {
  server = await startTestServer({ env: { AUTH0_CLAIMS_NAMESPACE: NAMESPACE } });
  issuerKey = (await importJWK(server.issuer.state.privateJwk, 'RS256')) as KeyLike;
});
afterAll(() => server.close());

type Kind = 'machine' | 'user';

/** A valid token of each kind, with every claim the API reads present; `overrides` replace or (undefined) remove claims. */
function sign(kind: Kind, auth0Id: string, overrides: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> =
    kind === 'machine'
      ? { sub: 'provisioner@clients', gty: 'client-credentials', azp: 'provisioner', scope: 'create:users', permissions: ['create:users'] }
      : { sub: auth0Id, azp: 'spa-client', scope: 'openid profile email', permissions: [], [`${NAMESPACE}email`]: 'ada@example.com', [`${NAMESPACE}email_verified`]: true };
  const payload: Record<string, unknown> = { iss: server.issuer.url, aud: TEST_AUDIENCE, iat: now, exp: now + 600, ...claims, ...overrides };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: server.issuer.state.kid }).sign(issuerKey);
}

/** The write each kind of caller would make: a machine adds the user, a user provisions themself through `me`. */
const operation = (kind: Kind, auth0Id: string) => (kind === 'machine' ? { query: ADD_USER, variables: { input: { auth0Id } } } : { query: ME });

const OVERLONG = 'x'.repeat(9000);
const wrongValues: Array<[string, unknown]> = [
  ['an array', ['create:users']],
  ['an array of numbers', [42]],
  ['a number', 42],
  ['an object', { scope: 'create:users' }],
  ['null', null],
  ['a boolean', true],
  ['an empty string', ''],
  ['an overlong string', OVERLONG],
];
// A list is the right type for gty and permissions, and a boolean for email_verified.
const rightType: Record<string, (value: unknown) => boolean> = {
  gty: (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'),
  permissions: (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'),
  [`${NAMESPACE}email_verified`]: (value) => typeof value === 'boolean',
};
const claims = ['sub', 'scope', 'gty', 'azp', 'permissions', `${NAMESPACE}email`, `${NAMESPACE}email_verified`];
// An empty scope is a list of no scopes: right for both kinds (see the FORBIDDEN case below).
const isRight = (claim: string, value: unknown) => rightType[claim]?.(value) || (claim === 'scope' && value === '');
const cases = claims.flatMap((claim) =>
  wrongValues
    .filter(([, value]) => !isRight(claim, value))
    .flatMap(([label, value]) => (['machine', 'user'] as const).map((kind) => [`${claim} as ${label}, ${kind} token`, claim, value, kind] as const)),
);

describe('a claim of an unexpected type refuses the token with 401 invalid_token and writes nothing', () => {
  it('covers every claim the API reads, with both kinds of token', () => {
    expect(new Set(cases.map(([, claim]) => claim))).toEqual(new Set(claims));
    expect(cases.length).toBeGreaterThanOrEqual(claims.length * 2 * 5);
  });

  it.each([...cases, ['sub missing, machine token', 'sub', undefined, 'machine'] as const, ['sub missing, user token', 'sub', undefined, 'user'] as const])(
    '%s',
    async (_label, claim, value, kind) => {
      const auth0Id = `auth0|${randomUUID()}`;
      const before = await server.prisma.user.count();
      const response = await graphql(server, { ...operation(kind, auth0Id), token: await sign(kind, auth0Id, { [claim]: value }) });
      expect(response.status).toBe(401);
      expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(response.errors?.[0]?.message).toContain(`'${claim}'`);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
      expect(response.data).toBeUndefined();
      expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(0);
      expect(await server.prisma.user.count()).toBe(before);
      expect(server.logs.join('\n')).not.toMatch(/"level":50/);
    },
  );
});

describe('the same tokens with the claims Auth0 writes work', () => {
  it('a machine token with every claim well typed adds a user', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const data = await expectData<{ addUser: { created: boolean } }>(server, { ...operation('machine', auth0Id), token: await sign('machine', auth0Id, {}) });
    expect(data.addUser.created).toBe(true);
  });

  it('a user token with every claim well typed provisions the user with the email claim', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const data = await expectData<{ me: { email: string } }>(server, { ...operation('user', auth0Id), token: await sign('user', auth0Id, {}) });
    expect(data.me.email).toBe('ada@example.com');
  });

  it('gty as a list (as Auth0 writes it for some grants) is read: with client-credentials a machine, without a user', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    await expectData(server, { ...operation('machine', auth0Id), token: await sign('machine', auth0Id, { gty: ['client-credentials'] }) });
    const other = `auth0|${randomUUID()}`;
    await expectError(server, { ...operation('machine', other), token: await sign('machine', other, { gty: ['refresh_token', 'password'] }) }, 'FORBIDDEN');
    expect(await server.prisma.user.count({ where: { auth0Id: other } })).toBe(0);
  });

  it('an empty scope grants nothing: a machine token gets FORBIDDEN from addUser and writes nothing, a user token still reads me', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    const error = await expectError(server, { ...operation('machine', auth0Id), token: await sign('machine', auth0Id, { scope: '' }) }, 'FORBIDDEN');
    expect(error.message).toContain('create:users');
    expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(0);
    await expectData(server, { ...operation('user', auth0Id), token: await sign('user', auth0Id, { scope: '' }) });
  });

  it('a machine token whose scope lacks create:users gets FORBIDDEN, and a user token cannot call addUser', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    await expectError(server, { ...operation('machine', auth0Id), token: await sign('machine', auth0Id, { scope: 'read:users' }) }, 'FORBIDDEN');
    await expectError(server, { ...operation('machine', auth0Id), token: await sign('user', auth0Id, {}) }, 'FORBIDDEN');
    expect(await server.prisma.user.count({ where: { auth0Id } })).toBe(0);
  });
});
