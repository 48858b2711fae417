// The custom database scripts, run as Auth0 runs them (a sandbox, configuration, global, the
// callback), against the real server and a stand-in issuer over HTTP; then the whole simulated
// first login, its races and the missing-metadata repair, each checked in Postgres.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { loginThroughCustomDb, type CustomDbConnection } from '../src/action-runtime/custom-db-login';
import { compileScript, newContainer, runCustomDbScript, type ScriptContainer } from '../src/action-runtime/run-custom-db-script';
import { runPostLogin } from '../src/action-runtime/run-post-login';
import { SimulatedTenant } from '../src/action-runtime/simulated-tenant';
import { createLegacyUser } from './support/legacy';
import { freePort } from './support/free-port';
import { TEST_AUDIENCE } from './support/issuer';
import { startTestServer, type TestServer } from './support/server';

const ROOT = path.resolve(__dirname, '..');
const LOGIN = path.join(ROOT, 'actions/custom-db/login.js');
const GET_USER = path.join(ROOT, 'actions/custom-db/get-user.js');
const POST_LOGIN = path.join(ROOT, 'actions/post-login.js');

let server: TestServer;
let configuration: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer();
  configuration = {
    AUTH0_DOMAIN: server.issuer.url,
    CLIENT_ID: server.issuer.state.client.id,
    CLIENT_SECRET: server.issuer.state.client.secret,
    API_AUDIENCE: TEST_AUDIENCE,
    API_URL: server.graphqlUrl,
  };
});
afterAll(() => server.close());

const legacy = (options: Parameters<typeof createLegacyUser>[1] = {}) => createLegacyUser(server.database.url, options);
const runLogin = (email: string, password: string, container: ScriptContainer = newContainer(), config = configuration) =>
  runCustomDbScript({ file: LOGIN, args: [email, password], configuration: config, container });
const runGetUser = (email: string, container: ScriptContainer = newContainer(), config = configuration) =>
  runCustomDbScript({ file: GET_USER, args: [email], configuration: config, container });

function expectNoSecrets(text: string, password?: string) {
  expect(text).not.toContain(configuration.CLIENT_SECRET);
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  if (password) expect(text).not.toContain(password);
}

describe('the scripts are stored as Auth0 stores them', () => {
  it.each([LOGIN, GET_USER])('%s is exactly one function, under 100 kB, with no module.exports', (file) => {
    const fn = compileScript(file, vm.createContext({}));
    expect(typeof fn).toBe('function');
    expect(fs.readFileSync(file, 'utf8')).not.toMatch(/module\.exports|require\(/);
  });

  it('the runtime refuses a file with a second top-level function, as Auth0 does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custom-db-'));
    const file = path.join(dir, 'two.js');
    fs.writeFileSync(file, 'function login(e, p, cb) { return helper(cb); }\nfunction helper(cb) { cb(null); }\n');
    // (The SyntaxError of the sandbox's realm, so matched by its message.)
    expect(() => compileScript(file, vm.createContext({}))).toThrow("Unexpected token 'function'");
  });
});

describe('the runtime holds scripts to Auth0\'s contract', () => {
  const script = (code: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custom-db-'));
    const file = path.join(dir, 'login.js');
    fs.writeFileSync(file, code);
    return file;
  };
  const run = (file: string, limitMs?: number) => runCustomDbScript({ file, args: ['a@legacy.example', 'pw'], configuration: { KEY: 'v' }, container: newContainer(), limitMs });

  it('counts a second callback (Auth0 uses the first; a second is a bug the tests catch)', async () => {
    const result = await run(script('async function login(email, password, callback) { callback(null, { user_id: "1" }); callback(new Error("again")); }'));
    expect(result.callbacks).toBe(2);
    expect(result.profile).toEqual({ user_id: '1' });
  });

  it('a script that ends without calling back fails; one that never ends is stopped at the limit', async () => {
    expect((await run(script('async function login(email, password, callback) { }'))).error?.message).toBe('the script ended without calling back');
    expect((await run(script('function login(email, password, callback) { }'), 50)).timedOut).toBe(true);
  });

  it('exposes configuration read-only, global per container and Auth0\'s error classes', async () => {
    const file = script('async function login(email, password, callback) { configuration.KEY = "changed"; global.runs = (global.runs || 0) + 1; callback(new WrongUsernameOrPasswordError(email, configuration.KEY + " " + global.runs)); }');
    const container = newContainer();
    await runCustomDbScript({ file, args: ['a@legacy.example', 'pw'], configuration: { KEY: 'v' }, container });
    const second = await runCustomDbScript({ file, args: ['a@legacy.example', 'pw'], configuration: { KEY: 'v' }, container });
    expect(second.error?.name).toBe('WrongUsernameOrPasswordError');
    expect(second.error?.message).toBe('v 2');
  });
});

describe('login script', () => {
  it('the right password: the profile with the legacy id as a permanent user_id and the metadata, called back once', async () => {
    const user = await legacy({ encoding: 'argon2id', userMetadata: { theme: 'light' }, appMetadata: { plan: 'pro' } });
    const result = await runLogin(user.email, user.password);
    expect(result.error).toBeUndefined();
    expect(result.callbacks).toBe(1);
    expect(result.profile).toEqual({ user_id: user.legacyId, email: user.email, email_verified: true, name: 'Legacy Person', user_metadata: { theme: 'light' }, app_metadata: { plan: 'pro' } });
    expectNoSecrets(result.logs.join('\n'), user.password);
  });

  it('a wrong password and an unknown email give the same WrongUsernameOrPasswordError, and nothing changes in Postgres', async () => {
    const user = await legacy({ encoding: 'bcrypt' });
    const before = await server.prisma.user.findUniqueOrThrow({ where: { auth0Id: user.auth0Id } });
    const wrong = await runLogin(user.email, 'not-the-password');
    const unknown = await runLogin(`nobody-${randomUUID()}@legacy.example`, 'not-the-password');
    for (const result of [wrong, unknown]) {
      expect(result.callbacks).toBe(1);
      expect(result.error?.name).toBe('WrongUsernameOrPasswordError');
      expect(result.error?.message).toBe('Wrong email or password.');
      expect(result.profile).toBeUndefined();
    }
    expect(await server.prisma.user.findUniqueOrThrow({ where: { auth0Id: user.auth0Id } })).toEqual(before);
  });

  it('an over-long password is a wrong login (the API refuses it before hashing), not an outage', async () => {
    const result = await runLogin(`a-${randomUUID()}@legacy.example`, 'x'.repeat(5000));
    expect(result.error?.name).toBe('WrongUsernameOrPasswordError');
  });

  it('the machine token is cached in global: a second run in the same container fetches none', async () => {
    const user = await legacy({ encoding: 'pbkdf2-sha256' });
    const container = newContainer();
    const first = await runLogin(user.email, user.password, container);
    const second = await runLogin(user.email, user.password, container);
    expect(first.httpCalls.map((call) => new URL(call.url).pathname)).toEqual(['/oauth/token', '/graphql']);
    expect(second.httpCalls.map((call) => new URL(call.url).pathname)).toEqual(['/graphql']);
    expect(second.profile?.user_id).toBe(user.legacyId);
  });

  it('a revoked cached token is replaced once: the API answers 401, the script fetches a new token and succeeds', async () => {
    const user = await legacy({ encoding: 'scrypt' });
    const container: ScriptContainer = { global: { postgresSyncLegacyToken: { promise: Promise.resolve('revoked.token.value'), expiresAt: Date.now() + 3_600_000 } } };
    const result = await runLogin(user.email, user.password, container);
    expect(result.httpCalls.map((call) => `${new URL(call.url).pathname} ${call.status}`)).toEqual(['/graphql 401', '/oauth/token 200', '/graphql 200']);
    expect(result.profile?.user_id).toBe(user.legacyId);
  });

  it('20 concurrent logins in one cold container make one token request, shared by all', async () => {
    const user = await legacy({ encoding: 'pbkdf2-sha256' });
    const container = newContainer();
    const before = server.issuer.tokenRequests();
    const results = await Promise.all(Array.from({ length: 20 }, () => runLogin(user.email, user.password, container)));
    expect(server.issuer.tokenRequests() - before).toBe(1);
    expect(results.map((result) => result.profile?.user_id)).toEqual(Array.from({ length: 20 }, () => user.legacyId));
  });

  it('concurrent runs of the Login and Get User scripts in one cold container share one token request', async () => {
    const user = await legacy({ encoding: 'argon2id' });
    const container = newContainer();
    const before = server.issuer.tokenRequests();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? runLogin(user.email, user.password, container) : runGetUser(user.email, container))));
    expect(server.issuer.tokenRequests() - before).toBe(1);
    expect(results.every((result) => result.error === undefined && result.profile?.user_id === user.legacyId)).toBe(true);
  });

  it('20 concurrent runs holding a revoked token drop it and share one fresh token request', async () => {
    const user = await legacy({ encoding: 'scrypt' });
    const container: ScriptContainer = { global: { postgresSyncLegacyToken: { promise: Promise.resolve('revoked.token.value'), expiresAt: Date.now() + 3_600_000 } } };
    const before = server.issuer.tokenRequests();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? runLogin(user.email, user.password, container) : runGetUser(user.email, container))));
    expect(server.issuer.tokenRequests() - before).toBe(1);
    expect(results.every((result) => result.profile?.user_id === user.legacyId)).toBe(true);
  });

  it('a failed token request is shared by the runs waiting on it but not kept: the next run asks again', async () => {
    const user = await legacy({ encoding: 'bcrypt' });
    const container = newContainer();
    // The stand-in refuses a wrong client secret with 401 {"error":"access_denied","error_description":"Unauthorized"},
    // as Auth0's /oauth/token answers client credentials it does not accept (github.com/auth0/node-auth0/issues/682;
    // "the only reason of this error is if either client id or secret are wrong": github.com/auth0/laravel-auth0/issues/42).
    const refused = { ...configuration, CLIENT_SECRET: 'not-the-secret' };
    const before = server.issuer.tokenRequests();
    const failed = await Promise.all(Array.from({ length: 5 }, () => runLogin(user.email, user.password, container, refused)));
    expect(server.issuer.tokenRequests() - before).toBe(1);
    expect(failed.map((result) => result.error?.message)).toEqual(Array.from({ length: 5 }, () => 'The user store could not be reached (the token endpoint answered HTTP 401). Please try again.'));

    const next = await runLogin(user.email, user.password, container);
    expect(server.issuer.tokenRequests() - before).toBe(2);
    expect(next.profile?.user_id).toBe(user.legacyId);
  });

  it('the API down: an Error whose message holds no secret, within the timeout', async () => {
    const down = { ...configuration, API_URL: `http://127.0.0.1:${await freePort()}/graphql` };
    const user = await legacy();
    const result = await runLogin(user.email, user.password, newContainer(), down);
    expect(result.callbacks).toBe(1);
    expect(result.error?.name).toBe('Error');
    expect(result.error?.message).toBe('The user store could not be reached (ECONNREFUSED). Please try again.');
    expectNoSecrets(`${result.error?.message} ${result.logs.join('\n')}`, user.password);
  });

  it('a machine token without the scope: an Error naming the refusal, not a wrong password', async () => {
    const strict = await startTestServer({ env: { AUTH0_MIGRATE_USERS_SCOPE: 'legacy:check' } });
    try {
      const config = { ...configuration, AUTH0_DOMAIN: strict.issuer.url, CLIENT_ID: strict.issuer.state.client.id, CLIENT_SECRET: strict.issuer.state.client.secret, API_URL: strict.graphqlUrl };
      const result = await runLogin('someone@legacy.example', 'x', newContainer(), config);
      expect(result.error?.name).toBe('Error');
      expect(result.error?.message).toBe('The user store answered HTTP 200 FORBIDDEN. Please try again.');
    } finally {
      await strict.close();
    }
  });
});

describe('get user script', () => {
  it('a known email: the profile without a password check', async () => {
    const user = await legacy();
    const result = await runGetUser(user.email.toUpperCase());
    expect(result.callbacks).toBe(1);
    expect(result.error).toBeUndefined();
    expect(result.profile).toMatchObject({ user_id: user.legacyId, email: user.email, email_verified: true, user_metadata: { theme: 'dark' }, app_metadata: { plan: 'gold' } });
  });

  it('an unknown email (and a non-address): callback(null)', async () => {
    for (const email of [`nobody-${randomUUID()}@legacy.example`, 'not an address']) {
      const result = await runGetUser(email);
      expect([result.callbacks, result.error, result.profile, result.timedOut]).toEqual([1, undefined, undefined, false]);
    }
  });

  it('the API down: an Error, not "unknown user" (which would let a sign-up duplicate the user)', async () => {
    const result = await runGetUser('someone@legacy.example', newContainer(), { ...configuration, API_URL: `http://127.0.0.1:${await freePort()}/graphql` });
    expect(result.error?.message).toBe('The user store could not be reached (ECONNREFUSED). Please try again.');
  });
});

describe('the whole first login through the simulated tenant', () => {
  const connection = (): CustomDbConnection => ({ name: 'legacy-db', loginScript: LOGIN, getUserScript: GET_USER, configuration, container: newContainer() });
  const secrets = () => ({ ...configuration, FAIL_CLOSED: 'false', LEGACY_CONNECTION: 'legacy-db' });

  it('login script, Auth0 user, Post Login Action: the legacy row is linked with its transactions; the second login runs no script', async () => {
    const tenant = new SimulatedTenant();
    const conn = connection();
    const user = await legacy({ encoding: 'bcrypt', transactions: 12 });

    const first = await loginThroughCustomDb({ tenant, connection: conn, email: user.email, password: user.password });
    expect(first.kind).toBe('migrated');
    if (first.kind !== 'migrated') return;
    expect(first.user.user_id).toBe(user.auth0Id);
    const action = await runPostLogin({ tenant, actionFile: POST_LOGIN, secrets: secrets(), user: { ...first.user } });
    expect(action.logs).toContain(`postgres-sync: updated ${user.auth0Id}`);

    const rows = await server.prisma.user.findMany({ where: { email: user.email } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: user.rowId, auth0Id: user.auth0Id, passwordHash: null, connection: 'legacy-db', loginsCount: 1 });
    expect(rows[0]!.migratedAt).toBeInstanceOf(Date);
    expect(await server.prisma.transaction.count({ where: { userId: user.rowId } })).toBe(12);

    const second = await loginThroughCustomDb({ tenant, connection: conn, email: user.email, password: user.password });
    expect(second.kind).toBe('existing');
    // The password now lives in Auth0: a wrong one fails there, again without the script.
    expect(await loginThroughCustomDb({ tenant, connection: conn, email: user.email, password: 'wrong' })).toEqual({ kind: 'wrong-password' });
  });

  it('20 concurrent first logins of one legacy user: one Auth0 user, one row, linked', async () => {
    const tenant = new SimulatedTenant();
    const conn = connection();
    const user = await legacy({ encoding: 'pbkdf2-sha256', transactions: 5 });

    const outcomes = await Promise.all(Array.from({ length: 20 }, () => loginThroughCustomDb({ tenant, connection: conn, email: user.email, password: user.password })));
    expect(outcomes.every((outcome) => outcome.kind === 'migrated')).toBe(true);
    const auth0Users = [...tenant.users.values()].filter((candidate) => candidate.email === user.email);
    expect(auth0Users.map((candidate) => candidate.user_id)).toEqual([user.auth0Id]);
    await Promise.all(outcomes.map((outcome) => (outcome.kind === 'migrated' ? runPostLogin({ tenant, actionFile: POST_LOGIN, secrets: secrets(), user: { ...outcome.user } }) : undefined)));

    const rows = await server.prisma.user.findMany({ where: { email: user.email } });
    expect(rows.map((row) => [row.id, row.auth0Id, row.passwordHash])).toEqual([[user.rowId, user.auth0Id, null]]);
    expect(rows[0]!.migratedAt).toBeInstanceOf(Date);
    expect(await server.prisma.transaction.count({ where: { userId: user.rowId } })).toBe(5);
  });

  it('missing metadata: a user created without it gets it back from the API once, on their first login', async () => {
    const tenant = new SimulatedTenant();
    const user = await legacy({ encoding: 'scrypt', userMetadata: { theme: 'solarized', language: 'fr' }, appMetadata: { plan: 'legacy-gold', roles: ['editor'] } });
    const outcome = await loginThroughCustomDb({ tenant, connection: connection(), email: user.email, password: user.password, dropMetadata: true });
    if (outcome.kind !== 'migrated') throw new Error(`expected a migration, got ${outcome.kind}`);
    expect(outcome.user.user_metadata).toEqual({});

    const first = await runPostLogin({ tenant, actionFile: POST_LOGIN, secrets: secrets(), user: { ...outcome.user } });
    expect(first.logs).toContain(`postgres-sync: restored the legacy metadata of ${user.auth0Id}`);
    const stored = tenant.users.get(user.auth0Id)!;
    expect(stored.user_metadata).toEqual({ theme: 'solarized', language: 'fr' });
    expect(stored.app_metadata).toMatchObject({ plan: 'legacy-gold', roles: ['editor'], legacy_metadata_checked: true, postgres_sync_provisioned: true });

    const second = await runPostLogin({ tenant, actionFile: POST_LOGIN, secrets: secrets(), user: { ...outcome.user } });
    expect(second.httpCalls).toEqual([]);
    // And the row in Postgres is linked as usual.
    expect(await server.prisma.user.findUniqueOrThrow({ where: { auth0Id: user.auth0Id } })).toMatchObject({ id: user.rowId, passwordHash: null });
  });

  it('a user who arrived with their metadata costs no extra call', async () => {
    const tenant = new SimulatedTenant();
    const user = await legacy({ encoding: 'argon2id' });
    const outcome = await loginThroughCustomDb({ tenant, connection: connection(), email: user.email, password: user.password });
    if (outcome.kind !== 'migrated') throw new Error(`expected a migration, got ${outcome.kind}`);
    const action = await runPostLogin({ tenant, actionFile: POST_LOGIN, secrets: secrets(), user: { ...outcome.user } });
    expect(action.httpCalls.filter((call) => call.url.endsWith('/graphql'))).toHaveLength(1); // addUser only
    expect(tenant.users.get(user.auth0Id)!.app_metadata.legacy_metadata_checked).toBeUndefined();
  });
});
