// The embedded Postgres' data directory: one left running by a dead server, one locked by a live one, one damaged.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isAlive, parentPid } from '../src/db/postmaster';
import { freePort } from './support/free-port';
import { ROOT, startServerProcess } from './support/server-process';
import { expectEverythingStopped, postgresPidOf } from './support/stopped';

// Each test starts real servers and Postgres; on a loaded 2-core machine one start takes tens of seconds.
const PROCESS_TEST_TIMEOUT_MS = 240_000;

const run = promisify(execFile);

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-dir-'));
  // The `postgres` user writes the data directory when the tests run as root.
  fs.chmodSync(root, 0o777);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function serverEnv(dataDir: string): Promise<Record<string, string>> {
  return {
    PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_DIR: dataDir,
    DEV_ISSUER_DIR: path.join(root, 'issuer'),
  };
}

describe('the embedded data directory', () => {
  it('a Postgres left running by a killed server is stopped by the next start, which runs and stops its own', async () => {
    const dataDir = path.join(root, 'postgres');
    const env = await serverEnv(dataDir);
    const killed = startServerProcess(env);
    let orphan: number;
    try {
      await killed.waitForOutput(/GraphQL API ready/, 120_000);
      orphan = await postgresPidOf(dataDir);
      killed.signal('SIGKILL');
      await killed.exited;
    } finally {
      killed.signal('SIGKILL');
    }
    // What a crash or an OOM kill leaves: a Postgres that nobody will stop.
    expect(isAlive(orphan)).toBe(true);
    expect(parentPid(orphan)).not.toBe(killed.child.pid);

    const next = startServerProcess({ ...env, PORT: String(await freePort()) });
    try {
      await next.waitForOutput(/GraphQL API ready/, 120_000);
      expect(next.output()).toContain(`"postgresPid":${orphan}`);
      expect(next.output()).toContain('stopping the embedded postgres left running on this data directory by a process that is gone');
      expect(isAlive(orphan)).toBe(false);
      const own = await postgresPidOf(dataDir);
      expect(parentPid(own)).toBe(next.child.pid);
      next.signal('SIGTERM');
      expect(await next.exited).toBe(0);
      await expectEverythingStopped({ nodePid: next.child.pid!, postgresPid: own, dataDir, port: Number(env.PORT) });
    } finally {
      next.signal('SIGKILL');
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('a command with another EMBEDDED_POSTGRES_PORT beside the running server names the lock, its PID and its port', async () => {
    const dataDir = path.join(root, 'postgres');
    const env = await serverEnv(dataDir);
    const server = startServerProcess(env);
    try {
      await server.waitForOutput(/GraphQL API ready/, 120_000);
      const postgresPid = await postgresPidOf(dataDir);
      const otherPort = String(await freePort());
      const seeding = run(process.execPath, ['--import', 'tsx', 'src/cli/seed.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env, EMBEDDED_POSTGRES_PORT: otherPort, LOG_PRETTY: 'false' },
      });
      const failure = await seeding.then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(`The embedded Postgres data directory ${dataDir} is locked by the Postgres running on it: PID ${postgresPid}, port ${env.EMBEDDED_POSTGRES_PORT}`);
      expect(failure?.stderr).toContain(`EMBEDDED_POSTGRES_PORT here is ${otherPort}`);
      expect(failure?.stderr).not.toMatch(/another (server|program) (is )?us(ing|es) that port/i);
      // The server's Postgres is untouched.
      expect(isAlive(postgresPid)).toBe(true);
      server.signal('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.signal('SIGKILL');
    }
  }, PROCESS_TEST_TIMEOUT_MS);

  it('a damaged data directory (PG_VERSION missing) stops start-up with one message, and nothing in it changes', async () => {
    const dataDir = path.join(root, 'damaged');
    fs.mkdirSync(path.join(dataDir, 'base', '1'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'base', '1', '1259'), 'table data');
    fs.writeFileSync(path.join(dataDir, 'postgresql.conf'), '# settings\n');
    const before = listTree(dataDir);

    const server = startServerProcess(await serverEnv(dataDir));
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain(`The embedded Postgres data directory ${dataDir} is damaged`);
    expect(server.output()).toContain('no PG_VERSION file');
    expect(server.output()).not.toMatch(/remove|delete|empty the directory|initdb/i);
    expect(server.output()).not.toMatch(/\n\s+at /);
    expect(listTree(dataDir)).toEqual(before);
    expect(fs.readdirSync(root).filter((name) => name.startsWith('damaged.initdb'))).toEqual([]);
  }, PROCESS_TEST_TIMEOUT_MS);
});

function listTree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort().map((name) => {
    const stat = fs.statSync(path.join(dir, name));
    return `${name} ${stat.isFile() ? fs.readFileSync(path.join(dir, name), 'utf8') : 'dir'}`;
  });
}
