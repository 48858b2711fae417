// SIGTERM, SIGINT or SIGHUP to `npm start` or to its node process, at any moment, stops the server and its embedded Postgres.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAlive, parentPid } from '../src/db/postmaster';
import { freePort } from './support/free-port';
import { startManagementApi } from './support/management-api';
import { ROOT, startNpmScript, type ServerProcess } from './support/server-process';
import { expectEverythingStopped, nodePidIn, postgresPidOf } from './support/stopped';
import { waitUntil } from './support/wait-until';

// Each test starts real servers and Postgres; on a loaded 2-core machine one start takes tens of seconds.
const PROCESS_TEST_TIMEOUT_MS = 240_000;

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'signals-'));
  // The `postgres` user writes the data directory when the tests run as root.
  fs.chmodSync(root, 0o777);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// One data directory for the whole file (tests in a file run one after the other): initdb once.
interface StartEnv {
  PORT: string;
  EMBEDDED_POSTGRES_PORT: string;
  EMBEDDED_POSTGRES_DIR: string;
  DEV_ISSUER_DIR: string;
}

/** A SIGTERM to npm (node being its child, Postgres node's) ends npm with 0, then node and Postgres, which removes its postmaster.pid. */
async function expectSigtermToNpmStopsAll(npm: ServerProcess, dataDir: string): Promise<void> {
  const postgresPid = await postgresPidOf(dataDir);
  const nodePid = parentPid(postgresPid)!;
  expect(parentPid(nodePid)).toBe(npm.child.pid);

  npm.signal('SIGTERM');
  expect(await npm.exited).toBe(0);
  await waitUntil(async () => !isAlive(nodePid) && !isAlive(postgresPid), 60_000);
  expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
}

async function startEnv(dataDir = path.join(root, 'postgres')): Promise<StartEnv> {
  return {
    PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_DIR: dataDir,
    DEV_ISSUER_DIR: path.join(root, 'issuer'),
  };
}

async function npmStart(dataDir?: string): Promise<{ npm: ServerProcess; env: StartEnv }> {
  const env = await startEnv(dataDir);
  return { npm: startNpmScript('start', { ...env }), env };
}

/** The process group of `pid` (the fifth field of /proc/<pid>/stat). */
function processGroupOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** addUser with a token from the dev issuer's client-credentials exchange (the dev client's credentials are in its directory). */
async function addUserThroughDevClient(env: StartEnv): Promise<void> {
  const { client } = JSON.parse(fs.readFileSync(path.join(env.DEV_ISSUER_DIR, 'issuer.json'), 'utf8')) as { client: { id: string; secret: string } };
  const base = `http://localhost:${env.PORT}`;
  const tokenResponse = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret, audience: 'https://auth0-postgres-sync.local/api' }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation { addUser(input: { auth0Id: "google-oauth2|ctrl-c" }) { user { auth0Id } } }' }),
  });
  expect(await response.json()).toEqual({ data: { addUser: { user: { auth0Id: 'google-oauth2|ctrl-c' } } } });
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('stops node and its embedded Postgres on a %s to the npm process', async (signal) => {
    const { npm, env } = await npmStart();
    try {
      await npm.waitForOutput(/GraphQL API ready/, 120_000);
      const nodePid = nodePidIn(npm.output());
      const postgresPid = await postgresPidOf(env.EMBEDDED_POSTGRES_DIR);
      // npm's script execs node: no shell in between to swallow the signal.
      expect(parentPid(nodePid)).toBe(npm.child.pid);

      npm.signal(signal);
      await npm.exited;
      await expectEverythingStopped({ nodePid, postgresPid, dataDir: env.EMBEDDED_POSTGRES_DIR, port: Number(env.PORT) });
      await waitUntil(async () => /"msg":"stopped"/.test(npm.output()));
    } finally {
      npm.signal('SIGKILL');
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('on Ctrl-C in a terminal (SIGINT to npm, node and Postgres at once) stops everything and says nothing alarming', async () => {
    const env = await startEnv();
    // npm leads a process group of its own, as a terminal's foreground job does.
    const npm = startNpmScript('start', { ...env }, [], { ownProcessGroup: true });
    try {
      await npm.waitForOutput(/GraphQL API ready/, 120_000);
      const nodePid = nodePidIn(npm.output());
      const postgresPid = await postgresPidOf(env.EMBEDDED_POSTGRES_DIR);
      // The postmaster and its children are in npm's group: the terminal's SIGINT reaches them too.
      expect(processGroupOf(postgresPid)).toBe(npm.child.pid);
      // A request first, as in a real session: the pool then holds idle connections when Postgres stops.
      await addUserThroughDevClient(env);

      const before = npm.output().length;
      npm.signalGroup('SIGINT');
      expect(await npm.exited).toBe(0);
      await expectEverythingStopped({ nodePid, postgresPid, dataDir: env.EMBEDDED_POSTGRES_DIR, port: Number(env.PORT) });
      await waitUntil(async () => /"msg":"stopped"/.test(npm.output()));
      const afterSignal = npm.output().slice(before);
      expect(afterSignal).toMatch(/"reason":"SIGINT","msg":"shutting down"/);
      expect(afterSignal).not.toMatch(/57P01|idle database connection failed|already shutting down|"level":(40|50|60)/);
    } finally {
      npm.signal('SIGKILL');
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('stops everything on a SIGHUP to its node process (a closed terminal), and npm exits 0', async () => {
    const { npm, env } = await npmStart();
    try {
      await npm.waitForOutput(/GraphQL API ready/, 120_000);
      const nodePid = nodePidIn(npm.output());
      const postgresPid = await postgresPidOf(env.EMBEDDED_POSTGRES_DIR);

      process.kill(nodePid, 'SIGHUP');
      expect(await npm.exited).toBe(0);
      await expectEverythingStopped({ nodePid, postgresPid, dataDir: env.EMBEDDED_POSTGRES_DIR, port: Number(env.PORT) });
      expect(npm.output()).toMatch(/"reason":"SIGHUP","msg":"shutting down"/);
    } finally {
      npm.signal('SIGKILL');
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('stops the Postgres it is starting on a SIGINT to node during start-up', async () => {
    const { npm, env } = await npmStart();
    try {
      // postmaster.pid appears as Postgres starts, before the server listens.
      const postgresPid = await postgresPidOf(env.EMBEDDED_POSTGRES_DIR);
      // npm's script execs node, which spawned Postgres: the postmaster's parent is node.
      const nodePid = parentPid(postgresPid)!;
      expect(parentPid(nodePid)).toBe(npm.child.pid);
      process.kill(nodePid, 'SIGINT');
      expect(await npm.exited).toBe(0);
      await expectEverythingStopped({ nodePid, postgresPid, dataDir: env.EMBEDDED_POSTGRES_DIR, port: Number(env.PORT) });
    } finally {
      npm.signal('SIGKILL');
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('leaves no half-made data directory when stopped during its first initdb, and the next start initialises it', async () => {
    const dataDir = path.join(root, 'fresh-postgres');
    const first = await npmStart(dataDir);
    try {
      await first.npm.waitForOutput(/initialising embedded postgres/, 120_000);
      const nodePid = nodePidIn(first.npm.output());
      first.npm.signal('SIGTERM');
      await first.npm.exited;
      await expectEverythingStopped({ nodePid, dataDir, port: Number(first.env.PORT) });
      expect(fs.readdirSync(root).filter((name) => name.startsWith('fresh-postgres') && !name.endsWith('.json'))).toEqual([]);
    } finally {
      first.npm.signal('SIGKILL');
    }

    const second = await npmStart(dataDir);
    try {
      await second.npm.waitForOutput(/GraphQL API ready/, 120_000);
      second.npm.signal('SIGTERM');
      expect(await second.npm.exited).toBe(0);
    } finally {
      second.npm.signal('SIGKILL');
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});

describe('npm run users:reconcile -- --watch', () => {
  it('on its own embedded Postgres, stops its round, then that Postgres, on a SIGTERM to npm', async () => {
    const mgmt = await startManagementApi();
    const dataDir = path.join(root, 'postgres');
    const npm = startNpmScript(
      'users:reconcile',
      {
        EMBEDDED_POSTGRES_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        ...mgmt.env,
        AUTH0_AUDIENCE: 'https://api.example.com/',
        RECONCILE_INTERVAL_MS: '600000',
      },
      ['--watch'],
    );
    try {
      await npm.waitForOutput(/reconciled 0 users/, 120_000);
      await expectSigtermToNpmStopsAll(npm, dataDir);
      expect(npm.output()).toContain('stopped');
    } finally {
      npm.signal('SIGKILL');
      await mgmt.close();
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});

describe('npm run users:push', () => {
  it('on its own embedded Postgres, stops that Postgres on a SIGTERM to npm during start-up', async () => {
    const mgmt = await startManagementApi();
    const dataDir = path.join(root, 'push-postgres');
    const npm = startNpmScript('users:push', {
      EMBEDDED_POSTGRES_DIR: dataDir,
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      ...mgmt.env,
      AUTH0_AUDIENCE: 'https://api.example.com/',
    });
    try {
      // postmaster.pid appears as Postgres starts, before the pass begins.
      await expectSigtermToNpmStopsAll(npm, dataDir);
    } finally {
      npm.signal('SIGKILL');
      await mgmt.close();
    }
  }, PROCESS_TEST_TIMEOUT_MS);
});

describe('package.json', () => {
  it('every script that runs our code execs node, so that the signals npm forwards reach node instead of a shell that ignores them', () => {
    const { scripts } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    // Build steps that finish by themselves are not long-running.
    const buildSteps = new Set(['generate', 'postinstall', 'prestart', 'build', 'typecheck', 'pretest']);
    const running = Object.entries(scripts).filter(([name, command]) => !buildSteps.has(name) && /\bnode\b/.test(command));
    expect(running.map(([name]) => name)).toEqual(expect.arrayContaining(['start', 'start:dist', 'tunnel', 'users:reconcile', 'db:seed']));
    expect(running.filter(([, command]) => !command.startsWith('exec node '))).toEqual([]);
  }, PROCESS_TEST_TIMEOUT_MS);
});
