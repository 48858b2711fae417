// What the write-back answers and stores: Auth0's whole answer, refusals of profile fields an identity provider syncs, a PATCH Auth0 applies late, mixed documents, log levels.
import { randomUUID } from 'node:crypto';
import { buildSchema, isNonNullType } from 'graphql';
import { Auth0UsersApi } from '../src/modules/users/auth0-users-api';
import { UserChangesPusher } from '../src/modules/users/user-changes-pusher';
import { createLogger } from '../src/logger';
import { loadTypeDefs } from '../src/schema';
import { expectData, expectError, graphql } from './support/graphql';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { startTestServer, type TestServer } from './support/server';
import { waitUntil } from './support/wait-until';

let mgmt: ManagementApiStandIn;
let server: TestServer;
beforeAll(async () => {
  mgmt = await startManagementApi();
  server = await startTestServer({ env: { ...mgmt.env, AUTH0_WRITE_TIMEOUT_MS: '2000' } });
});
afterAll(async () => {
  await server.close();
  await mgmt.close();
});

const UPDATE_USER = `mutation ($id: String!, $input: UpdateUserInput!) {
  updateUser(auth0Id: $id, input: $input) { auth0Id email emailVerified name blocked appMetadata userMetadata }
}`;
const UPDATE_ME = 'mutation ($input: UpdateMeInput!) { updateMe(input: $input) { auth0Id name userMetadata } }';

/**
 * A user in both Auth0 (the stand-in) and Postgres, equal on both sides. `social`: a Google user;
 * `enterprise`: a user of that SAML connection; `emailVerified`: false unless said.
 */
async function seedUser(options: { social?: boolean; enterprise?: string; emailVerified?: boolean } = {}) {
  const identity = options.social
    ? { provider: 'google-oauth2', connection: 'google-oauth2', isSocial: true }
    : options.enterprise
      ? { provider: 'samlp', connection: options.enterprise, isSocial: false }
      : { provider: 'auth0', connection: 'Username-Password-Authentication', isSocial: false };
  const auth0Id = `${identity.provider}|${options.enterprise ? `${options.enterprise}|` : ''}${randomUUID()}`;
  const updatedAt = new Date(Date.UTC(2026, 9, 1)).toISOString();
  const emailVerified = options.emailVerified ?? false;
  const profile = { email: `${randomUUID().slice(0, 8)}@example.com`, email_verified: emailVerified, name: 'Ada', picture: 'https://example.com/ada.png' };
  mgmt.users.push({
    user_id: auth0Id,
    ...profile,
    blocked: false,
    app_metadata: { plan: 'free' },
    user_metadata: { theme: 'dark' },
    identities: [identity],
    updated_at: updatedAt,
  });
  await server.prisma.user.create({
    data: {
      auth0Id,
      email: profile.email,
      emailVerified,
      connection: identity.connection,
      name: profile.name,
      picture: profile.picture,
      appMetadata: { plan: 'free' },
      userMetadata: { theme: 'dark' },
      auth0UpdatedAt: new Date(updatedAt),
    },
  });
  return { auth0Id, ...profile };
}

const row = (auth0Id: string) => server.prisma.user.findUniqueOrThrow({ where: { auth0Id } });
const inAuth0 = (auth0Id: string) => mgmt.users.find((user) => user.user_id === auth0Id);
const changes = (auth0Id: string) => server.prisma.userChange.findMany({ where: { auth0Id }, orderBy: { id: 'asc' } });
const updateToken = () => server.machineToken(['update:users']);

function pusher(options: { convergeAfterMs: number }) {
  const api = new Auth0UsersApi({ domain: mgmt.domain, clientId: mgmt.client.id, clientSecret: mgmt.client.secret, origin: mgmt.origin, timeoutMs: 2000 });
  return new UserChangesPusher(server.prisma, api, { ...options, auth0TimeoutMs: 2000, statementTimeoutMs: 5000, logger: createLogger({ level: 'silent', pretty: false }) });
}

describe('updateUser', () => {
  it("an email change stores Auth0's whole answer: the new address is unverified here as in Auth0", async () => {
    const user = await seedUser({ emailVerified: true });
    const data = await expectData<{ updateUser: { email: string; emailVerified: boolean } }>(server, {
      query: UPDATE_USER,
      variables: { id: user.auth0Id, input: { email: 'moved@example.com' } },
      token: await updateToken(),
    });
    expect(inAuth0(user.auth0Id)).toMatchObject({ email: 'moved@example.com', email_verified: false });
    expect(data.updateUser).toMatchObject({ email: 'moved@example.com', emailVerified: false });
    expect(await row(user.auth0Id)).toMatchObject({ email: 'moved@example.com', emailVerified: false });
    expect(await changes(user.auth0Id)).toHaveLength(1);
  });

  it('a 503 caused by Auth0 is an expected outcome: logged as a warning, never as an error', async () => {
    const user = await seedUser();
    const from = server.logs.length;
    mgmt.failRequests(`/users/${encodeURIComponent(user.auth0Id)}`, 429, { 'retry-after': '3' }, 1);
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Rate limited' } }, token: await updateToken() }, 'UNAVAILABLE');
    const lines = () => server.logs.slice(from).map((line) => JSON.parse(line) as { level: number; msg: string; res?: { statusCode: number }; auth0Id?: string });
    // The request line is written when the response has closed, just after the client has it.
    await waitUntil(async () => lines().some((line) => line.res?.statusCode === 503));
    expect(error.response.status).toBe(503);
    expect(lines().filter((line) => line.level >= 50)).toEqual([]);
    expect(lines()).toEqual(expect.arrayContaining([
      expect.objectContaining({ level: 40, res: expect.objectContaining({ statusCode: 503 }) }),
      expect.objectContaining({ level: 40, auth0Id: user.auth0Id, msg: expect.stringContaining('Auth0 unavailable') }),
    ]));
  });

  it('a PATCH that Auth0 applies after the first repair read: the worker reads again, and the row ends as Auth0 has it', async () => {
    const user = await seedUser();
    const held = mgmt.holdNextUserPatch();
    await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Applied late' } }, token: await updateToken() }, 'UNAVAILABLE');
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['uncertain']);
    const worker = pusher({ convergeAfterMs: 60_000 });
    // The repair read: Auth0 has not applied it (yet), so the row stays as Auth0 has it now.
    // (Other tests' changes may be in the same pass: the counts are at least this one's.)
    expect((await worker.pushOnce()).awaitingAuth0).toBeGreaterThanOrEqual(1);
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['uncertain']);
    expect((await row(user.auth0Id)).name).toBe('Ada');
    held.applyLate();
    expect(inAuth0(user.auth0Id)!.name).toBe('Applied late');
    // Time passes: the next read is due (what a later pass of the running worker finds).
    await server.prisma.userChange.updateMany({ where: { auth0Id: user.auth0Id }, data: { nextAttemptAt: new Date(Date.now() - 1000) } });
    expect((await worker.pushOnce()).converged).toBeGreaterThanOrEqual(1);
    expect(await row(user.auth0Id)).toMatchObject({ name: 'Applied late', auth0UpdatedAt: new Date(String(inAuth0(user.auth0Id)!.updated_at)) });
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['converged']);
  });

  it('an uncertain change Auth0 never applies ends converged once the window has passed', async () => {
    const user = await seedUser();
    mgmt.holdNextUserPatch();
    await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Never applied' } }, token: await updateToken() }, 'UNAVAILABLE');
    await pusher({ convergeAfterMs: 0 }).pushOnce();
    expect((await row(user.auth0Id)).name).toBe('Ada');
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['converged']);
  });
});

describe('updateMe', () => {
  it("a Google user's name while the connection syncs profiles at each login: PROFILE_SYNCED_FROM_IDP naming the connection and the setting, nothing changed", async () => {
    const me = await seedUser({ social: true });
    const before = await row(me.auth0Id);
    const error = await expectError(server, {
      query: UPDATE_ME,
      variables: { input: { name: 'Me', userMetadata: { theme: 'light' } } },
      token: await server.userToken(me.auth0Id),
    }, 'PROFILE_SYNCED_FROM_IDP');
    expect(error.message).toContain('google-oauth2');
    expect(error.message).toContain("'Sync user profile attributes at each login'");
    expect(error.message).toContain('userMetadata');
    expect(error.extensions).toMatchObject({ connection: 'google-oauth2', fields: ['name'], auth0Status: 400, auth0ErrorCode: 'operation_not_supported' });
    expect(error.response.status).toBe(200);
    expect(await row(me.auth0Id)).toEqual(before);
    expect(inAuth0(me.auth0Id)).toMatchObject({ name: 'Ada', user_metadata: { theme: 'dark' } });
    expect(await changes(me.auth0Id)).toEqual([expect.objectContaining({ status: 'rejected', errorStatus: 400 })]);
    // Their user_metadata alone is theirs to change.
    await expectData(server, { query: UPDATE_ME, variables: { input: { userMetadata: { displayName: 'Me' } } }, token: await server.userToken(me.auth0Id) });
    expect((await row(me.auth0Id)).userMetadata).toEqual({ theme: 'dark', displayName: 'Me' });
  });

  it('an enterprise connection whose sync is turned off (on_first_login) accepts the name and picture: no pre-check refuses them', async () => {
    const connection = `acme-${randomUUID().slice(0, 8)}`;
    mgmt.connections.set(`con_${connection}`, { id: `con_${connection}`, name: connection, strategy: 'samlp', options: { set_user_root_attributes: 'on_first_login' } });
    const me = await seedUser({ enterprise: connection });
    const data = await expectData<{ updateMe: { name: string } }>(server, {
      query: UPDATE_ME,
      variables: { input: { name: 'Chosen', picture: 'https://example.com/chosen.png' } },
      token: await server.userToken(me.auth0Id),
    });
    expect(data.updateMe.name).toBe('Chosen');
    expect(inAuth0(me.auth0Id)).toMatchObject({ name: 'Chosen', picture: 'https://example.com/chosen.png' });
  });

  it('a document mixing updateMe with a refused field answers with updateMe applied and the other field\'s error', async () => {
    const me = await seedUser();
    const response = await graphql<{ updateMe: { name: string } | null; updateUser: unknown }>(server, {
      query: `mutation ($id: String!) { updateMe(input: { name: "Mixed" }) { name } updateUser(auth0Id: $id, input: { name: "Refused" }) { name } }`,
      variables: { id: me.auth0Id },
      token: await server.userToken(me.auth0Id),
    });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ updateMe: { name: 'Mixed' }, updateUser: null });
    expect(response.errors).toEqual([expect.objectContaining({ path: ['updateUser'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(inAuth0(me.auth0Id)!.name).toBe('Mixed');
    expect((await row(me.auth0Id)).name).toBe('Mixed');
  });

  it('a document whose second updateMe finds Auth0 rate limiting answers 200 with the first one applied, not a 503 that hides it', async () => {
    const me = await seedUser();
    const path = `/users/${encodeURIComponent(me.auth0Id)}`;
    // The first PATCH goes through; Auth0 rate limits the next one.
    mgmt.beforeNextUserPatchAnswer(async () => mgmt.failRequests(path, 429, { 'retry-after': '7' }, 1));
    const response = await graphql<{ first: { name: string } | null; second: unknown }>(server, {
      query: 'mutation { first: updateMe(input: { name: "First" }) { name } second: updateMe(input: { userMetadata: { theme: "light" } }) { name } }',
      token: await server.userToken(me.auth0Id),
    });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ first: { name: 'First' }, second: null });
    expect(response.errors).toEqual([expect.objectContaining({ path: ['second'], extensions: expect.objectContaining({ code: 'UNAVAILABLE', retryAfter: 7 }) })]);
    expect(inAuth0(me.auth0Id)).toMatchObject({ name: 'First', user_metadata: { theme: 'dark' } });
    expect(await row(me.auth0Id)).toMatchObject({ name: 'First', userMetadata: { theme: 'dark' } });
  });

  it('every mutation field is nullable, so that no failing field can null the answer of another', () => {
    const mutation = buildSchema(loadTypeDefs().join('\n')).getMutationType()!;
    const nonNull = Object.values(mutation.getFields()).filter((field) => isNonNullType(field.type)).map((field) => field.name);
    expect(nonNull).toEqual([]);
  });
});
