// Write-back on a laptop: the dev server plays the Management API over the simulated tenant that login:simulate fills.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import supertest from 'supertest';
import { createDevIssuer, loadOrCreateDevIssuerState, type DevIssuer } from '../src/auth/dev-issuer';
import { DEV_AUDIENCE } from '../src/config';
import { SimulatedTenant, tenantFileUsersStore, withTenantFileLock, type TenantUser } from '../src/action-runtime/simulated-tenant';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { ROOT, startServerProcess, type ServerProcess } from './support/server-process';
import { waitUntil } from './support/wait-until';

const run = promisify(execFile);
let database: TestDatabase;
let dir: string;
let tenantFile: string;
let issuerDir: string;
let server: ServerProcess;
let api: supertest.Agent;
let issuer: DevIssuer;
let port: number;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-tenant-'));
  issuerDir = path.join(dir, 'issuer');
  tenantFile = path.join(dir, 'tenant.json');
  port = await freePort();
  // No AUTH0_DOMAIN and no Management API settings: the development defaults.
  server = startServerProcess({ PORT: String(port), DATABASE_URL: database.url, DEV_ISSUER_DIR: issuerDir, SIMULATED_TENANT_FILE: tenantFile, USERS_PUSH_INTERVAL_MS: '200' });
  await server.waitForOutput(/GraphQL API ready/);
  api = supertest.agent(`http://127.0.0.1:${port}`);
  issuer = await createDevIssuer({ issuer: `http://localhost:${port}/`, audience: DEV_AUDIENCE, state: await loadOrCreateDevIssuerState(issuerDir) });
});
afterAll(async () => {
  server?.signal('SIGTERM');
  await server?.exited;
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: database.url, DEV_ISSUER_DIR: issuerDir, SIMULATED_TENANT_FILE: tenantFile, AUTH0_DOMAIN: '', AUTH0_ISSUER_BASE_URL: '', PORT: '' });
const simulateLogin = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/login-simulate.ts', ...args], { cwd: ROOT, env: env() });
// The simulated tenant of the server's issuer: the one login:simulate signs into and the local Management API changes.
const inTenant = (userId: string): TenantUser | undefined =>
  (JSON.parse(fs.readFileSync(tenantFile, 'utf8')) as TenantsFile).tenants[`http://localhost:${port}/`]?.users.find((user) => user.user_id === userId);

interface TenantsFile {
  tenants: Record<string, { users: TenantUser[] } | undefined>;
}

async function gql(token: string, query: string, variables: Record<string, unknown>) {
  const response = await api.post('/graphql').set('authorization', `Bearer ${token}`).send({ query, variables });
  return response.body as { data?: Record<string, Record<string, unknown>>; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
}

/** A user signed up through login:simulate, in the simulated tenant and (through the Action's addUser) in Postgres. */
async function signUp(connection: string, email: string): Promise<string> {
  const { stdout } = await simulateLogin('--connection', connection, '--email', email, '--name', 'Ada');
  const userId = /Simulated login #1 of (\S+)/.exec(stdout)?.[1];
  if (!userId) throw new Error(`no user id in:\n${stdout}`);
  return userId;
}

it('updateMe, updateUser, deleteUser and an SQL UPDATE change the simulated tenant, with no configuration', async () => {
  const userId = await signUp('Username-Password-Authentication', `ada-${Date.now()}@example.com`);
  const machine = await issuer.sign({ kind: 'machine', scopes: ['update:users', 'delete:users'] });

  const me = await gql(await issuer.sign({ kind: 'user', sub: userId }), 'mutation ($input: UpdateMeInput!) { updateMe(input: $input) { name } }', { input: { name: 'Ada L.' } });
  expect(me.errors).toBeUndefined();
  expect(inTenant(userId)?.name).toBe('Ada L.');

  const updated = await gql(machine, 'mutation ($id: String!, $input: UpdateUserInput!) { updateUser(auth0Id: $id, input: $input) { email } }', {
    id: userId,
    input: { email: 'ada.lovelace@example.com' },
  });
  expect(updated.errors).toBeUndefined();
  expect(inTenant(userId)?.email).toBe('ada.lovelace@example.com');

  await withClient(database.url, (client) => client.query(`UPDATE users SET user_metadata = '{"theme":"dark"}' WHERE auth0_id = $1`, [userId]));
  await waitUntil(async () => inTenant(userId)?.user_metadata.theme === 'dark');
  // A later login keeps what the write-back changed (login:simulate re-reads the file under its lock).
  await simulateLogin('--connection', 'Username-Password-Authentication', '--user-id', userId, '--email', 'ada.lovelace@example.com');
  expect(inTenant(userId)).toMatchObject({ name: 'Ada L.', email: 'ada.lovelace@example.com', logins_count: 2, user_metadata: { theme: 'dark' } });

  const deleted = await gql(machine, 'mutation ($id: String!) { deleteUser(auth0Id: $id) { auth0Id } }', { id: userId });
  expect(deleted.errors).toBeUndefined();
  expect(inTenant(userId)).toBeUndefined();
});

it("Auth0's refusals: a social user's email change is refused and rolled back, and so is an SQL UPDATE of it", async () => {
  const userId = await signUp('google-oauth2', `grace-${Date.now()}@example.com`);
  const before = inTenant(userId)!.email;
  const machine = await issuer.sign({ kind: 'machine', scopes: ['update:users'] });
  const refused = await gql(machine, 'mutation ($id: String!, $input: UpdateUserInput!) { updateUser(auth0Id: $id, input: $input) { email } }', {
    id: userId,
    input: { email: 'grace@elsewhere.example' },
  });
  expect(refused.errors?.[0]).toMatchObject({ message: 'Cannot update email for this user', extensions: { code: 'AUTH0_REJECTED', auth0Status: 400 } });
  expect(inTenant(userId)?.email).toBe(before);

  await withClient(database.url, (client) => client.query(`UPDATE users SET email = 'grace@elsewhere.example' WHERE auth0_id = $1`, [userId]));
  await waitUntil(async () =>
    withClient(database.url, async (client) => (await client.query(`SELECT status FROM user_changes WHERE auth0_id = $1 AND source = 'sql'`, [userId])).rows[0]?.status === 'refused'),
  );
  const row = await withClient(database.url, async (client) => (await client.query(`SELECT email FROM users WHERE auth0_id = $1`, [userId])).rows[0]);
  expect(row.email).toBe(before);
  expect(inTenant(userId)?.email).toBe(before);
});

it('the local Management API refuses a token it did not grant for its audience', async () => {
  const apiToken = await issuer.sign({ kind: 'machine', scopes: ['update:users'] });
  await api.get('/api/v2/users/auth0%7Cnobody').set('authorization', `Bearer ${apiToken}`).expect(401);
});

it('two processes writing the tenant file under its lock never lose each other', async () => {
  const file = path.join(dir, 'locked.json');
  fs.writeFileSync(file, JSON.stringify({ count: 0 }));
  const bump = `
    const fs = require('node:fs');
    const { withTenantFileLock } = require(${JSON.stringify(path.join(ROOT, 'src/action-runtime/simulated-tenant.ts'))});
    for (let i = 0; i < 50; i++) withTenantFileLock(${JSON.stringify(file)}, () => {
      const { count } = JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8'));
      fs.writeFileSync(${JSON.stringify(file)}, JSON.stringify({ count: count + 1 }));
    });`;
  await Promise.all([1, 2].map(() => run(process.execPath, ['--import', 'tsx', '-e', bump], { cwd: ROOT })));
  withTenantFileLock(file, () => expect(JSON.parse(fs.readFileSync(file, 'utf8')).count).toBe(100));
});

it("a login saved after the local Management API changed the user keeps both: the server's change and the login's", () => {
  const file = path.join(dir, 'merge.json');
  const user = { user_id: 'auth0|merge', connection: 'Username-Password-Authentication', email: 'old@example.com', logins_count: 1, created_at: '2026-12-01T00:00:00.000Z', app_metadata: {}, user_metadata: { theme: 'light' } };
  const issuer = 'http://localhost:4000/';
  fs.writeFileSync(file, JSON.stringify({ tenants: { [issuer]: { users: [user] } } }));
  const login = new SimulatedTenant({ path: file, issuer }); // login:simulate reads the file...
  // ...the server's Management API changes the user meanwhile...
  tenantFileUsersStore({ path: file, issuer }).transact((users) => users.put({ ...users.find('auth0|merge')!, email: 'new@example.com', user_metadata: { theme: 'dark' } }));
  // ...and the login (an Action setting app_metadata) is saved.
  const signedIn = login.signIn({ user_id: 'auth0|merge', connection: 'Username-Password-Authentication' });
  signedIn.app_metadata.provisioned = true;
  login.save();
  login.save();
  const saved = (JSON.parse(fs.readFileSync(file, 'utf8')) as TenantsFile).tenants[issuer]!.users[0];
  expect(saved).toMatchObject({ email: 'new@example.com', user_metadata: { theme: 'dark' }, app_metadata: { provisioned: true }, logins_count: 2 });
});
