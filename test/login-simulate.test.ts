// `npm run login:simulate` and `npm run token` against a running server: the first-login flow from the repo alone.
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
let port: number;
let issuerDir: string;

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'login-simulate-'));
  issuerDir = path.join(dir, 'issuer');
  // A port other than the default: the commands below are not told it, they find the server.
  port = await freePort();
  server = startServerProcess({ PORT: String(port), DATABASE_URL: database.url, DEV_ISSUER_DIR: issuerDir });
  await server.waitForOutput(/GraphQL API ready/);
});

afterAll(async () => {
  server.signal('SIGTERM');
  await server.exited;
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// The environment of a shell that knows nothing of the server's PORT.
function cliEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: database.url, DEV_ISSUER_DIR: issuerDir, AUTH0_DOMAIN: '', AUTH0_ISSUER_BASE_URL: '', ...overrides };
  delete env.PORT;
  return env;
}

async function cli(script: string, args: string[], env = cliEnv()): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Each test keeps its own simulated tenant (users, login counts, the Action's cache). */
const newTenant = () => path.join(fs.mkdtempSync(path.join(dir, 'tenant-')), 'tenant.json');
const simulate = (tenant: string, ...args: string[]) => cli('src/cli/login-simulate.ts', ['--state', tenant, ...args]);

it('provisions on the first run and says the user was already provisioned on the second, making no call', async () => {
  const tenant = newTenant();
  const first = await simulate(tenant, '--connection', 'google-oauth2', '--email', 'ada@example.com', '--name', 'Ada');
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('login #1');
  expect(first.stdout).toContain(`M2M token: fetched from http://localhost:${port}/oauth/token (HTTP 200`);
  expect(first.stdout).toContain(`addUser: HTTP 200`);
  expect(first.stdout).toContain(`at http://localhost:${port}/graphql`);
  expect(first.stdout).toContain('postgres-sync: created google-oauth2|');
  expect(first.stdout).toContain('app_metadata.postgres_sync_provisioned set to true');

  const second = await simulate(tenant, '--connection', 'google-oauth2', '--email', 'ada@example.com');
  expect(second.code).toBe(0);
  expect(second.stdout).toContain('login #2');
  expect(second.stdout).toContain('already provisioned (app_metadata.postgres_sync_provisioned = true): the Action made no call');

  const rows = await withClient(database.url, async (client) => (await client.query(`SELECT email, name, connection FROM users WHERE email = 'ada@example.com'`)).rows);
  expect(rows).toEqual([{ email: 'ada@example.com', name: 'Ada', connection: 'google-oauth2' }]);
});

it('a second person signing up in the same tenant reuses the cached M2M token', async () => {
  const tenant = newTenant();
  const first = await simulate(tenant, '--connection', 'google-oauth2', '--email', 'lin@example.com');
  expect(first.stdout).toContain('M2M token: fetched from');
  const second = await simulate(tenant, '--connection', 'Username-Password-Authentication', '--email', 'grace@example.com');
  expect(second.code).toBe(0);
  expect(second.stdout).toContain('M2M token: taken from the Action cache (no request)');
  expect(second.stdout).toContain('postgres-sync: created auth0|');
});

it('after the server moves to another port, the first login fetches a token for the new issuer instead of reusing the old one', async () => {
  const tenant = newTenant();
  const before = await simulate(tenant, '--email', 'moss@example.com');
  expect(before.stdout).toContain(`M2M token: fetched from http://localhost:${port}/oauth/token`);

  // The same issuer key, served on another port: another issuer URL, so in Auth0 terms another tenant.
  const movedDir = path.join(dir, 'moved-issuer');
  fs.mkdirSync(movedDir);
  fs.copyFileSync(path.join(issuerDir, 'issuer.json'), path.join(movedDir, 'issuer.json'));
  const movedPort = await freePort();
  const moved = startServerProcess({ PORT: String(movedPort), DATABASE_URL: database.url, DEV_ISSUER_DIR: movedDir });
  try {
    await moved.waitForOutput(/GraphQL API ready/);
    const after = await cli('src/cli/login-simulate.ts', ['--state', tenant, '--email', 'rhea@example.com'], cliEnv({ DEV_ISSUER_DIR: movedDir }));
    expect(after.stdout).toContain(`M2M token: fetched from http://localhost:${movedPort}/oauth/token (HTTP 200`);
    expect(after.stdout).toContain('addUser: HTTP 200');
    expect(after.code).toBe(0);
  } finally {
    moved.signal('SIGTERM');
    await moved.exited;
  }
  // Back on the first port, that tenant's cache still holds its own token.
  const back = await simulate(tenant, '--email', 'ines@example.com');
  expect(back.stdout).toContain('M2M token: taken from the Action cache (no request)');
  expect(back.code).toBe(0);
});

it('ends with two commands that show the new user over GraphQL, which run as printed', async () => {
  const result = await simulate(newTenant(), '--email', 'hedy@example.com', '--name', 'Hedy Lamarr');
  expect(result.code).toBe(0);
  const lines = result.stdout.split('\n');
  const seeAt = lines.indexOf('See this user over GraphQL, as themselves:');
  expect(seeAt).toBeGreaterThan(0);
  const commands = lines.slice(seeAt + 1, seeAt + 3).map((line) => line.trim());
  expect(commands[0]).toMatch(/^TOKEN=\$\(npm run -s token -- --user 'google-oauth2\|[0-9a-f]{24}'\)$/);
  expect(commands[1]).toContain(`curl -s 'http://localhost:${port}/graphql'`);

  // Pasted into a shell that knows nothing of the server's port, as a newcomer would.
  const { stdout } = await run('bash', ['-c', commands.join('\n')], { cwd: ROOT, env: cliEnv() });
  expect(JSON.parse(stdout)).toMatchObject({ data: { me: { email: 'hedy@example.com', name: 'Hedy Lamarr', connection: 'google-oauth2', loginsCount: 1 } } });
});

it('exits 1 and says so when the Action could not provision the user', async () => {
  const closed = await freePort();
  const result = await simulate(newTenant(), '--email', 'kay@example.com', '--api-url', `http://127.0.0.1:${closed}/graphql`);
  expect(result.code).toBe(1);
  expect(result.stdout).toContain('app_metadata.postgres_sync_provisioned not set: the next login will try again');
  const rows = await withClient(database.url, async (client) => (await client.query(`SELECT 1 FROM users WHERE email = 'kay@example.com'`)).rowCount);
  expect(rows).toBe(0);
});

it('with no server running for its issuer directory, says to start one and exits 1 without calling anything', async () => {
  const elsewhere = await cli('src/cli/login-simulate.ts', ['--state', newTenant(), '--email', 'nobody@example.com'], cliEnv({ DEV_ISSUER_DIR: path.join(dir, 'no-server') }));
  expect(elsewhere.code).toBe(1);
  expect(elsewhere.stderr).toMatch(/^No local server is running for .*no-server: start it with npm start/);
  expect(elsewhere.stdout).toBe('');
});

it('npm run token mints for the running server, whatever PORT the shell has', async () => {
  const { stdout: token, stderr, code } = await cli('src/cli/token.ts', ['--machine', '--scope', 'create:users']);
  expect(code).toBe(0);
  expect(stderr).toBe('');
  const response = await fetch(`http://localhost:${port}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation ($input: AddUserInput!) { addUser(input: $input) { created } }', variables: { input: { auth0Id: 'google-oauth2|token-cli' } } }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ data: { addUser: { created: true } } });
});

it('a token for another port gets a 401 that names the issuer this server expects', async () => {
  const otherPort = String(await freePort());
  const { stdout: token } = await cli('src/cli/token.ts', ['--machine'], { ...cliEnv(), PORT: otherPort });
  const response = await fetch(`http://localhost:${port}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(response.status).toBe(401);
  const body = (await response.json()) as { errors: Array<{ message: string }> };
  expect(body.errors[0]?.message).toBe(
    `Unexpected 'iss' value: this server's issuer is http://localhost:${port}/ (mint tokens with npm run token while it runs, or give both the same PORT)`,
  );
});

it('once the server has stopped, its published address is withdrawn', async () => {
  const stoppedDir = path.join(dir, 'stopped-issuer');
  const otherPort = await freePort();
  const other = startServerProcess({ PORT: String(otherPort), DATABASE_URL: database.url, DEV_ISSUER_DIR: stoppedDir });
  await other.waitForOutput(/GraphQL API ready/);
  const record = path.join(stoppedDir, 'servers', `${otherPort}.json`);
  expect(fs.existsSync(record)).toBe(true);
  other.signal('SIGTERM');
  expect(await other.exited).toBe(0);
  expect(fs.existsSync(record)).toBe(false);
});

describe('through the legacy custom database connection', () => {
  const seed = () => cli('src/cli/legacy-seed.ts', []);

  it('legacy:seed prints users and passwords; the first login runs the Login script and ends on the linked row; the second runs no script', async () => {
    const seeded = await seed();
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toContain('margaret@legacy.example    password: "apollo-11-guidance"');
    expect((await seed()).stdout).toContain('(0 added now');

    const tenant = newTenant();
    const wrong = await simulate(tenant, '--connection', 'legacy-db', '--email', 'katherine@legacy.example', '--password', 'nope');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('login FAILED: wrong email or password (WrongUsernameOrPasswordError)');

    const first = await simulate(tenant, '--connection', 'legacy-db', '--email', 'katherine@legacy.example', '--password', 'orbital mechanics ✓');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('no legacy-db user with this email, so Auth0 runs actions/custom-db/login.js');
    expect(first.stdout).toMatch(/Login script: POST http:\/\/localhost:\d+\/graphql -> HTTP 200/);
    expect(first.stdout).toContain('Auth0 created auth0|legacy-1002');
    expect(first.stdout).toContain('postgres-sync: updated auth0|legacy-1002');
    expect(first.stdout).toMatch(/our database: row [0-9a-f-]{36} is auth0\|legacy-1002 \(legacy id legacy-1002\), linked at .*, legacy hash erased; transactions: 25 EUR/);

    const second = await simulate(tenant, '--connection', 'legacy-db', '--email', 'katherine@legacy.example', '--password', 'orbital mechanics ✓');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('auth0|legacy-1002 is already an Auth0 user; Auth0 checked the password itself, the Login script was not called');
    expect(second.stdout).not.toContain('Login script:');

    const rows = await withClient(database.url, async (client) => (await client.query(`SELECT auth0_id, password_hash, migrated_at IS NOT NULL AS linked FROM users WHERE email = 'katherine@legacy.example'`)).rows);
    expect(rows).toEqual([{ auth0_id: 'auth0|legacy-1002', password_hash: null, linked: true }]);
  });
});
