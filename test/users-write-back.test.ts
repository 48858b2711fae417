// updateUser, updateMe and deleteUser against the Management API stand-in: one outcome on both sides, or Auth0's reason.
import { randomUUID } from 'node:crypto';
import { Auth0UsersApi } from '../src/modules/users/auth0-users-api';
import { UserChangesPusher } from '../src/modules/users/user-changes-pusher';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { withClient } from './support/database';
import { expectData, expectError, graphql } from './support/graphql';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { startTestServer, type TestServer } from './support/server';
import { waitUntil } from './support/wait-until';

const LOG_STREAM_TOKEN = `log-stream-${randomUUID()}`;
let mgmt: ManagementApiStandIn;
let server: TestServer;
beforeAll(async () => {
  mgmt = await startManagementApi();
  server = await startTestServer({
    env: {
      ...mgmt.env,
      AUTH0_WRITE_TIMEOUT_MS: '2000',
      AUTH0_LOG_STREAM_TOKEN: LOG_STREAM_TOKEN,
    },
  });
});
afterAll(async () => {
  await server.close();
  await mgmt.close();
});

const UPDATE_USER = `mutation ($id: String!, $input: UpdateUserInput!) {
  updateUser(auth0Id: $id, input: $input) { auth0Id email emailVerified name blocked appMetadata userMetadata }
}`;

/** A user in both Auth0 (the stand-in) and Postgres, equal on both sides. */
async function seedUser(options: { social?: boolean; on?: TestServer } = {}) {
  const auth0Id = `${options.social ? 'google-oauth2' : 'auth0'}|${randomUUID()}`;
  const updatedAt = new Date(Date.UTC(2026, 9, 1)).toISOString();
  const profile = { email: `${randomUUID().slice(0, 8)}@example.com`, email_verified: false, name: 'Ada', picture: 'https://example.com/ada.png' };
  mgmt.users.push({
    user_id: auth0Id,
    ...profile,
    blocked: false,
    app_metadata: { plan: 'free' },
    user_metadata: { theme: 'dark' },
    identities: [{ connection: options.social ? 'google-oauth2' : 'Username-Password-Authentication', isSocial: Boolean(options.social) }],
    updated_at: updatedAt,
  });
  await (options.on ?? server).prisma.user.create({
    data: {
      auth0Id,
      email: profile.email,
      emailVerified: false,
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
const callsTo = (auth0Id: string, method: string) => mgmt.calls.filter((call) => call.method === method && call.path === `/api/v2/users/${encodeURIComponent(auth0Id)}`);
const changes = (auth0Id: string) => server.prisma.userChange.findMany({ where: { auth0Id }, orderBy: { id: 'asc' } });
const updateToken = () => server.machineToken(['update:users']);

describe('updateUser', () => {
  it('changes the user in Auth0 and here, with the token fetched once and reused', async () => {
    const user = await seedUser();
    const tokenCallsBefore = mgmt.calls.filter((call) => call.path === '/oauth/token').length;
    const data = await expectData<{ updateUser: Record<string, unknown> }>(server, {
      query: UPDATE_USER,
      variables: { id: user.auth0Id, input: { email: 'new-ada@example.com', emailVerified: true, name: 'Ada L.', appMetadata: { plan: 'pro', trial: null } } },
      token: await updateToken(),
    });
    expect(data.updateUser).toEqual({
      auth0Id: user.auth0Id,
      email: 'new-ada@example.com',
      emailVerified: true,
      name: 'Ada L.',
      blocked: false,
      appMetadata: { plan: 'pro' },
      userMetadata: { theme: 'dark' },
    });
    expect(callsTo(user.auth0Id, 'PATCH').map((call) => call.body)).toEqual([
      { email: 'new-ada@example.com', email_verified: true, name: 'Ada L.', app_metadata: { plan: 'pro', trial: null } },
    ]);
    expect(inAuth0(user.auth0Id)).toMatchObject({ email: 'new-ada@example.com', email_verified: true, name: 'Ada L.', app_metadata: { plan: 'pro' } });
    const stored = await row(user.auth0Id);
    expect(stored).toMatchObject({ email: 'new-ada@example.com', emailVerified: true, name: 'Ada L.', appMetadata: { plan: 'pro' } });
    expect(stored.auth0UpdatedAt?.toISOString()).toBe(inAuth0(user.auth0Id)!.updated_at);
    expect((await changes(user.auth0Id)).map((change) => [change.source, change.status])).toEqual([['graphql', 'applied']]);

    await expectData(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { blocked: true } }, token: await updateToken() });
    expect(mgmt.calls.filter((call) => call.path === '/oauth/token').length - tokenCallsBefore).toBeLessThanOrEqual(1);
    expect((await row(user.auth0Id)).blocked).toBe(true);
    expect(inAuth0(user.auth0Id)!.blocked).toBe(true);
  });

  it('a revoked token (401) is refetched once and the change goes through', async () => {
    const user = await seedUser();
    await expectData(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Before rotation' } }, token: await updateToken() });
    const tokenCalls = mgmt.calls.filter((call) => call.path === '/oauth/token').length;
    mgmt.rotateToken();
    await expectData(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'After rotation' } }, token: await updateToken() });
    expect(mgmt.calls.filter((call) => call.path === '/oauth/token').length).toBe(tokenCalls + 1);
    expect(inAuth0(user.auth0Id)!.name).toBe('After rotation');
    expect((await row(user.auth0Id)).name).toBe('After rotation');
  });

  it("Auth0's 400 for an invalid email: AUTH0_REJECTED with Auth0's message, nothing changed on either side", async () => {
    const user = await seedUser();
    const before = await row(user.auth0Id);
    // Our own check accepts a quoted local part (RFC 5321); Auth0's does not.
    const email = '"ada lovelace"@example.com';
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { email, name: 'Not applied' } }, token: await updateToken() }, 'AUTH0_REJECTED');
    expect(error.message).toBe(`Payload validation error: 'Object didn't pass validation for format email: ${email}' on property email (The user's email).`);
    expect(error.extensions).toMatchObject({ auth0Status: 400, auth0ErrorCode: 'invalid_body' });
    expect(await row(user.auth0Id)).toEqual(before);
    expect(inAuth0(user.auth0Id)).toMatchObject({ email: user.email, name: 'Ada' });
    expect(await changes(user.auth0Id)).toEqual([expect.objectContaining({ status: 'rejected', errorStatus: 400 })]);
  });

  it("Auth0's 400 for a social user's email: AUTH0_REJECTED, nothing changed", async () => {
    const user = await seedUser({ social: true });
    const before = await row(user.auth0Id);
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { email: 'other@example.com' } }, token: await updateToken() }, 'AUTH0_REJECTED');
    expect(error.message).toBe('Cannot update email for this user');
    expect(await row(user.auth0Id)).toEqual(before);
    expect(inAuth0(user.auth0Id)!.email).toBe(user.email);
  });

  it('a 429 answers UNAVAILABLE with Auth0\'s Retry-After, is not retried, and changes nothing', async () => {
    const user = await seedUser();
    const before = await row(user.auth0Id);
    mgmt.failRequests(`/users/${encodeURIComponent(user.auth0Id)}`, 429, { 'retry-after': '17' }, 1);
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Rate limited' } }, token: await updateToken() }, 'UNAVAILABLE');
    expect(error.response.status).toBe(503);
    expect(error.response.headers['retry-after']).toBe('17');
    expect(callsTo(user.auth0Id, 'PATCH')).toHaveLength(1);
    expect(await row(user.auth0Id)).toEqual(before);
    expect(inAuth0(user.auth0Id)!.name).toBe('Ada');
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['cancelled']);
  });

  it('a 500 answers UNAVAILABLE, changes nothing here, and leaves the user to be converged', async () => {
    const user = await seedUser();
    const before = await row(user.auth0Id);
    mgmt.failRequests(`/users/${encodeURIComponent(user.auth0Id)}`, 500, {}, 1);
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Server error' } }, token: await updateToken() }, 'UNAVAILABLE');
    expect(error.response.status).toBe(503);
    expect(error.response.headers['retry-after']).toBeDefined();
    expect(callsTo(user.auth0Id, 'PATCH')).toHaveLength(1);
    expect(await row(user.auth0Id)).toEqual(before);
    expect(inAuth0(user.auth0Id)!.name).toBe('Ada');
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['uncertain']);
  });

  it('a Management API that never answers: UNAVAILABLE after the write timeout, the row lock released, nothing changed', async () => {
    const user = await seedUser();
    const before = await row(user.auth0Id);
    mgmt.hangRequests(`/users/${encodeURIComponent(user.auth0Id)}`, 1);
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Timed out' } }, token: await updateToken() }, 'UNAVAILABLE');
    expect(error.response.status).toBe(503);
    expect(await row(user.auth0Id)).toEqual(before);
    // The lock is gone: another change goes through at once.
    await expectData(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'After the timeout' } }, token: await updateToken() });
    expect(inAuth0(user.auth0Id)!.name).toBe('After the timeout');
    expect((await row(user.auth0Id)).name).toBe('After the timeout');
  });

  it('a commit that fails after Auth0 accepted: the row converges to Auth0 at once', async () => {
    const user = await seedUser();
    mgmt.beforeNextUserPatchAnswer(() => terminateOpenTransaction());
    const data = await expectData<{ updateUser: { name: string } }>(server, {
      query: UPDATE_USER,
      variables: { id: user.auth0Id, input: { name: 'Accepted by Auth0' } },
      token: await updateToken(),
    });
    expect(data.updateUser.name).toBe('Accepted by Auth0');
    expect(inAuth0(user.auth0Id)!.name).toBe('Accepted by Auth0');
    expect(await row(user.auth0Id)).toMatchObject({ name: 'Accepted by Auth0', auth0UpdatedAt: new Date(String(inAuth0(user.auth0Id)!.updated_at)) });
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['converged']);
  });

  it('a commit that fails after Auth0 accepted, with Auth0 unreachable right after: the worker converges it', async () => {
    const user = await seedUser();
    const path = `/users/${encodeURIComponent(user.auth0Id)}`;
    mgmt.beforeNextUserPatchAnswer(async () => {
      mgmt.failRequests(path, 503, {}, 1); // the immediate GET to converge
      await terminateOpenTransaction();
    });
    await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Accepted, not saved' } }, token: await updateToken() }, 'UNAVAILABLE');
    expect(inAuth0(user.auth0Id)!.name).toBe('Accepted, not saved');
    expect((await row(user.auth0Id)).name).toBe('Ada');
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['in_flight']);

    const counts = await pusher({ convergeAfterMs: 0 }).pushOnce();
    expect(counts.converged).toBeGreaterThanOrEqual(1);
    expect((await row(user.auth0Id)).name).toBe('Accepted, not saved');
    expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['converged']);
  });

  it('two concurrent updates of one user serialize: the second waits for the first, and both sides end equal', async () => {
    const user = await seedUser();
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstReachedAuth0!: () => void;
    const firstAtAuth0 = new Promise<void>((resolve) => (firstReachedAuth0 = resolve));
    mgmt.beforeNextUserPatchAnswer(async () => {
      firstReachedAuth0();
      await firstHeld;
    });
    const token = await updateToken();
    const first = graphql(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'First' } }, token });
    await firstAtAuth0;
    const second = graphql(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Second' } }, token });
    // The second waits on the row lock while the first is at Auth0: only one PATCH so far.
    await waitUntil(() => withClient(server.database.url, async (client) => (await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n === 1));
    expect(callsTo(user.auth0Id, 'PATCH')).toHaveLength(1);
    releaseFirst();
    const [a, b] = await Promise.all([first, second]);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect(callsTo(user.auth0Id, 'PATCH').map((call) => (call.body as { name: string }).name)).toEqual(['First', 'Second']);
    expect(inAuth0(user.auth0Id)!.name).toBe('Second');
    expect((await row(user.auth0Id)).name).toBe('Second');
  });

  it('a legacy user not migrated to Auth0 yet (a row with a password hash, issue 12) is refused without calling Auth0', async () => {
    const user = await seedUser();
    // Issue 12 adds password_hash; the write-back reads it by name, so the rule holds once it exists.
    await withClient(server.database.url, async (client) => {
      await client.query('ALTER TABLE users ADD COLUMN IF NOT EXISTS password_hash text');
      await client.query(`UPDATE users SET password_hash = '$2b$10$abcdefghijklmnopqrstuv' WHERE auth0_id = $1`, [user.auth0Id]);
    });
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Legacy' } }, token: await updateToken() }, 'BAD_USER_INPUT');
    expect(error.message).toContain('has not moved to Auth0 yet');
    expect(callsTo(user.auth0Id, 'PATCH')).toHaveLength(0);
    expect((await row(user.auth0Id)).name).toBe('Ada');
  });

  it('an unknown user answers NOT_FOUND and calls nothing', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    await expectError(server, { query: UPDATE_USER, variables: { id: auth0Id, input: { name: 'Nobody' } }, token: await updateToken() }, 'NOT_FOUND');
    expect(callsTo(auth0Id, 'PATCH')).toHaveLength(0);
  });

  it.each([
    ['a bad email', { email: 'not-an-email' }, 'input.email'],
    ['an empty name', { name: '' }, 'input.name'],
    ['a null field', { name: null }, 'input.name'],
    ['a picture that is not a URL', { picture: 'javascript:alert(1)' }, 'input.picture'],
    ['nothing to change', {}, 'input'],
  ])('bad input (%s) gets BAD_USER_INPUT naming the field, with nothing called and nothing written', async (_case, input, field) => {
    const user = await seedUser();
    const before = await row(user.auth0Id);
    const error = await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input }, token: await updateToken() }, 'BAD_USER_INPUT');
    expect(error.extensions?.field).toBe(field);
    expect(callsTo(user.auth0Id, 'PATCH')).toHaveLength(0);
    expect(await row(user.auth0Id)).toEqual(before);
    expect(await changes(user.auth0Id)).toEqual([]);
  });

  it('needs the update:users scope; an end user gets FORBIDDEN, even for themselves', async () => {
    const user = await seedUser();
    for (const token of [await server.machineToken(['create:users', 'read:users']), await server.userToken(user.auth0Id)]) {
      await expectError(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { name: 'Nope' } }, token }, 'FORBIDDEN');
    }
    expect(callsTo(user.auth0Id, 'PATCH')).toHaveLength(0);
  });
});

describe('updateMe', () => {
  const UPDATE_ME = 'mutation ($input: UpdateMeInput!) { updateMe(input: $input) { auth0Id name userMetadata } }';

  it('changes only the caller, in Auth0 and here', async () => {
    const me = await seedUser();
    const other = await seedUser();
    const data = await expectData<{ updateMe: Record<string, unknown> }>(server, {
      query: UPDATE_ME,
      variables: { input: { name: 'Me', userMetadata: { theme: 'light' } } },
      token: await server.userToken(me.auth0Id),
    });
    expect(data.updateMe).toEqual({ auth0Id: me.auth0Id, name: 'Me', userMetadata: { theme: 'light' } });
    expect(inAuth0(me.auth0Id)).toMatchObject({ name: 'Me', user_metadata: { theme: 'light' } });
    expect((await row(me.auth0Id)).userMetadata).toEqual({ theme: 'light' });
    expect(callsTo(other.auth0Id, 'PATCH')).toHaveLength(0);
    expect((await row(other.auth0Id)).name).toBe('Ada');
  });

  it('cannot change the email, blocked or app_metadata (not in its input), and a machine token gets FORBIDDEN', async () => {
    const me = await seedUser();
    const invalid = await graphql(server, { query: 'mutation { updateMe(input: { blocked: false }) { id } }', token: await server.userToken(me.auth0Id) });
    expect(invalid.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    await expectError(server, { query: UPDATE_ME, variables: { input: { name: 'Machine' } }, token: await server.machineToken(['update:users']) }, 'FORBIDDEN');
    expect(callsTo(me.auth0Id, 'PATCH')).toHaveLength(0);
  });
});

describe('deleteUser', () => {
  const DELETE_USER = 'mutation ($id: String!) { deleteUser(auth0Id: $id) { auth0Id deletedAt } }';

  it('deletes in Auth0, then marks the user deleted here, keeping their data; their token then gets FORBIDDEN', async () => {
    const user = await seedUser();
    const data = await expectData<{ deleteUser: { auth0Id: string; deletedAt: string } }>(server, {
      query: DELETE_USER,
      variables: { id: user.auth0Id },
      token: await server.machineToken(['delete:users']),
    });
    expect(data.deleteUser.auth0Id).toBe(user.auth0Id);
    expect(inAuth0(user.auth0Id)).toBeUndefined();
    expect(callsTo(user.auth0Id, 'DELETE')).toHaveLength(1);
    expect(await row(user.auth0Id)).toMatchObject({ email: user.email, deletedAt: new Date(data.deleteUser.deletedAt) });
    await expectError(server, { query: '{ me { id } }', token: await server.userToken(user.auth0Id) }, 'FORBIDDEN');
  });

  it('a user Auth0 no longer knows (204) is marked deleted here too', async () => {
    const auth0Id = `auth0|${randomUUID()}`;
    await expectData(server, { query: DELETE_USER, variables: { id: auth0Id }, token: await server.machineToken(['delete:users']) });
    expect(callsTo(auth0Id, 'DELETE')).toHaveLength(1);
    expect((await row(auth0Id)).deletedAt).not.toBeNull();
  });

  it('Auth0 failing (500) leaves the user in place here', async () => {
    const user = await seedUser();
    mgmt.failRequests(`/users/${encodeURIComponent(user.auth0Id)}`, 500, {}, 1);
    await expectError(server, { query: DELETE_USER, variables: { id: user.auth0Id }, token: await server.machineToken(['delete:users']) }, 'UNAVAILABLE');
    expect((await row(user.auth0Id)).deletedAt).toBeNull();
    expect(inAuth0(user.auth0Id)).toBeDefined();
  });

  it('needs the delete:users scope', async () => {
    const user = await seedUser();
    await expectError(server, { query: DELETE_USER, variables: { id: user.auth0Id }, token: await server.machineToken(['update:users']) }, 'FORBIDDEN');
    expect(callsTo(user.auth0Id, 'DELETE')).toHaveLength(0);
  });
});

describe('no echo', () => {
  const logEvent = (type: string, auth0Id: string, date: string, extra: Record<string, unknown> = {}) => ({
    log_id: `90${randomUUID().replace(/-/g, '')}`,
    data: { type, date, user_id: auth0Id, ...extra },
  });

  it('the log stream delivering our own change back neither bounces it to Auth0 nor overwrites it with older data', async () => {
    const user = await seedUser();
    const writtenAt = new Date();
    await expectData(server, { query: UPDATE_USER, variables: { id: user.auth0Id, input: { email: 'changed@example.com' } }, token: await updateToken() });
    const patches = callsTo(user.auth0Id, 'PATCH').length;
    // Auth0's record of our own Management API call, and a login from just before it, with the old address.
    const response = await server
      .request()
      .post('/webhooks/auth0-logs')
      .set('authorization', `Bearer ${LOG_STREAM_TOKEN}`)
      .send([
        logEvent('sapi', user.auth0Id, new Date(writtenAt.getTime() + 5).toISOString(), { description: 'Update a user' }),
        logEvent('s', user.auth0Id, new Date(writtenAt.getTime() - 1000).toISOString(), { user_name: user.email }),
      ]);
    expect(response.body).toEqual({ applied: 1, duplicates: 0, ignored: 1, invalid: 0 });
    expect((await row(user.auth0Id)).email).toBe('changed@example.com');
    const pusherCounts = await pusher({ convergeAfterMs: 60_000 }).pushOnce();
    expect(pusherCounts.sent).toBe(0);
    expect(callsTo(user.auth0Id, 'PATCH')).toHaveLength(patches);
    expect((await changes(user.auth0Id)).map((change) => change.source)).toEqual(['graphql']);
  });

  it('addUser (Auth0\'s own profile from the Action) is never pushed back', async () => {
    const user = await seedUser();
    await expectData(server, {
      query: 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }',
      variables: { input: { auth0Id: user.auth0Id, name: 'From the Action', emailVerified: true } },
      token: await server.machineToken(['create:users']),
    });
    expect((await row(user.auth0Id)).name).toBe('From the Action');
    expect(await changes(user.auth0Id)).toEqual([]);
  });
});

function pusher(options: { convergeAfterMs: number }) {
  const api = new Auth0UsersApi({ domain: mgmt.domain, clientId: mgmt.client.id, clientSecret: mgmt.client.secret, origin: mgmt.origin, timeoutMs: 2000 });
  return new UserChangesPusher(server.prisma, api, { ...options, auth0TimeoutMs: 2000, statementTimeoutMs: 5000, logger: createLogger({ level: 'silent', pretty: false }) });
}

/** Ends the one transaction open on the test database (the write-back's), as a crash or a failover would. */
async function terminateOpenTransaction(): Promise<void> {
  const terminated = await withClient(server.database.url, async (client) =>
    (await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`)).rowCount,
  );
  if (terminated !== 1) throw new Error(`expected one open transaction, terminated ${terminated}`);
}

describe('configuration', () => {
  const base = { AUTH0_DOMAIN: 'tenant.example.auth0.com', AUTH0_AUDIENCE: 'https://api.example.com/' };

  it('needs both Management API credentials, and a write timeout shorter than the statement timeout, said in one message', () => {
    expect(() => loadConfig({ ...base, AUTH0_MGMT_CLIENT_ID: 'id', AUTH0_WRITE_TIMEOUT_MS: '6000' })).toThrow(
      /AUTH0_MGMT_CLIENT_ID, AUTH0_MGMT_CLIENT_SECRET: set both[\s\S]*AUTH0_WRITE_TIMEOUT_MS: must be less than DATABASE_STATEMENT_TIMEOUT_MS/,
    );
  });

  it('enables the write-back only with the credentials, with the scopes configurable', () => {
    expect(loadConfig(base).writeBack).toBeUndefined();
    const config = loadConfig({ ...base, AUTH0_MGMT_CLIENT_ID: 'id', AUTH0_MGMT_CLIENT_SECRET: 'secret', AUTH0_UPDATE_USERS_SCOPE: 'write:people', AUTH0_DELETE_USERS_SCOPE: 'remove:people' });
    expect(config.writeBack?.management).toMatchObject({ domain: 'tenant.example.auth0.com', clientId: 'id', timeoutMs: 3000 });
    expect(config.auth).toMatchObject({ updateUsersScope: 'write:people', deleteUsersScope: 'remove:people' });
  });

  it('lets half the database pool write back at once unless WRITE_BACK_MAX_IN_FLIGHT says otherwise, and refuses a value that is not a positive integer', () => {
    const enabled = { ...base, AUTH0_MGMT_CLIENT_ID: 'id', AUTH0_MGMT_CLIENT_SECRET: 'secret' };
    expect(loadConfig(enabled).writeBack?.maxInFlight).toBe(5);
    expect(loadConfig({ ...enabled, DATABASE_POOL_SIZE: '3' }).writeBack?.maxInFlight).toBe(1);
    expect(loadConfig({ ...enabled, DATABASE_POOL_SIZE: '1' }).writeBack?.maxInFlight).toBe(1);
    expect(loadConfig({ ...enabled, WRITE_BACK_MAX_IN_FLIGHT: '8' }).writeBack?.maxInFlight).toBe(8);
    expect(() => loadConfig({ ...enabled, WRITE_BACK_MAX_IN_FLIGHT: '0' })).toThrow(/WRITE_BACK_MAX_IN_FLIGHT/);
    expect(() => loadConfig({ ...enabled, WRITE_BACK_MAX_IN_FLIGHT: 'many' })).toThrow(/WRITE_BACK_MAX_IN_FLIGHT/);
  });
});

describe('write-backs under way at once', () => {
  let capped: TestServer;
  beforeAll(async () => {
    capped = await startTestServer({ env: { ...mgmt.env, AUTH0_WRITE_TIMEOUT_MS: '2000', WRITE_BACK_MAX_IN_FLIGHT: '1', DATABASE_POOL_TIMEOUT_MS: '300' } });
  });
  afterAll(() => capped.close());
  const cappedRow = (auth0Id: string) => capped.prisma.user.findUniqueOrThrow({ where: { auth0Id } });

  it('one more than WRITE_BACK_MAX_IN_FLIGHT waits, then gets UNAVAILABLE with nothing changed; first logins and reads go on meanwhile', async () => {
    const [held, refused] = [await seedUser({ on: capped }), await seedUser({ on: capped })];
    const token = await capped.machineToken(['update:users']);
    mgmt.hangRequests(`/users/${encodeURIComponent(held.auth0Id)}`, 1);
    const first = graphql(capped, { query: UPDATE_USER, variables: { id: held.auth0Id, input: { name: 'Held' } }, token });
    await waitUntil(async () => callsTo(held.auth0Id, 'PATCH').length === 1);

    const error = await expectError(capped, { query: UPDATE_USER, variables: { id: refused.auth0Id, input: { name: 'Refused' } }, token }, 'UNAVAILABLE');
    expect(error.response.status).toBe(503);
    expect(error.message).toBe('Too many changes to Auth0 are under way; retry shortly.');
    expect(callsTo(refused.auth0Id, 'PATCH')).toEqual([]);
    expect(await capped.prisma.userChange.findMany({ where: { auth0Id: refused.auth0Id } })).toEqual([]);
    expect((await cappedRow(refused.auth0Id)).name).toBe('Ada');

    // The connections the write-backs do not hold still serve the Action's addUser.
    const newcomer = `auth0|${randomUUID()}`;
    const added = await expectData<{ addUser: { created: boolean } }>(capped, { query: 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }', variables: { input: { auth0Id: newcomer } }, token: await capped.machineToken(['create:users']) });
    expect(added.addUser.created).toBe(true);

    // The held one ends (Auth0 never answered: UNAVAILABLE after the write timeout) and frees its place.
    expect((await first).status).toBe(503);
    await expectData(capped, { query: UPDATE_USER, variables: { id: refused.auth0Id, input: { name: 'Now through' } }, token });
    expect((await cappedRow(refused.auth0Id)).name).toBe('Now through');
  });
});
