// Faults: the database down at start-up or under traffic, slow statements, a full pool, an unreachable or rotated JWKS, two instances.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Client } from 'pg';
import pino from 'pino';
import supertest from 'supertest';
import { runPostLogin, type LoginOptions } from '../src/action-runtime/run-post-login';
import { SimulatedTenant } from '../src/action-runtime/simulated-tenant';
import { applyMigrations } from '../src/db/migrate';
import { createTestDatabase, withClient } from './support/database';
import { freePort } from './support/free-port';
import { waitUntil } from './support/wait-until';
import { expectData, graphql } from './support/graphql';
import { startTestIssuer, TEST_AUDIENCE } from './support/issuer';
import { startOwnPostgres } from './support/own-postgres';
import { startServerProcess } from './support/server-process';
import { startTestServer } from './support/server';

const ADD_USER = 'mutation ($input: AddUserInput!) { addUser(input: $input) { created user { auth0Id } } }';
const ACTION = path.resolve(__dirname, '../actions/post-login.js');

describe('the database is down at start-up', () => {
  it('the server starts, says not ready, retries with backoff logging each attempt once, and becomes ready by itself', async () => {
    const postgres = await startOwnPostgres();
    await postgres.stop();
    const issuer = await startTestIssuer();
    const port = await freePort();
    const server = startServerProcess({ PORT: String(port), DATABASE_URL: postgres.connectionString, AUTH0_ISSUER_BASE_URL: issuer.url, AUTH0_AUDIENCE: TEST_AUDIENCE, DATABASE_RETRY_MAX_MS: '1000' });
    try {
      await server.waitForOutput(/listening on port/);
      const api = supertest(`http://127.0.0.1:${port}`);
      expect((await api.get('/healthz')).status).toBe(200);
      expect((await api.get('/readyz')).status).toBe(503);
      const token = await issuer.issuer.sign({ kind: 'machine', scopes: ['create:users'] });
      const refused = await api.post('/graphql').set('authorization', `Bearer ${token}`).send({ query: ADD_USER, variables: { input: { auth0Id: 'auth0|early' } } });
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body.errors[0].extensions.code).toBe('UNAVAILABLE');

      await server.waitForOutput(/"attempt":3/);
      await postgres.start();
      await server.waitForOutput(/GraphQL API ready/);

      const attempts = server
        .output()
        .split('\n')
        .filter((line) => line.includes('database unreachable; not ready, retrying'))
        .map((line) => (JSON.parse(line) as { attempt: number }).attempt);
      expect(attempts.length).toBeGreaterThanOrEqual(3);
      expect(attempts).toEqual(attempts.map((_, i) => i + 1));
      expect((await api.get('/readyz')).status).toBe(200);
      const created = await api.post('/graphql').set('authorization', `Bearer ${token}`).send({ query: ADD_USER, variables: { input: { auth0Id: 'auth0|early' } } });
      expect(created.body.data.addUser.created).toBe(true);
    } finally {
      server.signal('SIGTERM');
      await server.exited;
      await issuer.close();
      await postgres.destroy();
    }
  });
});

describe('the database goes away under traffic', () => {
  it('logins go on while it is down, calls fail fast with 503, it recovers without a restart, and the next login provisions every user that failed', async () => {
    const postgres = await startOwnPostgres();
    await applyMigrations({ connectionString: postgres.connectionString, logger: pino({ level: 'silent' }) });
    const server = await startTestServer({ database: { name: 'app', url: postgres.connectionString, drop: async () => {} }, env: { DATABASE_POOL_TIMEOUT_MS: '1000' } });
    try {
      const secrets = {
        AUTH0_DOMAIN: server.issuer.url,
        CLIENT_ID: server.issuer.state.client.id,
        CLIENT_SECRET: server.issuer.state.client.secret,
        API_AUDIENCE: TEST_AUDIENCE,
        API_URL: server.graphqlUrl,
      };
      const tenant = new SimulatedTenant();
      const users: LoginOptions['user'][] = Array.from({ length: 30 }, (_, i) => ({ user_id: `google-oauth2|${randomUUID()}`, connection: 'google-oauth2', email: `storm${i}@example.com` }));
      const statuses: Array<number | 'failed' | undefined> = [];
      for (const [i, user] of users.entries()) {
        if (i === 10) await postgres.stop();
        if (i === 20) await postgres.start();
        const result = await runPostLogin({ tenant, actionFile: ACTION, secrets, user });
        expect(result.denied).toBeUndefined();
        expect(result.timedOut).toBe(false);
        statuses.push(result.httpCalls.find((call) => call.url === server.graphqlUrl)?.status);
      }
      expect(statuses.slice(10, 20)).toEqual(Array(10).fill(503));
      expect([...statuses.slice(0, 10), ...statuses.slice(20)]).toEqual(Array(20).fill(200));

      const stored = new Set((await server.prisma.user.findMany({ select: { auth0Id: true } })).map((row) => row.auth0Id));
      for (const user of users) {
        const flagged = tenant.users.get(user.user_id)?.app_metadata.postgres_sync_provisioned === true;
        expect({ user: user.user_id, flagged, stored: stored.has(user.user_id) }).toEqual({ user: user.user_id, flagged, stored: flagged });
      }
      expect(stored.size).toBe(20);

      const failed = users.slice(10, 20);
      for (const user of failed) await runPostLogin({ tenant, actionFile: ACTION, secrets, user });
      expect(await server.prisma.user.count()).toBe(30);
      expect(failed.every((user) => tenant.users.get(user.user_id)?.app_metadata.postgres_sync_provisioned === true)).toBe(true);
    } finally {
      await server.close();
      await postgres.destroy();
    }
  });
});

describe('slow statements and a full pool', () => {
  async function lockUser(url: string, auth0Id: string): Promise<Client> {
    const locker = new Client({ connectionString: url });
    locker.on('error', () => {});
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM users WHERE auth0_id = $1 FOR UPDATE', [auth0Id]);
    return locker;
  }

  it('a statement running past the statement timeout is cancelled and answers UNAVAILABLE with 503', async () => {
    const server = await startTestServer({ env: { DATABASE_STATEMENT_TIMEOUT_MS: '300' } });
    const token = await server.machineToken(['create:users']);
    const auth0Id = `auth0|${randomUUID()}`;
    await expectData(server, { query: ADD_USER, variables: { input: { auth0Id } }, token });
    const locker = await lockUser(server.database.url, auth0Id);
    try {
      const response = await graphql(server, { query: ADD_USER, variables: { input: { auth0Id, name: 'blocked' } }, token });
      expect(response.status).toBe(503);
      expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['UNAVAILABLE']);
      expect(JSON.stringify(response.errors)).not.toMatch(/statement|57014|timeout/i);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
      await server.close();
    }
  });

  it('when every pooled connection is busy, a request waits at most the pool timeout, then answers UNAVAILABLE; the others finish', async () => {
    const server = await startTestServer({ env: { DATABASE_POOL_SIZE: '2', DATABASE_POOL_TIMEOUT_MS: '300', DATABASE_STATEMENT_TIMEOUT_MS: '20000' } });
    const machine = await server.machineToken(['create:users']);
    const held = [`auth0|${randomUUID()}`, `auth0|${randomUUID()}`];
    for (const auth0Id of held) await expectData(server, { query: ADD_USER, variables: { input: { auth0Id } }, token: machine });
    const lockers = [await lockUser(server.database.url, held[0]!), await lockUser(server.database.url, held[1]!)];
    try {
      const blocked = held.map((auth0Id) => graphql(server, { query: ADD_USER, variables: { input: { auth0Id, loginsCount: 2 } }, token: machine }));
      // Polled from a connection of its own: inside a transaction pg_stat_activity is a frozen snapshot.
      await waitUntil(() => withClient(server.database.url, async (monitor) => (await monitor.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)).rowCount === 2));
      const queued = await graphql(server, { query: '{ me { id } }', token: await server.userToken(`auth0|${randomUUID()}`) });
      expect(queued.status).toBe(503);
      expect(queued.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
      for (const locker of lockers) await locker.query('COMMIT');
      expect((await Promise.all(blocked)).map((response) => response.status)).toEqual([200, 200]);
    } finally {
      for (const locker of lockers) await locker.end().catch(() => {});
      await server.close();
    }
  });
});

describe('the issuer\'s JWKS', () => {
  it('picks up a rotated key without a restart, keeps verifying known keys while the JWKS is unreachable, and answers 401 for an unknown key', async () => {
    const server = await startTestServer({ env: { JWKS_COOLDOWN_MS: '0' } });
    try {
      const viewer = (token: string) => graphql(server, { query: '{ viewer { kind } }', token });
      expect((await viewer(await server.machineToken())).status).toBe(200);

      const rotated = await generateKeyPair('RS256', { extractable: true });
      const kid = `rotated-${randomUUID()}`;
      server.issuer.issuer.jwks.keys.push({ ...(await exportJWK(rotated.publicKey)), kid, alg: 'RS256', use: 'sig' });
      const signWith = (key: typeof rotated.privateKey, keyId: string) =>
        new SignJWT({ gty: 'client-credentials', scope: '' })
          .setProtectedHeader({ alg: 'RS256', kid: keyId })
          .setIssuer(server.issuer.url)
          .setAudience(TEST_AUDIENCE)
          .setSubject('rotation@clients')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(key);
      expect((await viewer(await signWith(rotated.privateKey, kid))).status).toBe(200);
      expect(server.issuer.jwksFetches()).toBe(2);

      await server.issuer.close();
      expect((await viewer(await server.machineToken())).status).toBe(200);
      expect((await viewer(await signWith(rotated.privateKey, kid))).status).toBe(200);
      const stranger = await generateKeyPair('RS256');
      const unknown = await viewer(await signWith(stranger.privateKey, `unknown-${randomUUID()}`));
      expect(unknown.status).toBe(401);
      expect(unknown.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await server.close().catch(() => {});
    }
  });
});

describe('two server processes on one database', () => {
  it('concurrent addUser calls for the same users through both leave exactly one row per user', async () => {
    const database = await createTestDatabase();
    const issuer = await startTestIssuer();
    const ports = [await freePort(), await freePort()];
    const servers = ports.map((port) => startServerProcess({ PORT: String(port), DATABASE_URL: database.url, AUTH0_ISSUER_BASE_URL: issuer.url, AUTH0_AUDIENCE: TEST_AUDIENCE }));
    try {
      await Promise.all(servers.map((server) => server.waitForOutput(/GraphQL API ready/)));
      const token = await issuer.issuer.sign({ kind: 'machine', scopes: ['create:users'] });
      const users = Array.from({ length: 20 }, () => `google-oauth2|${randomUUID()}`);
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          supertest(`http://127.0.0.1:${ports[i % 2]}`).post('/graphql').set('authorization', `Bearer ${token}`).send({ query: ADD_USER, variables: { input: { auth0Id: users[i % 20], loginsCount: i } } }),
        ),
      );
      expect(responses.filter((response) => response.status !== 200 || response.body.errors)).toEqual([]);
      const counts = await withClient(database.url, async (client) => (await client.query('SELECT auth0_id, count(*)::int AS n, max(logins_count) AS logins FROM users GROUP BY auth0_id')).rows);
      expect(counts).toHaveLength(20);
      expect(counts.every((row) => row.n === 1)).toBe(true);
    } finally {
      for (const server of servers) server.signal('SIGTERM');
      await Promise.all(servers.map((server) => server.exited));
      await issuer.close();
      await database.drop();
    }
  });
});
