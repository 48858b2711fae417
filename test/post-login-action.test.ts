// The Auth0 Post Login Action, run as Auth0 runs it, against the real server and a stand-in issuer over HTTP.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { loadAction, runPostLogin, TRIGGER_LIMIT_MS, type HttpCall, type LoginOptions } from '../src/action-runtime/run-post-login';
import { SimulatedTenant } from '../src/action-runtime/simulated-tenant';
import { freePort } from './support/free-port';
import { TEST_AUDIENCE } from './support/issuer';
import { startTestServer, type TestServer } from './support/server';

const ACTION = path.resolve(__dirname, '../actions/post-login.js');
const FLAG = 'postgres_sync_provisioned';

let server: TestServer;
let secrets: Record<string, string>;
beforeAll(async () => {
  server = await startTestServer();
  secrets = {
    AUTH0_DOMAIN: server.issuer.url,
    CLIENT_ID: server.issuer.state.client.id,
    CLIENT_SECRET: server.issuer.state.client.secret,
    API_AUDIENCE: TEST_AUDIENCE,
    API_URL: server.graphqlUrl,
    FAIL_CLOSED: 'false',
  };
});
afterAll(() => server.close());

type Profile = LoginOptions['user'];
const googleUser = (extra: Partial<Profile> = {}): Profile => ({
  user_id: `google-oauth2|${randomUUID()}`,
  connection: 'google-oauth2',
  email: `g-${randomUUID()}@gmail.com`,
  email_verified: true,
  name: 'Ada Lovelace',
  picture: 'https://lh3.googleusercontent.com/a/ada.jpg',
  ...extra,
});
const passwordUser = (extra: Partial<Profile> = {}): Profile => ({
  user_id: `auth0|${randomUUID()}`,
  connection: 'Username-Password-Authentication',
  email: `p-${randomUUID()}@example.com`,
  email_verified: false,
  ...extra,
});

const login = (tenant: SimulatedTenant, user: Profile, overrides: Partial<LoginOptions> = {}) =>
  runPostLogin({ tenant, actionFile: ACTION, secrets, user, ...overrides });
const rowOf = (auth0Id: string) => server.prisma.user.findUnique({ where: { auth0Id } });
const tokenCalls = (result: { httpCalls: HttpCall[] }) => result.httpCalls.filter((call) => call.url.endsWith('/oauth/token'));
const apiCalls = (result: { httpCalls: HttpCall[] }) => result.httpCalls.filter((call) => call.url.endsWith('/graphql'));

function expectNoSecretsIn(logs: string[]) {
  const text = logs.join('\n');
  expect(text).not.toContain(secrets.CLIENT_SECRET);
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
}

describe('first logins provision the user', () => {
  it('a first password sign-up lands in Postgres, the flag is set and the token carries the email claims', async () => {
    const tenant = new SimulatedTenant();
    const user = passwordUser();
    const result = await login(tenant, user);

    expect(result.denied).toBeUndefined();
    expect(await rowOf(user.user_id)).toMatchObject({ email: user.email, emailVerified: false, connection: 'Username-Password-Authentication', loginsCount: 1 });
    expect(tenant.users.get(user.user_id)?.app_metadata[FLAG]).toBe(true);
    expect(result.accessTokenClaims).toEqual({
      'https://auth0-postgres-sync.example/email': user.email,
      'https://auth0-postgres-sync.example/email_verified': false,
    });
    expect(tokenCalls(result)).toHaveLength(1);
    expect(apiCalls(result)).toHaveLength(1);
    expectNoSecretsIn(result.logs);
  });

  it('a first Google sign-up lands in Postgres with its profile', async () => {
    const tenant = new SimulatedTenant();
    const user = googleUser();
    await login(tenant, user);
    expect(await rowOf(user.user_id)).toMatchObject({ email: user.email, emailVerified: true, name: 'Ada Lovelace', picture: user.picture, connection: 'google-oauth2' });
  });

  it('an email with quotes, backslashes, "} and non-ASCII characters is stored exactly', async () => {
    const tenant = new SimulatedTenant();
    const email = `"o'hara\\"}\\\\ zoë ${randomUUID().slice(0, 8)}"@exämple.com`;
    const user = passwordUser({ email, name: 'Zoë "}\\ O\'Hara' });
    const result = await login(tenant, user);
    expect(result.logs.join('\n')).not.toContain('failed');
    expect(await rowOf(user.user_id)).toMatchObject({ email, name: 'Zoë "}\\ O\'Hara' });
  });

  it('a user without an email is provisioned with none', async () => {
    const tenant = new SimulatedTenant();
    const user: Profile = { user_id: `github|${randomUUID()}`, connection: 'github', name: 'octocat' };
    const result = await login(tenant, user);
    expect(await rowOf(user.user_id)).toMatchObject({ email: null, connection: 'github' });
    expect(result.accessTokenClaims).toEqual({ 'https://auth0-postgres-sync.example/email_verified': false });
  });
});

describe('calls it does not make', () => {
  it('a refresh-token exchange makes no call, and a second login of a provisioned user makes none', async () => {
    const tenant = new SimulatedTenant();
    const user = googleUser();
    await login(tenant, user);
    const refresh = await login(tenant, user, { protocol: 'oauth2-refresh-token' });
    const second = await login(tenant, user);
    expect(refresh.httpCalls).toEqual([]);
    expect(second.httpCalls).toEqual([]);
    expect(second.event.stats.logins_count).toBe(2);
    expect(await rowOf(user.user_id)).toMatchObject({ loginsCount: 1 });
  });

  it('50 first logins in a row fetch the M2M token once', async () => {
    const tenant = new SimulatedTenant();
    const users = Array.from({ length: 50 }, () => googleUser());
    const results = [];
    for (const user of users) results.push(await login(tenant, user));
    expect(results.flatMap(tokenCalls)).toHaveLength(1);
    expect(results.flatMap(apiCalls)).toHaveLength(50);
    expect(await server.prisma.user.count({ where: { auth0Id: { in: users.map((user) => user.user_id) } } })).toBe(50);
  });

  it('when Auth0 refuses to cache the token, the login still provisions, logs it once without the token, and the next login fetches anew', async () => {
    const tenant = new SimulatedTenant();
    tenant.cache.refuseWrites('CACHE_UNAVAILABLE');
    const first = await login(tenant, googleUser());
    const second = await login(tenant, googleUser());
    for (const result of [first, second]) {
      expect(result.denied).toBeUndefined();
      expect(result.appMetadataSet[FLAG]).toBe(true);
      expect(tokenCalls(result)).toHaveLength(1);
      expect(result.logs.filter((line) => line.includes('could not be cached'))).toEqual([
        'postgres-sync: the M2M token could not be cached (CACHE_UNAVAILABLE); the next login fetches a new one',
      ]);
      expectNoSecretsIn(result.logs);
    }

    tenant.cache.refuseWrites(undefined);
    const cached = await login(tenant, googleUser());
    expect(cached.logs.join('\n')).not.toContain('could not be cached');
    expect(tokenCalls(await login(tenant, googleUser()))).toHaveLength(0);
  });

  it('warns once per login when API_URL or AUTH0_DOMAIN is plain http:// to a host that is not loopback, without the URL', async () => {
    const tenant = new SimulatedTenant();
    const loopback = await login(tenant, googleUser());
    expect(loopback.logs.join('\n')).not.toContain('warning');

    const plain = await login(tenant, googleUser(), { secrets: { ...secrets, AUTH0_DOMAIN: 'http://tenant.example.invalid', API_URL: 'http://api.example.invalid/graphql' } });
    expect(plain.logs.filter((line) => line.includes('warning'))).toEqual([
      'postgres-sync: warning: API_URL is plain http://, so tokens and profiles travel unencrypted; use https://',
      'postgres-sync: warning: AUTH0_DOMAIN is plain http://, so tokens and profiles travel unencrypted; use https://',
    ]);
    expect(plain.logs.join('\n')).not.toContain('example.invalid');
    expectNoSecretsIn(plain.logs);
  });

  it('fetches a new token once the cached one has expired', async () => {
    let now = Date.now();
    const tenant = new SimulatedTenant(undefined, () => now);
    const first = await login(tenant, googleUser());
    now += 25 * 60 * 60 * 1000;
    const later = await login(tenant, googleUser());
    expect(tokenCalls(first)).toHaveLength(1);
    expect(tokenCalls(later)).toHaveLength(1);
  });
});

describe('when something fails, the login goes on and the next one heals', () => {
  it('with the API down, the login is not blocked, no flag is set, nothing is written, and the next login provisions the user', async () => {
    const tenant = new SimulatedTenant();
    const user = googleUser();
    const down = { ...secrets, API_URL: `http://127.0.0.1:${await freePort()}/graphql` };

    const failed = await login(tenant, user, { secrets: down });
    expect(failed.denied).toBeUndefined();
    expect(failed.threw).toBeUndefined();
    expect(failed.logs.some((line) => line.includes(`provisioning ${user.user_id} failed`))).toBe(true);
    expect(tenant.users.get(user.user_id)?.app_metadata[FLAG]).toBeUndefined();
    expect(await rowOf(user.user_id)).toBeNull();
    expectNoSecretsIn(failed.logs);

    const healed = await login(tenant, user);
    expect(healed.event.stats.logins_count).toBe(2);
    expect(apiCalls(healed)).toHaveLength(1);
    expect(await rowOf(user.user_id)).toMatchObject({ email: user.email, loginsCount: 2 });
    expect(tenant.users.get(user.user_id)?.app_metadata[FLAG]).toBe(true);
  });

  it('with FAIL_CLOSED=true and the API down, the login is denied with a clear reason', async () => {
    const tenant = new SimulatedTenant();
    const user = passwordUser();
    const result = await login(tenant, user, { secrets: { ...secrets, FAIL_CLOSED: 'true', API_URL: `http://127.0.0.1:${await freePort()}/graphql` } });
    expect(result.denied).toBe('We could not finish setting up your account. Please try again in a moment.');
    expect(await rowOf(user.user_id)).toBeNull();
  });

  it('when the token endpoint answers 401, the login continues and the log says why without the secret', async () => {
    const tenant = new SimulatedTenant();
    const user = googleUser();
    const result = await login(tenant, user, { secrets: { ...secrets, CLIENT_SECRET: 'wrong-secret-value' } });
    expect(result.denied).toBeUndefined();
    expect(tokenCalls(result).map((call) => call.status)).toEqual([401]);
    expect(apiCalls(result)).toHaveLength(0);
    expect(result.logs.join('\n')).toContain('the token endpoint answered HTTP 401 access_denied');
    expect(result.logs.join('\n')).not.toContain('wrong-secret-value');
    expect(await rowOf(user.user_id)).toBeNull();
  });

  it('when the API is slower than the timeout, the login continues well within Auth0\'s limit', async () => {
    const stalled = http.createServer(() => {
      // Never answers: the Action's own timeout must end the call.
    });
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const tenant = new SimulatedTenant();
      const user = googleUser();
      const result = await login(tenant, user, { secrets: { ...secrets, API_URL: `http://127.0.0.1:${(stalled.address() as AddressInfo).port}/graphql` } });
      expect(result.timedOut).toBe(false);
      expect(result.durationMs).toBeLessThan(TRIGGER_LIMIT_MS);
      expect(result.denied).toBeUndefined();
      expect(result.logs.join('\n')).toContain('timed out after 5000 ms');
      expect(tenant.users.get(user.user_id)?.app_metadata[FLAG]).toBeUndefined();
      expect(await rowOf(user.user_id)).toBeNull();
    } finally {
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  it('when the API refuses the data, the login continues and the user is retried next time', async () => {
    const tenant = new SimulatedTenant();
    const user: Profile = { user_id: `auth0|${randomUUID()}`, connection: 'Username-Password-Authentication', email: 'not-an-email' };
    const result = await login(tenant, user);
    expect(result.denied).toBeUndefined();
    expect(result.logs.join('\n')).toContain('addUser answered HTTP 200 BAD_USER_INPUT');
    expect(tenant.users.get(user.user_id)?.app_metadata[FLAG]).toBeUndefined();
  });
});

describe('the harness behaves as Auth0 documents', () => {
  it('loads an Action with Node built-ins only: requiring an npm package fails as it would without dependencies', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'action-'));
    try {
      const file = path.join(dir, 'uses-npm.js');
      fs.writeFileSync(file, "const crypto = require('node:crypto'); const _ = require('lodash'); exports.onExecutePostLogin = async () => {};");
      expect(() => loadAction(file, [], fetch)).toThrow(/Cannot find module 'lodash'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('caps cache entries at 24 hours, stores only strings, and forgets expired entries', () => {
    let now = 0;
    const tenant = new SimulatedTenant(undefined, () => now);
    expect(tenant.cache.set('k', 'v', { ttl: 48 * 60 * 60 * 1000 })).toEqual({ type: 'success' });
    expect(tenant.cache.get('k')).toEqual({ value: 'v', expires_at: 24 * 60 * 60 * 1000 });
    expect(tenant.cache.set('k', { not: 'a string' })).toEqual({ type: 'error', code: 'INVALID_VALUE' });
    now = 24 * 60 * 60 * 1000;
    expect(tenant.cache.get('k')).toBeUndefined();
  });
});
