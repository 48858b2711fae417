// Changes made with SQL reach Auth0 (npm run users:push, and the worker); a refusal restores the row and is recorded.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import pino from 'pino';
import { Auth0UsersApi } from '../src/modules/users/auth0-users-api';
import { UserChangesPusher } from '../src/modules/users/user-changes-pusher';
import { createSyncWriterPool } from '../src/modules/users/user-sync-writes';
import { upsertUsers } from '../src/modules/users/users-bulk-upsert';
import { withClient } from './support/database';
import { expectData } from './support/graphql';
import { startManagementApi, type ManagementApiStandIn } from './support/management-api';
import { freePort } from './support/free-port';
import { TEST_AUDIENCE } from './support/issuer';
import { ROOT, startServerProcess } from './support/server-process';
import { startTestServer, type TestServer } from './support/server';
import { waitUntil } from './support/wait-until';

const run = promisify(execFile);
let mgmt: ManagementApiStandIn;
let server: TestServer;
beforeAll(async () => {
  mgmt = await startManagementApi();
  server = await startTestServer({
    env: mgmt.env,
  });
});
afterAll(async () => {
  await server.close();
  await mgmt.close();
});

/** `social`: a Google user (connection google-oauth2, profile synced at each login by default). */
async function seedUser(options: { social?: boolean; emailVerified?: boolean } = {}) {
  const auth0Id = `${options.social ? 'google-oauth2' : 'auth0'}|${randomUUID()}`;
  const email = `${randomUUID().slice(0, 8)}@example.com`;
  const emailVerified = options.emailVerified ?? false;
  const updatedAt = '2026-10-01T00:00:00.000Z';
  const identity = options.social ? { provider: 'google-oauth2', connection: 'google-oauth2', isSocial: true } : { isSocial: false };
  mgmt.users.push({ user_id: auth0Id, email, email_verified: emailVerified, name: 'Grace', blocked: false, app_metadata: { plan: 'free', seats: 1 }, identities: [identity], updated_at: updatedAt });
  await server.prisma.user.create({ data: { auth0Id, email, emailVerified, name: 'Grace', appMetadata: { plan: 'free', seats: 1 }, auth0UpdatedAt: new Date(updatedAt) } });
  return { auth0Id, email };
}

/** What an app does from psql or its own ORM: plain SQL on its own connection. */
const sql = (text: string, values: unknown[]) => withClient(server.database.url, (client) => client.query(text, values));
const row = (auth0Id: string) => server.prisma.user.findUniqueOrThrow({ where: { auth0Id } });
const inAuth0 = (auth0Id: string) => mgmt.users.find((user) => user.user_id === auth0Id)!;
const patches = (auth0Id: string) => mgmt.calls.filter((call) => call.method === 'PATCH' && call.path === `/api/v2/users/${encodeURIComponent(auth0Id)}`);
const changes = (auth0Id: string) => server.prisma.userChange.findMany({ where: { auth0Id }, orderBy: { id: 'asc' } });

function pusher() {
  const api = new Auth0UsersApi({ domain: mgmt.domain, clientId: mgmt.client.id, clientSecret: mgmt.client.secret, origin: mgmt.origin, timeoutMs: 2000 });
  return new UserChangesPusher(server.prisma, api, { convergeAfterMs: 60_000, auth0TimeoutMs: 2000, statementTimeoutMs: 5000, logger: pino({ level: 'silent' }) });
}

async function usersPush(): Promise<{ code: number; out: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: server.database.url,
    ...mgmt.env,
    AUTH0_AUDIENCE: 'https://api.example.com/',
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/users-push.ts'], { cwd: ROOT, env });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

it('an UPDATE from SQL is recorded by the trigger and npm run users:push sends it to Auth0', async () => {
  const user = await seedUser();
  await sql(`UPDATE users SET email_verified = true WHERE auth0_id = $1`, [user.auth0Id]);
  await sql(`UPDATE users SET app_metadata = '{"plan": "pro"}' WHERE auth0_id = $1`, [user.auth0Id]);
  expect((await changes(user.auth0Id)).map((change) => [change.source, change.status, change.changes])).toEqual([
    ['sql', 'pending', { email_verified: true }],
    ['sql', 'pending', { app_metadata: { plan: 'pro' } }],
  ]);
  const result = await usersPush();
  expect(result.out).toContain('users:push: ');
  expect(result.code).toBe(0);
  // Auth0 merges metadata key by key: the key removed here is sent as null, so both sides hold the same object.
  expect(patches(user.auth0Id).map((call) => call.body)).toEqual([{ email_verified: true }, { app_metadata: { plan: 'pro', seats: null } }]);
  expect(inAuth0(user.auth0Id)).toMatchObject({ email_verified: true, app_metadata: { plan: 'pro' } });
  expect(await row(user.auth0Id)).toMatchObject({ emailVerified: true, appMetadata: { plan: 'pro' } });
  expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['sent', 'sent']);
  // Nothing is left: a second pass sends nothing.
  await pusher().pushOnce();
  expect(patches(user.auth0Id)).toHaveLength(2);
});

it('Auth0 refusing a SQL change: the row goes back to its previous values, and the refusal is recorded for the app and the back office', async () => {
  const user = await seedUser();
  await sql(`UPDATE users SET email = $2, name = 'Grace H.' WHERE auth0_id = $1`, [user.auth0Id, '"grace hopper"@example.com']);
  expect((await row(user.auth0Id)).email).toBe('"grace hopper"@example.com');
  const result = await usersPush();
  expect(result.code).toBe(0);
  expect(result.out).toContain('1 refused (restored)');
  expect(await row(user.auth0Id)).toMatchObject({ email: user.email, name: 'Grace' });
  expect(inAuth0(user.auth0Id)).toMatchObject({ email: user.email, name: 'Grace' });
  const [refused] = await changes(user.auth0Id);
  expect(refused).toMatchObject({ status: 'refused', errorStatus: 400 });
  expect(refused!.error).toContain("Object didn't pass validation for format email");
  // The restore is the sync's own write: it is not recorded as a new change.
  expect(await changes(user.auth0Id)).toHaveLength(1);

  const data = await expectData<{ userChanges: Array<{ source: string; status: string; error: string; changes: unknown }> }>(server, {
    query: 'query ($id: String!) { userChanges(auth0Id: $id) { source status error errorStatus changes } }',
    variables: { id: user.auth0Id },
    token: await server.machineToken(['read:users']),
  });
  expect(data.userChanges).toEqual([
    { source: 'sql', status: 'refused', error: refused!.error, errorStatus: 400, changes: { email: '"grace hopper"@example.com', name: 'Grace H.' } },
  ]);
});

it("an email change pushed from SQL stores Auth0's whole answer: the new address is unverified here as in Auth0", async () => {
  const user = await seedUser({ emailVerified: true });
  await sql(`UPDATE users SET email = 'moved@example.com' WHERE auth0_id = $1`, [user.auth0Id]);
  expect(await pusher().pushOnce()).toMatchObject({ sent: 1 });
  expect(inAuth0(user.auth0Id)).toMatchObject({ email: 'moved@example.com', email_verified: false });
  expect(await row(user.auth0Id)).toMatchObject({ email: 'moved@example.com', emailVerified: false });
  // Storing Auth0's answer is the sync's own write: nothing new to push.
  expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['sent']);
});

it("a Google user's name changed with SQL while the connection syncs profiles at each login: restored, and the refusal says why and what to do", async () => {
  const user = await seedUser({ social: true });
  await sql(`UPDATE users SET name = 'Grace H.' WHERE auth0_id = $1`, [user.auth0Id]);
  expect(await pusher().pushOnce()).toMatchObject({ refused: 1 });
  expect((await row(user.auth0Id)).name).toBe('Grace');
  expect(inAuth0(user.auth0Id).name).toBe('Grace');
  const [refused] = await changes(user.auth0Id);
  expect(refused).toMatchObject({ status: 'refused', errorStatus: 400 });
  expect(refused!.error).toContain('PROFILE_SYNCED_FROM_IDP');
  expect(refused!.error).toContain('google-oauth2');
  expect(refused!.error).toContain("'Sync user profile attributes at each login'");
});

it('a value the app overwrote before it was sent is never sent: that change is superseded by the newer one', async () => {
  const user = await seedUser();
  await sql(`UPDATE users SET email = $2 WHERE auth0_id = $1`, [user.auth0Id, '"bad address"@example.com']);
  await sql(`UPDATE users SET email = $2 WHERE auth0_id = $1`, [user.auth0Id, 'good@example.com']);
  await pusher().pushOnce();
  expect((await changes(user.auth0Id)).map((change) => change.status)).toEqual(['superseded', 'sent']);
  expect(patches(user.auth0Id).map((call) => call.body)).toEqual([{ email: 'good@example.com' }]);
  expect((await row(user.auth0Id)).email).toBe('good@example.com');
  expect(inAuth0(user.auth0Id).email).toBe('good@example.com');
});

it('a GraphQL change made after a pending SQL change wins on its column, and the SQL change to another column is still sent', async () => {
  const user = await seedUser();
  await sql(`UPDATE users SET name = 'From SQL', email_verified = true WHERE auth0_id = $1`, [user.auth0Id]);
  await expectData(server, {
    query: 'mutation ($id: String!) { updateUser(auth0Id: $id, input: { name: "From GraphQL" }) { name } }',
    variables: { id: user.auth0Id },
    token: await server.machineToken(['update:users']),
  });
  const counts = await pusher().pushOnce();
  expect(counts).toMatchObject({ sent: 1, refused: 0 });
  expect(patches(user.auth0Id).map((call) => call.body)).toEqual([{ name: 'From GraphQL' }, { email_verified: true }]);
  expect(inAuth0(user.auth0Id)).toMatchObject({ name: 'From GraphQL', email_verified: true });
  expect(await row(user.auth0Id)).toMatchObject({ name: 'From GraphQL', emailVerified: true });
});

it('Auth0 rate limiting the push: the change waits, with Retry-After, and the row keeps the app\'s value', async () => {
  const user = await seedUser();
  await sql(`UPDATE users SET name = 'Later' WHERE auth0_id = $1`, [user.auth0Id]);
  mgmt.failRequests(`/users/${encodeURIComponent(user.auth0Id)}`, 429, { 'retry-after': '30' }, 1);
  expect(await pusher().pushOnce()).toEqual({ sent: 0, refused: 0, converged: 0, awaitingAuth0: 0, deferred: 1 });
  const [waiting] = await changes(user.auth0Id);
  expect(waiting).toMatchObject({ status: 'pending', attempts: 1 });
  expect(waiting!.nextAttemptAt.getTime()).toBeGreaterThan(waiting!.updatedAt.getTime() + 29_000);
  expect((await row(user.auth0Id)).name).toBe('Later');
  expect(inAuth0(user.auth0Id).name).toBe('Grace');
});

it('a running worker (UserChangesPusher.start) sends changes as they are made', async () => {
  const user = await seedUser();
  const worker = pusher().start(20);
  try {
    await sql(`UPDATE users SET blocked = true WHERE auth0_id = $1`, [user.auth0Id]);
    await waitUntil(async () => (await changes(user.auth0Id)).map((change) => change.status).join() === 'sent');
  } finally {
    await worker.stop();
  }
  expect(inAuth0(user.auth0Id).blocked).toBe(true);
});

it('npm start runs the worker: a SQL change reaches Auth0 without any command, and SIGTERM stops it cleanly', async () => {
  const user = await seedUser();
  const port = await freePort();
  const process_ = startServerProcess({
    PORT: String(port),
    DATABASE_URL: server.database.url,
    AUTH0_ISSUER_BASE_URL: server.issuer.url,
    AUTH0_AUDIENCE: TEST_AUDIENCE,
    ...mgmt.env,
    USERS_PUSH_INTERVAL_MS: '50',
  });
  try {
    await process_.waitForOutput(/GraphQL API ready/);
    await sql(`UPDATE users SET name = 'Pushed by the server' WHERE auth0_id = $1`, [user.auth0Id]);
    await waitUntil(async () => (await changes(user.auth0Id)).map((change) => change.status).join() === 'sent', 30_000);
    expect(inAuth0(user.auth0Id).name).toBe('Pushed by the server');
  } finally {
    process_.signal('SIGTERM');
    expect(await process_.exited).toBe(0);
  }
});

it('never records changes of a deleted user, nor of a legacy user not migrated to Auth0 yet (a row with a password hash)', async () => {
  const deleted = await seedUser();
  await sql(`UPDATE users SET deleted_at = now() WHERE auth0_id = $1`, [deleted.auth0Id]);
  await sql(`UPDATE users SET name = 'Gone' WHERE auth0_id = $1`, [deleted.auth0Id]);
  expect(await changes(deleted.auth0Id)).toEqual([]);

  // Issue 12 adds password_hash; the trigger reads it by name, so the rule holds once it exists.
  const legacy = await seedUser();
  await sql(`ALTER TABLE users ADD COLUMN IF NOT EXISTS password_hash text`, []);
  await sql(`UPDATE users SET password_hash = '$2b$10$abcdefghijklmnopqrstuv', name = 'Legacy' WHERE auth0_id = $1`, [legacy.auth0Id]);
  expect(await changes(legacy.auth0Id)).toEqual([]);
  await sql(`UPDATE users SET password_hash = NULL WHERE auth0_id = $1`, [legacy.auth0Id]);
});

it('reconcile bringing back an older copy of a user than the one stored here changes nothing and pushes nothing', async () => {
  const user = await seedUser();
  await sql(`UPDATE users SET name = 'Newer here', auth0_updated_at = '2026-11-01T00:00:00Z' WHERE auth0_id = $1`, [user.auth0Id]);
  await server.prisma.userChange.deleteMany({ where: { auth0Id: user.auth0Id } });
  const pool = createSyncWriterPool(server.database.url, 1);
  try {
    const stale = { auth0Id: user.auth0Id, email: user.email, emailVerified: false, name: 'Older in the search', picture: null, connection: null, loginsCount: 0, lastLoginMs: null };
    const counts = await upsertUsers(pool, [{ ...stale, auth0UpdatedMs: Date.parse('2026-10-15T00:00:00Z') }]);
    expect(counts).toEqual({ created: 0, updated: 0, unchanged: 1 });
    expect((await row(user.auth0Id)).name).toBe('Newer here');

    await upsertUsers(pool, [{ ...stale, name: 'Newest in Auth0', auth0UpdatedMs: Date.parse('2026-11-02T00:00:00Z') }]);
    expect(await row(user.auth0Id)).toMatchObject({ name: 'Newest in Auth0', auth0UpdatedAt: new Date('2026-11-02T00:00:00Z') });
  } finally {
    await pool.end();
  }
  expect(await changes(user.auth0Id)).toEqual([]);
});
