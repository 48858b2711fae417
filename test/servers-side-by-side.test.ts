// Two servers of one checkout side by side: stopping one leaves the other findable, a busy port is said in one line.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isAlive } from '../src/db/postmaster';
import { freePort } from './support/free-port';
import { ROOT, startServerProcess, type ServerProcess } from './support/server-process';
import { nodePidIn, postgresPidOf } from './support/stopped';

const run = promisify(execFile);
// Real servers on a real embedded Postgres; the first start runs initdb (tens of seconds on a loaded machine).
const TIMEOUT_MS = 240_000;

let dir: string;
let first: ServerProcess;
let firstPid: number;
let env: { PORT: string; EMBEDDED_POSTGRES_PORT: string; EMBEDDED_POSTGRES_DIR: string; DEV_ISSUER_DIR: string };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'side-by-side-'));
  // The `postgres` user writes the data directory when the tests run as root.
  fs.chmodSync(dir, 0o777);
  env = {
    PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_DIR: path.join(dir, 'postgres'),
    DEV_ISSUER_DIR: path.join(dir, 'issuer'),
  };
  first = startServerProcess(env);
  await first.waitForOutput(/GraphQL API ready/, 180_000);
  firstPid = nodePidIn(first.output());
}, TIMEOUT_MS);

afterAll(async () => {
  first.signal('SIGTERM');
  await first.exited;
  fs.rmSync(dir, { recursive: true, force: true });
});

// A shell that knows nothing of the servers' PORT, unless told.
async function cli(script: string, args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const cliEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env, ...extra };
  if (!extra.PORT) delete cliEnv.PORT;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: cliEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function viewerKind(token: string): Promise<number> {
  const response = await fetch(`http://localhost:${env.PORT}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token.trim()}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ viewer { kind } }' }),
  });
  return response.status;
}

describe('a second server on another port, then a SIGTERM to it', () => {
  it('withdraws only its own record: the commands still find the first server, with or without its PORT', async () => {
    const secondPort = String(await freePort());
    const second = startServerProcess({ ...env, PORT: secondPort });
    try {
      await second.waitForOutput(/GraphQL API ready/, 120_000);
      second.signal('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      second.signal('SIGKILL');
    }

    const withoutPort = await cli('src/cli/token.ts', ['--machine']);
    expect(withoutPort.code).toBe(0);
    expect(await viewerKind(withoutPort.stdout)).toBe(200);

    for (const extra of [{}, { PORT: env.PORT }] as Array<Record<string, string>>) {
      // A fresh simulated tenant each time: the first login is the one that calls the server.
      const tenant = path.join(fs.mkdtempSync(path.join(dir, 'tenant-')), 'tenant.json');
      const login = await cli('src/cli/login-simulate.ts', ['--state', tenant, '--connection', 'google-oauth2', '--email', 'ada@example.com'], extra);
      expect(login.stderr).not.toContain('No local server is running');
      expect(login.stdout).toContain(`at http://localhost:${env.PORT}/graphql`);
      expect(login.code).toBe(0);
    }
  }, TIMEOUT_MS);
});

describe('a command told a PORT where no server runs', () => {
  it('names the ports where servers of this issuer directory do run', async () => {
    const unused = String(await freePort());
    const login = await cli('src/cli/login-simulate.ts', ['--state', path.join(dir, 'unused-tenant.json'), '--email', 'nobody@example.com'], { PORT: unused });
    expect(login.code).toBe(1);
    expect(login.stderr).toContain(`No local server is running on port ${unused} for ${path.relative(ROOT, env.DEV_ISSUER_DIR)}; servers run on port ${env.PORT}: set PORT to one of them, or unset it.`);
  }, TIMEOUT_MS);
});

describe('a second server on the same port', () => {
  it('says in one line that the port is taken, by which server of ours, and what to set; exits 1 and leaves the first server and its Postgres running', async () => {
    const postgresPid = await postgresPidOf(env.EMBEDDED_POSTGRES_DIR);
    // Same data directory: it joins the first server's Postgres, as a command run beside it does.
    const second = startServerProcess(env);
    try {
      expect(await second.exited).toBe(1);
    } finally {
      second.signal('SIGKILL');
    }
    const said = second.output().split('\n').filter((line) => /EADDRINUSE|in use|^\s+at /i.test(line));
    expect(said).toEqual([
      `Port ${env.PORT} is already in use, by process ${firstPid}: a server of ours (http://localhost:${env.PORT}/graphql). Stop it, or set PORT to another port (PORT=${Number(env.PORT) + 1} npm start).`,
    ]);
    expect(isAlive(postgresPid)).toBe(true);
    expect((await fetch(`http://localhost:${env.PORT}/readyz`)).status).toBe(200);
  }, TIMEOUT_MS);

  it('with a Postgres of its own, stops that Postgres before exiting 1', async () => {
    const ownDir = path.join(dir, 'own-postgres');
    const second = startServerProcess({ ...env, EMBEDDED_POSTGRES_DIR: ownDir, EMBEDDED_POSTGRES_PORT: String(await freePort()) });
    try {
      expect(await second.exited).toBe(1);
    } finally {
      second.signal('SIGKILL');
    }
    expect(second.output()).toContain(`Port ${env.PORT} is already in use, by process ${firstPid}`);
    expect(second.output()).toContain('embedded postgres is ready');
    expect(fs.existsSync(path.join(ownDir, 'postmaster.pid'))).toBe(false);
  }, TIMEOUT_MS);
});
