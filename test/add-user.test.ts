// addUser through HTTP into the real app and Postgres: upsert semantics, races and bad input.
import { randomUUID } from 'node:crypto';
import { expectData, expectError, MEDIA_TYPES, REQUEST_ERROR_STATUS } from './support/graphql';
import { startTestServer, type TestServer } from './support/server';

const ADD_USER = /* GraphQL */ `
  mutation AddUser($input: AddUserInput!) {
    addUser(input: $input) {
      created
      user { id auth0Id email emailVerified name picture connection loginsCount lastLoginAt createdAt updatedAt }
    }
  }
`;

interface AddUserData {
  addUser: {
    created: boolean;
    user: {
      id: string;
      auth0Id: string;
      email: string | null;
      emailVerified: boolean;
      name: string | null;
      picture: string | null;
      connection: string | null;
      loginsCount: number;
      lastLoginAt: string | null;
      createdAt: string;
      updatedAt: string;
    };
  };
}

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  token = await server.machineToken(['create:users']);
});
afterAll(() => server.close());

const newAuth0Id = (provider = 'google-oauth2') => `${provider}|${randomUUID()}`;
const addUser = (input: Record<string, unknown>) => expectData<AddUserData>(server, { query: ADD_USER, variables: { input }, token });
const rowsFor = (auth0Id: string) => server.prisma.user.findMany({ where: { auth0Id } });

describe('addUser', () => {
  it('creates a user on the first call and stores every field exactly', async () => {
    const auth0Id = newAuth0Id();
    const input = {
      auth0Id,
      email: 'ada@example.com',
      emailVerified: true,
      name: 'Ada Lovelace',
      picture: 'https://lh3.googleusercontent.com/a/photo.jpg',
      connection: 'google-oauth2',
      loginsCount: 1,
      lastLoginAt: '2026-11-22T10:00:00.000Z',
    };
    const { addUser: result } = await addUser(input);

    expect(result.created).toBe(true);
    expect(result.user).toMatchObject({ ...input });
    const [row, ...others] = await rowsFor(auth0Id);
    expect(others).toHaveLength(0);
    expect(row).toMatchObject({ ...input, id: result.user.id, lastLoginAt: new Date(input.lastLoginAt) });
  });

  it('updates the profile on a later call, keeps the same row and says it was not created', async () => {
    const auth0Id = newAuth0Id('auth0');
    const first = await addUser({ auth0Id, email: 'old@example.com', name: 'Old', connection: 'Username-Password-Authentication', loginsCount: 1 });
    const second = await addUser({ auth0Id, email: 'new@example.com', name: 'New', emailVerified: true, loginsCount: 2 });

    expect(second.addUser.created).toBe(false);
    expect(second.addUser.user.id).toBe(first.addUser.user.id);
    expect(second.addUser.user).toMatchObject({ email: 'new@example.com', name: 'New', emailVerified: true, loginsCount: 2 });
    expect(new Date(second.addUser.user.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(first.addUser.user.updatedAt).getTime());
    const rows = await rowsFor(auth0Id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: 'new@example.com', connection: 'Username-Password-Authentication' });
  });

  it('keeps stored fields that a later call leaves out', async () => {
    const auth0Id = newAuth0Id();
    await addUser({ auth0Id, email: 'keep@example.com', name: 'Keep Me', picture: 'https://example.com/p.png', connection: 'google-oauth2' });
    await addUser({ auth0Id, loginsCount: 3 });

    const [row] = await rowsFor(auth0Id);
    expect(row).toMatchObject({ email: 'keep@example.com', name: 'Keep Me', picture: 'https://example.com/p.png', connection: 'google-oauth2', loginsCount: 3 });
  });

  it('never lowers the login count or moves the last login back when a late retry arrives', async () => {
    const auth0Id = newAuth0Id();
    await addUser({ auth0Id, loginsCount: 5, lastLoginAt: '2026-11-22T12:00:00Z' });
    const late = await addUser({ auth0Id, loginsCount: 4, lastLoginAt: '2026-11-22T11:00:00Z' });

    expect(late.addUser.user.loginsCount).toBe(5);
    expect(late.addUser.user.lastLoginAt).toBe('2026-11-22T12:00:00.000Z');
  });

  it('stores emails with quotes, backslashes, braces and non-ASCII characters exactly', async () => {
    const auth0Id = newAuth0Id('auth0');
    const email = '"o\'hara \\"}\\\\ zoë"@exämple.com';
    const name = 'Zoë "Z" \\ O\'Hara"}';
    await addUser({ auth0Id, email, name });
    const [row] = await rowsFor(auth0Id);
    expect(row?.email).toBe(email);
    expect(row?.name).toBe(name);
  });

  it('keys users by Auth0 id, so the same email on two connections makes two users', async () => {
    const email = `shared-${randomUUID()}@example.com`;
    const password = await addUser({ auth0Id: newAuth0Id('auth0'), email, connection: 'Username-Password-Authentication' });
    const google = await addUser({ auth0Id: newAuth0Id('google-oauth2'), email, connection: 'google-oauth2' });

    expect(password.addUser.created).toBe(true);
    expect(google.addUser.created).toBe(true);
    expect(await server.prisma.user.count({ where: { email } })).toBe(2);
  });

  it('accepts a user without an email, and Auth0 ids whose id part holds pipes', async () => {
    const auth0Id = `samlp|corp-connection|${randomUUID()}`;
    const { addUser: result } = await addUser({ auth0Id, connection: 'corp-connection' });
    expect(result.user.email).toBeNull();
    expect(await rowsFor(auth0Id)).toHaveLength(1);
  });

  it('leaves exactly one row per user after 200 concurrent calls for 20 users, twice over, without errors', async () => {
    const users = Array.from({ length: 20 }, () => newAuth0Id());
    for (let round = 0; round < 2; round += 1) {
      const calls = Array.from({ length: 200 }, (_, i) => addUser({ auth0Id: users[i % 20], email: `u${i % 20}@example.com`, loginsCount: round + 1 }));
      const results = await Promise.all(calls);
      expect(results).toHaveLength(200);
      if (round === 0) expect(results.filter((r) => r.addUser.created)).toHaveLength(20);
      else expect(results.filter((r) => r.addUser.created)).toHaveLength(0);
    }
    const rows = await server.prisma.user.groupBy({ by: ['auth0Id'], where: { auth0Id: { in: users } }, _count: true });
    expect(rows).toHaveLength(20);
    expect(rows.every((row) => row._count === 1)).toBe(true);
  });
});

describe('addUser with bad input answers BAD_USER_INPUT naming the field and writes nothing', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['an auth0Id without a provider', { auth0Id: 'no-provider-here' }, 'input.auth0Id'],
    ['an auth0Id with an empty id part', { auth0Id: 'google-oauth2|' }, 'input.auth0Id'],
    ['an auth0Id with whitespace', { auth0Id: 'google-oauth2|12 34' }, 'input.auth0Id'],
    ['an auth0Id over 255 characters', { auth0Id: `auth0|${'x'.repeat(250)}` }, 'input.auth0Id'],
    ['an email without @', { email: 'not-an-email' }, 'input.email'],
    ['an email without a domain', { email: 'ada@' }, 'input.email'],
    ['an email over 320 characters', { email: `${'a'.repeat(60)}@${'b'.repeat(300)}.com` }, 'input.email'],
    ['a name over 255 characters', { name: 'n'.repeat(256) }, 'input.name'],
    ['a name with a control character', { name: 'bad\u0000name' }, 'input.name'],
    ['a picture that is not an http(s) URL', { picture: 'javascript:alert(1)' }, 'input.picture'],
    ['a connection over 255 characters', { connection: 'c'.repeat(256) }, 'input.connection'],
    ['a negative login count', { loginsCount: -1 }, 'input.loginsCount'],
  ];

  it.each(cases)('%s', async (_label, fields, field) => {
    const auth0Id = (fields.auth0Id as string | undefined) ?? newAuth0Id();
    const error = await expectError(server, { query: ADD_USER, variables: { input: { auth0Id, ...fields } }, token }, 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe(field);
    expect(error.message).toContain(field);
    expect(await rowsFor(auth0Id)).toHaveLength(0);
  });

  it.each(MEDIA_TYPES)('a missing auth0Id or a wrongly typed field is refused by the schema (HTTP 200 for application/json, 400 for application/graphql-response+json) and writes nothing: %s', async (accept) => {
    const before = await server.prisma.user.count();
    const missing = await expectError(server, { query: ADD_USER, variables: { input: { email: 'a@example.com' } }, token, accept }, 'BAD_USER_INPUT');
    expect(missing.response.status).toBe(REQUEST_ERROR_STATUS[accept]);
    expect(missing.response.headers['content-type']).toBe(`${accept}; charset=utf-8`);
    expect(missing.response.data).toBeUndefined();
    const wrongType = await expectError(server, { query: ADD_USER, variables: { input: { auth0Id: newAuth0Id(), loginsCount: 'many' } }, token, accept }, 'BAD_USER_INPUT');
    expect(wrongType.response.status).toBe(REQUEST_ERROR_STATUS[accept]);
    expect(wrongType.response.data).toBeUndefined();
    const badDate = await expectError(server, { query: ADD_USER, variables: { input: { auth0Id: newAuth0Id(), lastLoginAt: 'yesterday' } }, token, accept }, 'BAD_USER_INPUT');
    expect(badDate.response.status).toBe(REQUEST_ERROR_STATUS[accept]);
    expect(badDate.response.data).toBeUndefined();
    expect(await server.prisma.user.count()).toBe(before);
  });
});
