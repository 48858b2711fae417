// `npm run -s db:url` and `npm run db:psql`: reaching the embedded Postgres, whose password lives only under .data/.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './support/free-port';
import { ROOT, startServerProcess, type ServerProcess } from './support/server-process';

const run = promisify(execFile);

let root: string;
let server: ServerProcess;
let env: Record<string, string>;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'db-url-'));
  // The `postgres` user writes the data directory when the tests run as root.
  fs.chmodSync(root, 0o777);
  // Only what a newcomer's shell has: no DATABASE_URL, so the server runs its embedded Postgres.
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    LOG_PRETTY: 'false',
    EMBEDDED_POSTGRES_DIR: path.join(root, 'postgres'),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    DEV_ISSUER_DIR: path.join(root, 'issuer'),
  };
  server = startServerProcess({ ...env, PORT: String(await freePort()) });
  await server.waitForOutput(/GraphQL API ready/);
});

afterAll(async () => {
  server.signal('SIGTERM');
  await server.exited;
  fs.rmSync(root, { recursive: true, force: true });
});

async function cli(script: string, args: string[], overrides: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...env, ...overrides } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

it('db:url prints only the running embedded Postgres\'s URL, which connects to the migrated app database', async () => {
  const { code, stdout, stderr } = await cli('src/cli/db-url.ts', []);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/app\n$/);
  expect(stderr).not.toContain(new URL(stdout.trim()).password);
  const client = new Client({ connectionString: stdout.trim() });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT to_regclass('public.users') IS NOT NULL AS migrated`);
    expect(rows).toEqual([{ migrated: true }]);
  } finally {
    await client.end();
  }
});

it('db:psql opens psql on that database and passes its options through', async () => {
  const { code, stdout } = await cli('src/cli/db-psql.ts', ['-At', '-c', 'SELECT current_database(), current_user']);
  expect(code).toBe(0);
  expect(stdout).toBe('app|postgres\n');
});

it('db:psql without psql on PATH says how to get it and exits 1', async () => {
  const { code, stdout, stderr } = await cli('src/cli/db-psql.ts', ['-c', 'SELECT 1'], { PATH: path.join(root, 'empty-path') });
  expect(code).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toMatch(/^psql is not on PATH: install the PostgreSQL client .* or give your own client the URL that npm run -s db:url prints\.\n$/);
});

it('with no embedded Postgres running, db:url says to start the server, prints nothing on stdout and exits 1', async () => {
  const { code, stdout, stderr } = await cli('src/cli/db-url.ts', [], { EMBEDDED_POSTGRES_DIR: path.join(root, 'never-started') });
  expect(code).toBe(1);
  expect(stdout).toBe('');
  expect(stderr).toContain('No embedded Postgres is running on');
  expect(stderr).toContain('start the server first (npm start, in another terminal), or set DATABASE_URL.');
});
