// The real entry point as a process: graceful shutdown, the embedded Postgres across restarts, the CLIs.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import supertest from 'supertest';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { waitUntil } from './support/wait-until';
import { startTestIssuer, TEST_AUDIENCE, type TestIssuer } from './support/issuer';
import { ROOT, startServerProcess } from './support/server-process';

const run = promisify(execFile);
const ADD_USER = 'mutation ($input: AddUserInput!) { addUser(input: $input) { created user { auth0Id name } } }';

describe('with DATABASE_URL', () => {
  let database: TestDatabase;
  let issuer: TestIssuer;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    issuer = await startTestIssuer();
  });
  afterAll(async () => {
    await issuer.close();
    await database.drop();
  });

  it('migrates the database at start-up, and on SIGTERM finishes an addUser in flight before exiting', async () => {
    const port = await freePort();
    const server = startServerProcess({ PORT: String(port), DATABASE_URL: database.url, AUTH0_ISSUER_BASE_URL: issuer.url, AUTH0_AUDIENCE: TEST_AUDIENCE });
    const locker = new Client({ connectionString: database.url });
    locker.on('error', () => {});
    try {
      await server.waitForOutput(/GraphQL API ready/);
      expect(server.output()).toContain('"database":"external"');
      expect(server.output()).not.toContain('embedded postgres');
      const auth0Id = `google-oauth2|${randomUUID()}`;
      const token = await issuer.issuer.sign({ kind: 'machine', scopes: ['create:users'] });
      const api = supertest(`http://127.0.0.1:${port}`);
      await api.post('/graphql').set('authorization', `Bearer ${token}`).send({ query: ADD_USER, variables: { input: { auth0Id, name: 'before' } } }).expect(200);

      // Hold the user's row so the next addUser waits inside Postgres, in flight.
      await locker.connect();
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM users WHERE auth0_id = $1 FOR UPDATE', [auth0Id]);
      const inFlight = api.post('/graphql').set('authorization', `Bearer ${token}`).send({ query: ADD_USER, variables: { input: { auth0Id, name: 'during shutdown' } } }).then((response) => response);
      // Polled from a connection of its own: inside a transaction pg_stat_activity is a frozen snapshot.
      await waitUntil(() =>
        withClient(database.url, async (monitor) => (await monitor.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO users%'`)).rowCount === 1),
      );

      server.signal('SIGTERM');
      // Logged once the listener is closed (the shutdown's first line, "shutting down", comes before it).
      await server.waitForOutput(/no new connections/);
      await expect(getOnNewConnection(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
      await locker.query('COMMIT');

      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(response.body.data.addUser).toEqual({ created: false, user: { auth0Id, name: 'during shutdown' } });
      expect(await server.exited).toBe(0);
      expect(server.output()).toMatch(/"msg":"stopped"/);
      const names = await withClient(database.url, async (client) => (await client.query('SELECT name FROM users WHERE auth0_id = $1', [auth0Id])).rows);
      expect(names).toEqual([{ name: 'during shutdown' }]);
    } finally {
      server.signal('SIGKILL');
      await locker.end().catch(() => {});
    }
  });

  it('npm run db:migrate applies the migrations and nothing else', async () => {
    const fresh = await createTestDatabase({ migrate: false });
    try {
      await run(process.execPath, ['--import', 'tsx', 'src/cli/migrate.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: fresh.url, LOG_PRETTY: 'false' } });
      const tables = await withClient(fresh.url, async (client) => (await client.query(`SELECT to_regclass('users') AS users, to_regclass('transactions') AS transactions`)).rows[0]);
      expect(tables).toEqual({ users: 'users', transactions: 'transactions' });
    } finally {
      await fresh.drop();
    }
  });

  it('refuses to start in production without a real Auth0 issuer, with a clear message', async () => {
    const server = startServerProcess({ NODE_ENV: 'production', DATABASE_URL: database.url, PORT: String(await freePort()) });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('AUTH0_DOMAIN: required in production');
    expect(server.output()).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('with the embedded Postgres (no DATABASE_URL)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-start-'));
    fs.chmodSync(dir, 0o777);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps its data across a restart and stops Postgres cleanly on SIGTERM', async () => {
    const env = {
      PORT: String(await freePort()),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      EMBEDDED_POSTGRES_DIR: path.join(dir, 'postgres'),
      DEV_ISSUER_DIR: path.join(dir, 'issuer'),
    };
    const auth0Id = `auth0|${randomUUID()}`;

    const first = startServerProcess(env);
    try {
      await first.waitForOutput(/GraphQL API ready/, 120_000);
      expect(first.output()).toContain('Local development issuer');
      expect(await addUserWithMintedToken(env, auth0Id)).toEqual({ created: true, user: { auth0Id, name: null } });
      // A command run beside the server (as the README suggests for db:seed) uses its Postgres.
      const { stdout: seeded } = await run(process.execPath, ['--import', 'tsx', 'src/cli/seed.ts'], { cwd: ROOT, env: { ...process.env, ...env, DATABASE_URL: '' } });
      expect(seeded).toContain('Seeded 3 users');
      expect(await addUserWithMintedToken(env, 'google-oauth2|seed-ada')).toEqual({ created: false, user: { auth0Id: 'google-oauth2|seed-ada', name: 'Ada Lovelace' } });
      first.signal('SIGTERM');
      expect(await first.exited).toBe(0);
      expect(fs.existsSync(path.join(env.EMBEDDED_POSTGRES_DIR, 'postmaster.pid'))).toBe(false);
    } finally {
      first.signal('SIGKILL');
    }

    const second = startServerProcess(env);
    try {
      await second.waitForOutput(/GraphQL API ready/, 120_000);
      expect(await addUserWithMintedToken(env, auth0Id)).toEqual({ created: false, user: { auth0Id, name: null } });
      second.signal('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      second.signal('SIGKILL');
    }
    // Two starts (the first runs initdb) and three commands: tens of seconds each on a loaded machine.
  }, 240_000);
});

// As a newcomer would: a token from `npm run token`, then addUser against the running server.
async function addUserWithMintedToken(env: Record<string, string>, auth0Id: string): Promise<unknown> {
  const { stdout: token } = await run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', '--machine'], { cwd: ROOT, env: { ...process.env, ...env } });
  const response = await supertest(`http://localhost:${env.PORT}`)
    .post('/graphql')
    .set('authorization', `Bearer ${token.trim()}`)
    .send({ query: ADD_USER, variables: { input: { auth0Id } } });
  return response.body.data.addUser;
}


// A request on a connection of its own (the global agent would reuse a pooled one).
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (response) => resolve(response.statusCode ?? 0)).on('error', reject);
  });
}

describe('npm run db:seed', () => {
  it('fills a database with a few users and their transactions, and adds nothing on a second run', async () => {
    const database = await createTestDatabase({ migrate: false });
    try {
      const seed = () => run(process.execPath, ['--import', 'tsx', 'src/cli/seed.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, LOG_LEVEL: 'warn' } });
      const counts = () =>
        withClient(database.url, async (client) => (await client.query('SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM transactions)::int AS transactions')).rows[0]);
      const { stdout } = await seed();
      expect(stdout).toContain("npm run -s token -- --user 'google-oauth2|seed-ada'");
      expect(await counts()).toEqual({ users: 3, transactions: 120 });
      await seed();
      expect(await counts()).toEqual({ users: 3, transactions: 120 });
    } finally {
      await database.drop();
    }
  });
});
