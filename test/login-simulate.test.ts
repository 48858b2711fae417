// `npm run login:simulate` against a running server: the whole first-login flow from the repo alone.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, withClient, type TestDatabase } from './support/database';
import { freePort } from './support/free-port';
import { ROOT, startServerProcess, type ServerProcess } from './support/server-process';

const run = promisify(execFile);

let database: TestDatabase;
let dir: string;
let server: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'login-simulate-'));
  env = { PORT: String(await freePort()), DATABASE_URL: database.url, DEV_ISSUER_DIR: path.join(dir, 'issuer') };
  server = startServerProcess(env);
  await server.waitForOutput(/GraphQL API ready/);
});

afterAll(async () => {
  server.signal('SIGTERM');
  await server.exited;
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const simulate = async (...args: string[]) =>
  (await run(process.execPath, ['--import', 'tsx', 'src/cli/login-simulate.ts', '--state', path.join(dir, 'tenant.json'), ...args], { cwd: ROOT, env: { ...process.env, ...env, AUTH0_DOMAIN: '', AUTH0_ISSUER_BASE_URL: '' } })).stdout;

it('provisions on the first run and says the user was already provisioned on the second, making no call', async () => {
  const first = await simulate('--connection', 'google-oauth2', '--email', 'ada@example.com', '--name', 'Ada');
  expect(first).toContain('login #1');
  expect(first).toMatch(/M2M token: fetched from http:\/\/localhost:\d+\/oauth\/token \(HTTP 200/);
  expect(first).toMatch(/addUser: HTTP 200/);
  expect(first).toContain('postgres-sync: created google-oauth2|');
  expect(first).toContain('app_metadata.postgres_sync_provisioned set to true');

  const second = await simulate('--connection', 'google-oauth2', '--email', 'ada@example.com');
  expect(second).toContain('login #2');
  expect(second).toContain('already provisioned (app_metadata.postgres_sync_provisioned = true): the Action made no call');

  const rows = await withClient(database.url, async (client) => (await client.query(`SELECT email, name, connection FROM users WHERE email = 'ada@example.com'`)).rows);
  expect(rows).toEqual([{ email: 'ada@example.com', name: 'Ada', connection: 'google-oauth2' }]);
});

it('a second person reuses the cached M2M token', async () => {
  const output = await simulate('--connection', 'Username-Password-Authentication', '--email', 'grace@example.com');
  expect(output).toContain('M2M token: taken from the Action cache (no request)');
  expect(output).toContain('postgres-sync: created auth0|');
});
